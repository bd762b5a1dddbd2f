"""Feed health through the editor's commands, against a real HTTP server on
loopback: a feed failing again and again goes into quarantine (`invoke
aggregate`), and `invoke feeds-check` finds dead and moved feeds and, when
asked, writes permanent redirects into feeds.toml as the editor wrote it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import build_site
from feedserver import FeedServer
from lxml import html
from test_community_aggregate import _invoke, subscribe

from community.cache import Cache, state_from_json
from community.subscriptions import apply_moves

QUARANTINE_AFTER = 3


@pytest.fixture
def server():
    with FeedServer().running() as feeds:
        yield feeds


def settings_file(tmp_path: Path, **settings: object) -> Path:
    """A settings file for `invoke ... --settings`: the feeds.toml of
    ``subscribe`` and a cache in ``tmp_path``."""
    conf = tmp_path / "conf.py"
    lines = [
        'PATH = "content"',
        'SITENAME = "Officine Ardesia"',
        'COMMUNITY_CACHE_DIR = "cache"',
        "COMMUNITY_TIMEOUT = 2",
        *(f"{key} = {value!r}" for key, value in settings.items()),
    ]
    conf.write_text("\n".join(lines) + "\n")
    return conf


def flat(text: str) -> str:
    """Terminal output with rich's line breaks and padding folded away."""
    return " ".join(text.split())


def a_day_passes(cache: Cache) -> None:
    """Move every time the cache remembers a day back, as if the runs so far
    had happened yesterday."""
    day = timedelta(days=1)
    for path in sorted((cache.root / "state").glob("*.json")):
        state = state_from_json(json.loads(path.read_text()))
        times = {
            name: getattr(state, name) - day
            for name in (
                "last_attempt",
                "last_success",
                "last_error_at",
                "next_attempt",
                "failing_since",
            )
            if getattr(state, name) is not None
        }
        cache.save_state(path.stem, replace(state, **times))


# --- Quarantine ------------------------------------------------------------------


def test_a_feed_failing_again_and_again_is_quarantined_shown_and_let_out(
    tmp_path, server
):
    down = server.route("/officina", status=500, body=b"boom")
    feeds = subscribe(
        tmp_path,
        {"name": "Good RSS", "url": server.fixture("/good", "rss2.xml")},
        {"name": "Officina Rossi", "url": down},
    )
    # No backoff between runs, so each run tries the failing feed.
    conf = settings_file(
        tmp_path, COMMUNITY_BACKOFF=0, COMMUNITY_QUARANTINE_AFTER=QUARANTINE_AFTER
    )
    cache = Cache(tmp_path / "cache")
    for run in range(1, QUARANTINE_AFTER + 1):
        proc = _invoke("aggregate", "--settings", str(conf))
        assert proc.returncode == 0, proc.stderr
        assert server.hits["/officina"] == run
        quarantined = cache.load_state("officina-rossi", down).quarantined
        assert quarantined is (run == QUARANTINE_AFTER)
    assert f"in quarantine after {QUARANTINE_AFTER} errors in a row" in flat(
        proc.stdout
    )
    state = cache.load_state("officina-rossi", down)
    assert state.failures == QUARANTINE_AFTER and "HTTP 500" in state.last_error
    since = state.failing_since
    assert since is not None and since <= state.last_attempt

    # The same day it is not fetched again, and the table says why.
    proc = _invoke("aggregate", "--settings", str(conf))
    assert proc.returncode == 0, proc.stderr
    assert server.hits["/officina"] == QUARANTINE_AFTER
    assert server.hits["/good"] == QUARANTINE_AFTER + 1
    assert (
        f"in quarantine ({QUARANTINE_AFTER} errors in a row since "
        f"{since:%Y-%m-%d %H:%M} UTC)" in flat(proc.stdout)
    )

    # The status page lists it first, with its last error and since when.
    output = build_site(
        tmp_path / "output",
        COMMUNITY_FEEDS_FILE=str(feeds),
        COMMUNITY_CACHE_DIR=str(cache.root),
    )
    root = html.parse(str(output / "comunita" / "stato" / "index.html")).getroot()
    first = root.cssselect("tbody tr")[0]
    assert "community-status__row--quarantined" in first.get("class")
    assert first.cssselect("th a")[0].text_content() == "Officina Rossi"
    cells = first.cssselect("td")
    assert "In quarantena" in cells[0].text_content()
    (when,) = cells[0].cssselect(".community-status__quarantine time")
    assert when.get("datetime") == since.isoformat()
    assert "HTTP 500" in cells[2].text_content()

    # A day later it is tried again; it works, and it is out of quarantine.
    a_day_passes(cache)
    server.fixture("/officina", "rss2.xml")
    proc = _invoke("aggregate", "--settings", str(conf))
    assert proc.returncode == 0, proc.stderr
    assert server.hits["/officina"] == QUARANTINE_AFTER + 1
    state = cache.load_state("officina-rossi", down)
    assert not state.quarantined
    assert (state.failures, state.failing_since) == (0, None)
    assert state.entries_held == 3


# --- feeds-check ---------------------------------------------------------------------

FEEDS_TOML = """\
# Community feeds: one [[feeds]] table per feed.

[[feeds]]
name = "Officina Rossi"
url = "{good}"

# Moved twice: 301 then 308. Keep this comment.
[[feeds]]
name = "Lake Riders"
url = '{chain}'   # their old blog
lang = "en"

[[feeds]]
name = "Half moved"
url = "{mixed}"

[[feeds]]
name = "Today only"
url = "{temporary}"

[[feeds]]
name = "Gone"
url = "{gone}"

[[feeds]]
name = "Nobody home"
url = "http://127.0.0.1:9/feed"

[[feeds]]
name = "Missing"
url = "{missing}"

[[feeds]]
name = "Just a page"
url = "{page}"
"""


def serve_check_feeds(server) -> dict[str, str]:
    new = server.fixture("/lake/feed.atom", "atom.xml")
    server.redirect("/lake/rss", new, status=308)
    server.fixture("/today.xml", "rss1.xml")
    server.redirect("/mixed/now", server.url("/today.xml"), status=302)
    return {
        "good": server.fixture("/rossi.xml", "rss2.xml"),
        "chain": server.redirect("/old/rss", server.url("/lake/rss"), status=301),
        "new": new,
        "mixed": server.redirect("/mixed/feed", server.url("/mixed/now"), 301),
        "temporary": server.redirect("/temp", server.url("/today.xml"), status=302),
        "gone": server.route("/gone", status=410, body=b"gone"),
        "missing": server.route("/missing", status=404, body=b"no"),
        "page": server.fixture("/page", "not-a-feed.html"),
    }


@pytest.fixture
def checked_site(tmp_path, server) -> tuple[dict[str, str], Path, Path]:
    """The served feeds' URLs, a feeds.toml listing them, a settings file."""
    urls = serve_check_feeds(server)
    feeds = subscribe(tmp_path)
    feeds.write_text(FEEDS_TOML.format(**urls))
    return urls, feeds, settings_file(tmp_path)


def rows(out: str) -> dict[str, str]:
    """The check table's rows, by feed name (each row's text, flattened)."""
    found: dict[str, str] = {}
    current = None
    for raw in out.splitlines():
        line = raw.strip()
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line[1:-1].split("│")]
        if cells[0] and cells[1]:
            current = cells[0]
            found[current] = ""
        if current:
            found[current] += " " + " ".join(cells)
    return {name: flat(text) for name, text in found.items()}


def test_feeds_check_lists_dead_and_moved_feeds_and_writes_nothing_unasked(
    checked_site, server, tmp_path
):
    urls, feeds, conf = checked_site
    before = feeds.read_text()

    proc = _invoke("feeds-check", "--settings", str(conf))
    assert proc.returncode == 1, proc.stderr
    found = rows(proc.stdout)
    assert "Officina Rossi" not in found  # fine: not listed
    assert found["Gone"].startswith("Gone") and " dead 410 " in found["Gone"]
    assert " dead " in found["Nobody home"] and "cannot connect" in found["Nobody home"]
    assert " dead 404 " in found["Missing"]
    assert (
        " dead " in found["Just a page"]
        and "not an RSS or Atom feed" in (found["Just a page"])
    )
    # The chain is followed to its end, each hop shown.
    lake = found["Lake Riders"]
    assert " moved 200 " in lake and f"moved permanently to {urls['new']}" in lake
    assert f"301 -> {server.url('/lake/rss')}" in lake and f"308 -> {urls['new']}" in (
        lake
    )
    # Permanent as far as the first temporary redirect.
    assert f"moved permanently to {server.url('/mixed/now')}" in found["Half moved"]
    today = found["Today only"]
    assert " redirected " in today and "temporary redirect (302)" in today
    assert "not written" in today
    assert "--fix" in flat(proc.stdout)
    assert feeds.read_text() == before

    # --fix asks first; "n" writes nothing.
    proc = _invoke("feeds-check", "--fix", "--settings", str(conf), answer="n\n")
    assert proc.returncode == 1, proc.stderr
    assert "[y/N]" in proc.stdout and "Nothing written." in proc.stdout
    assert feeds.read_text() == before
    assert not (tmp_path / "cache").exists()  # a check never touches the cache


def test_feeds_check_fix_yes_rewrites_only_permanent_redirects_keeping_the_file(
    checked_site, server, tmp_path
):
    urls, feeds, conf = checked_site
    before = feeds.read_text()

    proc = _invoke("feeds-check", "--fix", "--yes", "--settings", str(conf))
    # Dead feeds are still there: the command still says so.
    assert proc.returncode == 1, proc.stderr
    assert "2 addresses updated" in flat(proc.stdout)
    # Exactly the two moved URLs change; comments, quoting, order stay.
    expected = before.replace(f"'{urls['chain']}'", f"'{urls['new']}'").replace(
        f'"{urls["mixed"]}"', f'"{server.url("/mixed/now")}"'
    )
    assert expected != before
    assert feeds.read_text() == expected
    assert "# Moved twice: 301 then 308. Keep this comment." in feeds.read_text()
    assert f"'{urls['new']}'   # their old blog" in feeds.read_text()
    assert urls["temporary"] in feeds.read_text()  # a 302 is never written

    # Checked again, nothing has moved any more.
    again = _invoke("feeds-check", "--settings", str(conf))
    assert "8 feeds checked: 4 dead, 2 redirected, 2 ok" in flat(again.stdout)
    assert "Lake Riders" not in rows(again.stdout)


def test_feeds_check_refuses_redirects_out_of_the_web_or_into_a_private_network(
    tmp_path, server
):
    subscribe(
        tmp_path,
        {"name": "Ftp", "url": server.redirect("/ftp", "ftp://files.example/feed")},
        {
            # From loopback into a private network: not followed, so the
            # address is never connected to.
            "name": "Intranet",
            "url": server.redirect("/intranet", "http://10.255.255.1/feed.xml"),
        },
    )
    feeds = tmp_path / "content" / "community" / "feeds.toml"
    before = feeds.read_text()
    conf = settings_file(tmp_path)
    proc = _invoke("feeds-check", "--fix", "--yes", "--settings", str(conf))
    assert proc.returncode == 1, proc.stderr
    found = rows(proc.stdout)
    assert " refused " in found["Ftp"]
    assert "redirect to a non-web address: ftp://files.example/feed" in found["Ftp"]
    assert " refused " in found["Intranet"]
    assert (
        "redirect to a private address: http://10.255.255.1/feed.xml"
        in (found["Intranet"])
    )
    assert feeds.read_text() == before


def test_feeds_check_names_the_line_of_a_broken_feeds_toml(tmp_path):
    feeds = subscribe(tmp_path)
    feeds.write_text('[[feeds]]\nname = "A"\nurl = "https://a.example/feed\n')
    proc = _invoke("feeds-check", "--settings", str(settings_file(tmp_path)))
    assert proc.returncode == 1
    assert f"{feeds}:3:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_move_onto_another_feeds_address_is_not_written(tmp_path):
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(
        "# Two blogs of one club.\n"
        '[[feeds]]\nname = "Old"\nurl = "https://club.example/old"  # 301\n\n'
        '[[feeds]]\nname = "New"\nurl = "https://club.example/new"\n'
    )
    before = feeds.read_text()
    report = apply_moves(
        feeds, {"https://club.example/old": "https://club.example/new"}
    )
    assert report.applied == ()
    assert report.skipped == (
        (
            "https://club.example/old",
            "https://club.example/new",
            "another feed in feeds.toml has that URL",
        ),
    )
    assert feeds.read_text() == before
