"""`invoke aggregate` against a real HTTP server on loopback playing every
kind of feed host: good feeds in three formats, broken ones, hostile ones,
slow, huge, gone, rate-limited. Each feed's fate is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT
from feedserver import FeedServer, endless, gzip_bomb, trickle

from community.aggregate import POOL_THRESHOLD, Status, _import_parser, run_aggregate
from community.cache import Cache
from community.settings import CommunitySettings
from community.subscriptions import load_subscriptions

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TIMEOUT = 2.0


@pytest.fixture
def server():
    with FeedServer().running() as feeds:
        yield feeds


def settings_for(tmp_path: Path, **overrides) -> CommunitySettings:
    values = {
        "PATH": str(tmp_path / "content"),
        "SITEURL": "https://www.officineardesia.example",
        "SITENAME": "Officine Ardesia",
        "COMMUNITY_CACHE_DIR": str(tmp_path / "cache"),
        "COMMUNITY_TIMEOUT": TIMEOUT,
        "COMMUNITY_MAX_BYTES": 1024 * 1024,
        "COMMUNITY_WORKERS": 1,
        **overrides,
    }
    return CommunitySettings.from_pelican(values, root=tmp_path)


def subscribe(tmp_path: Path, *feeds: dict) -> Path:
    """Write feeds.toml with one table per dict; return its path."""
    path = tmp_path / "content" / "community" / "feeds.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for feed in feeds:
        lines.append("[[feeds]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in feed.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def aggregate(tmp_path: Path, now: datetime = NOW, **kwargs):
    settings = kwargs.pop("settings", None) or settings_for(tmp_path)
    subs = load_subscriptions(settings.feeds_file)
    return run_aggregate(subs, settings, now=now, **kwargs)


def by_slug(report):
    return {feed.slug: feed for feed in report.feeds}


def entries(tmp_path: Path, slug: str):
    held = Cache(tmp_path / "cache").load_entries(slug)
    return list(held.entries) if held else []


def state(tmp_path: Path, slug: str, url: str):
    return Cache(tmp_path / "cache").load_state(slug, url)


# --- Formats --------------------------------------------------------------------


XML_BASE = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/diario/">
  <title>Diario di bordo</title>
  <id>urn:uuid:6c1a1f4e-0b7a-4f55-9a43-3b7b1a7d0c11</id>
  <updated>2026-11-20T10:00:00Z</updated>
  <entry>
    <title>Giro del lago</title>
    <id>urn:uuid:6c1a1f4e-0b7a-4f55-9a43-3b7b1a7d0c12</id>
    <link href="giro-del-lago/"/>
    <updated>2026-11-20T10:00:00Z</updated>
    <content type="html" xml:base="https://foto.example/album/">
      &lt;p&gt;&lt;a href="../chi-sono"&gt;Chi sono&lt;/a&gt;
      &lt;img src="lago.jpg" alt="Il lago"&gt;&lt;/p&gt;
    </content>
  </entry>
  <entry>
    <title>Senza base</title>
    <id>urn:uuid:6c1a1f4e-0b7a-4f55-9a43-3b7b1a7d0c13</id>
    <link href="senza-base/"/>
    <updated>2026-11-19T10:00:00Z</updated>
    <summary type="html">&lt;a href="mappa.html"&gt;mappa&lt;/a&gt;</summary>
  </entry>
  <entry xml:base="2026/">
    <title>Basi annidate</title>
    <id>urn:uuid:6c1a1f4e-0b7a-4f55-9a43-3b7b1a7d0c14</id>
    <link href="annidate.html"/>
    <updated>2026-11-18T10:00:00Z</updated>
    <content type="html" xml:base="foto/">
      &lt;p&gt;&lt;a href="../indice.html"&gt;indice&lt;/a&gt;
      &lt;img src="sebino.jpg" alt="Il Sebino"&gt;&lt;/p&gt;
    </content>
  </entry>
</feed>
"""


def test_relative_links_follow_xml_base_then_the_feeds_address(tmp_path, server):
    url = server.route("/blog/feed.atom", body=XML_BASE)
    subscribe(tmp_path, {"name": "Diario", "url": url})
    aggregate(tmp_path)
    held = {e.title: e for e in entries(tmp_path, "diario")}
    lake = held["Giro del lago"]
    # The feed's relative xml:base resolves against the feed's address.
    assert lake.link == server.url("/diario/giro-del-lago/")
    # The content's own absolute xml:base wins for the links inside it.
    assert 'href="https://foto.example/chi-sono"' in lake.summary_html
    assert lake.image and lake.image.url == "https://foto.example/album/lago.jpg"
    plain = held["Senza base"]
    assert plain.link == server.url("/diario/senza-base/")
    assert f'href="{server.url("/diario/mappa.html")}"' in plain.summary_html
    # Relative bases nest: feed /diario/, entry 2026/, content foto/.
    nested = held["Basi annidate"]
    assert nested.link == server.url("/diario/2026/annidate.html")
    assert f'href="{server.url("/diario/2026/indice.html")}"' in nested.summary_html
    assert nested.image
    assert nested.image.url.endswith("/diario/2026/foto/sebino.jpg")


def test_rss2_atom_and_rss1_are_read_with_titles_links_dates_and_authors(
    tmp_path, server
):
    subscribe(
        tmp_path,
        {"name": "Officina Rossi", "url": server.fixture("/rss2", "rss2.xml")},
        {"name": "Lake Riders", "url": server.fixture("/atom", "atom.xml")},
        {"name": "Vecchio Forum", "url": server.fixture("/rss1", "rss1.xml")},
    )
    report = by_slug(aggregate(tmp_path))
    assert {s: r.status for s, r in report.items()} == dict.fromkeys(
        ("officina-rossi", "lake-riders", "vecchio-forum"), Status.UPDATED
    )
    rss2 = {e.title: e for e in entries(tmp_path, "officina-rossi")}
    oil = rss2["Cambio olio in dieci minuti"]
    assert oil.link == "https://officinarossi.example/cambio-olio"
    assert oil.author == "Anna Rossi"
    assert oil.date == datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    assert oil.categories == ("officina",)
    assert oil.image and oil.image.url == "https://officinarossi.example/img/olio.jpg"
    # A relative link resolves against the feed's address (RSS has no base of
    # its own); links get rel=ugc; the tracking pixel is gone.
    assert f'href="{server.url("/attrezzi")}"' in oil.summary_html
    assert 'rel="nofollow noopener ugc"' in oil.summary_html
    assert "pixel.gif" not in oil.summary_html
    atom = {e.link: e for e in entries(tmp_path, "lake-riders")}
    rain = atom["https://lakeriders.example/rain"]
    assert rain.title == "Riding in the rain"  # markup in a title is dropped
    assert "<strong>Pinlock</strong>" in rain.summary_html
    assert rain.author == "Sam Hill"
    (forum,) = entries(tmp_path, "vecchio-forum")
    assert forum.title == "Discussione: il rumore della frizione"
    assert forum.date == datetime(2026, 11, 15, 8, 0, tzinfo=UTC)


def test_a_feed_in_a_wrongly_declared_charset_is_still_read(tmp_path, server):
    # Latin-1 bytes served as UTF-8: the header is wrong, the text is not lost.
    url = server.fixture(
        "/latin1", "latin1.xml", content_type="text/xml; charset=utf-8"
    )
    subscribe(tmp_path, {"name": "Città in moto", "url": url})
    report = by_slug(aggregate(tmp_path))
    assert report["citta-in-moto"].status is Status.UPDATED
    (entry,) = entries(tmp_path, "citta-in-moto")
    assert entry.title == "Perché la città è bella in moto"


def test_a_malformed_feed_is_used_when_it_still_yields_entries(tmp_path, server):
    subscribe(
        tmp_path, {"name": "Rotto", "url": server.fixture("/bad", "malformed.xml")}
    )
    report = by_slug(aggregate(tmp_path))
    assert report["rotto"].status is Status.UPDATED
    titles = {e.title for e in entries(tmp_path, "rotto")}
    assert "Secondo post" in titles


def test_a_page_that_is_not_a_feed_fails_and_keeps_what_was_held(tmp_path, server):
    url = server.fixture("/feed", "rss2.xml")
    subscribe(tmp_path, {"name": "Officina Rossi", "url": url})
    aggregate(tmp_path)
    held = {e.id for e in entries(tmp_path, "officina-rossi")}
    assert held
    server.fixture("/feed", "not-a-feed.html", content_type="text/html")
    report = by_slug(aggregate(tmp_path, force=True, now=NOW + timedelta(hours=1)))
    assert report["officina-rossi"].status is Status.FAILED
    assert "not an rss or atom feed" in report["officina-rossi"].message.lower()
    assert {e.id for e in entries(tmp_path, "officina-rossi")} == held


# --- Normalising ------------------------------------------------------------------


def test_the_same_entry_in_two_feeds_is_shown_once(tmp_path, server):
    from community.view import deduplicate

    subscribe(
        tmp_path,
        {"name": "Blog A", "url": server.fixture("/a", "dup-a.xml")},
        {"name": "Blog B", "url": server.fixture("/b", "dup-b.xml")},
    )
    aggregate(tmp_path)
    everything = entries(tmp_path, "blog-a") + entries(tmp_path, "blog-b")
    shown = deduplicate(everything, {"blog-a": 0, "blog-b": 1})
    # A GUID that is a URI is global: the syndicated copy is dropped. A bare
    # GUID ("only") is unique only within its feed: both entries stay.
    titles = sorted(e.title for e in shown)
    assert titles == ["Lo stesso post", "Solo di A", "Solo di B"]


def test_dates_missing_future_unreadable_and_ancient(tmp_path, server):
    subscribe(
        tmp_path, {"name": "Date strane", "url": server.fixture("/d", "dates.xml")}
    )
    settings = settings_for(tmp_path, COMMUNITY_NEW_FEED_ENTRIES=10)
    aggregate(tmp_path, settings=settings)
    held = {e.title: e for e in entries(tmp_path, "date-strane")}
    # No date, or one that can't be read: the time we first saw the entry.
    assert held["Senza data"].date == NOW
    assert held["Data illeggibile"].date == NOW
    # A date in the future is clamped: it cannot sit on top for years.
    assert held["Dal futuro"].date <= NOW
    # Older than COMMUNITY_MAX_AGE_DAYS: never shown.
    assert "Preistoria" not in held


def test_a_new_feed_contributes_only_its_newest_few_entries(tmp_path, server):
    url = server.fixture("/many", "many.xml")
    subscribe(tmp_path, {"name": "Tanti post", "url": url})
    aggregate(tmp_path)
    titles = [e.title for e in entries(tmp_path, "tanti-post")]
    assert titles == ["Post numero 1", "Post numero 2", "Post numero 3"]
    # Later entries are new and all come in; the old backlog does not return.
    body = (Path(__file__).parent / "fixtures/community/many.xml").read_bytes()
    newer = (
        b"<item><title>Post nuovo</title><link>https://tanti.example/new</link>"
        b"<pubDate>Sat, 21 Nov 2026 10:00:00 +0100</pubDate></item>\n"
    )
    server.route("/many", body=body.replace(b"<item>", newer + b"<item>", 1))
    report = by_slug(aggregate(tmp_path, now=NOW + timedelta(hours=1)))
    assert report["tanti-post"].new_entries == 1
    titles = [e.title for e in entries(tmp_path, "tanti-post")]
    assert titles == ["Post nuovo", "Post numero 1", "Post numero 2", "Post numero 3"]


def test_include_and_exclude_filters(tmp_path, server):
    url = server.fixture("/rss2", "rss2.xml")
    subscribe(
        tmp_path,
        {"name": "Solo officina", "url": url, "include": ["officina", "/gomme/"]},
        {"name": "Senza mercatino", "url": url + "?b", "exclude": ["mercatino"]},
    )
    server.fixture("/rss2?b", "rss2.xml")
    settings = settings_for(tmp_path, COMMUNITY_NEW_FEED_ENTRIES=10)
    aggregate(tmp_path, settings=settings)
    assert {e.title for e in entries(tmp_path, "solo-officina")} == {
        "Cambio olio in dieci minuti",
        "Le gomme invernali servono?",
    }
    assert "Mercatino: vendo casco taglia M" not in {
        e.title for e in entries(tmp_path, "senza-mercatino")
    }


# --- HTTP -----------------------------------------------------------------------------


def test_conditional_get_and_a_clear_user_agent(tmp_path, server):
    url = server.route(
        "/cond",
        body=(Path(__file__).parent / "fixtures/community/rss2.xml").read_bytes(),
        validators=True,
    )
    subscribe(tmp_path, {"name": "Officina Rossi", "url": url})
    first = by_slug(aggregate(tmp_path))["officina-rossi"]
    assert first.status is Status.UPDATED
    second = by_slug(aggregate(tmp_path, now=NOW + timedelta(hours=1)))
    assert second["officina-rossi"].status is Status.NOT_MODIFIED
    assert second["officina-rossi"].entries_held == first.entries_held
    requests = server.requests_for("/cond")
    assert "If-None-Match" not in requests[0].headers
    assert requests[1].headers["If-None-Match"].startswith('"')
    assert requests[1].headers["If-Modified-Since"] == "Sat, 21 Nov 2026 08:00:00 GMT"
    agent = requests[0].headers["User-Agent"]
    assert "Piazza/" in agent and "Officine Ardesia" in agent
    assert "www.officineardesia.example" in agent
    assert "br" in requests[0].headers["Accept-Encoding"]


def test_a_server_ignoring_validators_is_caught_by_the_body_hash(tmp_path, server):
    subscribe(
        tmp_path, {"name": "Officina Rossi", "url": server.fixture("/f", "rss2.xml")}
    )
    aggregate(tmp_path)
    again = by_slug(aggregate(tmp_path, now=NOW + timedelta(hours=1)))
    assert again["officina-rossi"].status is Status.UNCHANGED
    assert again["officina-rossi"].new_entries == 0


def test_permanent_redirects_are_followed_remembered_and_reported(tmp_path, server):
    target = server.fixture("/new-home", "atom.xml")
    old = server.redirect("/old-home", target, status=301)
    subscribe(tmp_path, {"name": "Lake Riders", "url": old})
    toml_before = (tmp_path / "content/community/feeds.toml").read_text()
    report = by_slug(aggregate(tmp_path))["lake-riders"]
    assert report.status is Status.UPDATED
    assert report.moved_to == target
    assert state(tmp_path, "lake-riders", old).moved_to == target
    # The editor's file is not rewritten behind their back.
    assert (tmp_path / "content/community/feeds.toml").read_text() == toml_before
    # The next run goes straight to the new address.
    aggregate(tmp_path, now=NOW + timedelta(hours=1))
    assert server.hits["/old-home"] == 1
    assert server.hits["/new-home"] == 2


def test_temporary_redirects_are_followed_but_not_remembered(tmp_path, server):
    target = server.fixture("/today", "atom.xml")
    subscribe(
        tmp_path, {"name": "Lake", "url": server.redirect("/t", target, status=302)}
    )
    report = by_slug(aggregate(tmp_path))["lake"]
    assert report.status is Status.UPDATED
    assert report.moved_to is None


def test_redirect_loops_and_long_chains_fail_that_feed_only(tmp_path, server):
    server.redirect("/loop-a", server.url("/loop-b"), status=302)
    server.redirect("/loop-b", server.url("/loop-a"), status=302)
    for hop in range(7):
        server.redirect(f"/chain{hop}", server.url(f"/chain{hop + 1}"), status=302)
    server.fixture("/chain7", "atom.xml")
    subscribe(
        tmp_path,
        {"name": "Loop", "url": server.url("/loop-a")},
        {"name": "Chain", "url": server.url("/chain0")},
        {"name": "Good", "url": server.fixture("/good", "rss2.xml")},
    )
    report = by_slug(aggregate(tmp_path))
    assert report["loop"].status is Status.FAILED
    assert "redirect loop" in report["loop"].message
    assert report["chain"].status is Status.FAILED
    assert "more than 5 redirects" in report["chain"].message
    assert report["good"].status is Status.UPDATED


def test_gone_feeds_stop_being_fetched_and_keep_their_entries(tmp_path, server):
    subscribe(tmp_path, {"name": "Lake", "url": server.fixture("/gone", "atom.xml")})
    aggregate(tmp_path)
    held = entries(tmp_path, "lake")
    server.route("/gone", status=410, body=b"gone")
    report = by_slug(aggregate(tmp_path, now=NOW + timedelta(hours=1)))["lake"]
    assert report.status is Status.GONE
    assert entries(tmp_path, "lake") == held
    later = by_slug(aggregate(tmp_path, now=NOW + timedelta(days=3)))["lake"]
    assert later.status is Status.SKIPPED
    assert server.hits["/gone"] == 2  # not asked again


def test_429_honours_retry_after(tmp_path, server):
    url = server.route("/busy", status=429, headers={"Retry-After": "7200"})
    subscribe(tmp_path, {"name": "Busy", "url": url})
    report = by_slug(aggregate(tmp_path))["busy"]
    assert report.status is Status.RATE_LIMITED
    assert "7200" in report.message
    assert state(tmp_path, "busy", url).next_attempt == NOW + timedelta(seconds=7200)
    soon = by_slug(aggregate(tmp_path, now=NOW + timedelta(hours=1)))["busy"]
    assert soon.status is Status.SKIPPED
    assert server.hits["/busy"] == 1
    later = by_slug(aggregate(tmp_path, now=NOW + timedelta(hours=3)))["busy"]
    assert later.status is Status.RATE_LIMITED
    assert server.hits["/busy"] == 2


def test_errors_back_off_per_feed_doubling(tmp_path, server):
    url = server.route("/err", status=500, body=b"boom")
    subscribe(tmp_path, {"name": "Flaky", "url": url})
    report = by_slug(aggregate(tmp_path))["flaky"]
    assert report.status is Status.FAILED and "500" in report.message
    first = state(tmp_path, "flaky", url).next_attempt - NOW
    aggregate(tmp_path, now=NOW + first)
    second_state = state(tmp_path, "flaky", url)
    assert second_state.failures == 2
    assert second_state.next_attempt - (NOW + first) == first * 2
    # --force fetches a feed that is backing off.
    aggregate(tmp_path, now=NOW + first + timedelta(seconds=1), force=True)
    assert server.hits["/err"] == 3


# --- The run as a whole -------------------------------------------------------------


def test_one_run_with_every_kind_of_failure_leaves_the_good_feeds_alone(
    tmp_path, server
):
    bomb = gzip_bomb()
    assert len(bomb) < 1024 * 1024  # small on the wire, 256 MiB inflated
    subscribe(
        tmp_path,
        {"name": "Good RSS", "url": server.fixture("/good-rss", "rss2.xml")},
        {"name": "Never answers", "url": server.route("/hang", delay=60)},
        {
            "name": "Trickles",
            "url": server.route("/trickle", body=trickle(100), chunk_delay=0.2),
        },
        {
            "name": "Huge",
            "url": server.route("/huge", body=endless(100 * 1024 * 1024)),
        },
        {
            "name": "Huge declared",
            "url": server.route(
                "/huge-declared",
                body=endless(100 * 1024 * 1024),
                headers={"Content-Length": str(100 * 1024 * 1024)},
            ),
        },
        {
            "name": "Bomb",
            "url": server.route(
                "/bomb", body=bomb, headers={"Content-Encoding": "gzip"}
            ),
        },
        {"name": "Server error", "url": server.route("/500", status=500)},
        {"name": "Missing", "url": server.route("/404", status=404)},
        {"name": "Garbage", "url": server.route("/garbage", body=os.urandom(4096))},
        {"name": "Refused", "url": "http://127.0.0.1:9/feed"},
        {"name": "Good Atom", "url": server.fixture("/good-atom", "atom.xml")},
    )
    started = time.monotonic()
    report = by_slug(aggregate(tmp_path))
    elapsed = time.monotonic() - started
    # Everything is concurrent and every feed has its own deadline.
    assert elapsed < TIMEOUT * 3, elapsed
    assert report["good-rss"].status is Status.UPDATED
    assert report["good-atom"].status is Status.UPDATED
    assert len(entries(tmp_path, "good-rss")) == 3
    assert len(entries(tmp_path, "good-atom")) == 2
    failed = {s: r.message for s, r in report.items() if not s.startswith("good")}
    assert all(report[s].status is Status.FAILED for s in failed), failed
    assert "timed out" in failed["never-answers"]
    assert "timed out" in failed["trickles"]
    assert "larger than 1 MiB" in failed["huge"]
    assert "over the 1 MiB cap" in failed["huge-declared"]
    assert "larger than 1 MiB (after decompression)" in failed["bomb"]
    assert "500" in failed["server-error"] and "404" in failed["missing"]
    assert "connect" in failed["refused"]
    assert "not an rss or atom feed" in failed["garbage"].lower()


def test_the_aggregate_task_exits_0_with_failures_and_prints_a_summary(
    tmp_path, server
):
    subscribe(
        tmp_path,
        {"name": "Good RSS", "url": server.fixture("/good", "rss2.xml")},
        {"name": "Broken", "url": server.route("/broken", status=500)},
    )
    conf = tmp_path / "conf.py"
    conf.write_text(
        'PATH = "content"\nSITENAME = "Officine Ardesia"\n'
        'COMMUNITY_CACHE_DIR = "cache"\nCOMMUNITY_TIMEOUT = 2\n'
    )
    proc = _invoke("aggregate", "--settings", str(conf))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Good RSS" in out and "updated" in out
    assert "Broken" in out and "HTTP 500" in out
    assert "1 needs attention" in out
    assert Cache(tmp_path / "cache").exists()
    # Run again: the broken feed waits, and the count agrees with its noun.
    again = " ".join(_invoke("aggregate", "--settings", str(conf)).stdout.split())
    assert "after 1 error)" in again
    assert "2 feeds, 0 new entries" in again


def test_the_aggregate_task_fails_on_invalid_configuration(tmp_path):
    feeds = tmp_path / "content" / "community" / "feeds.toml"
    feeds.parent.mkdir(parents=True)
    feeds.write_text(
        '[[feeds]]\nname = "A"\nurl = "https://a.example/f"\n\n'
        '[[feeds]]\nname = "B"\nurl = "https://A.example/f/"\n'
    )
    conf = tmp_path / "conf.py"
    conf.write_text('PATH = "content"\nCOMMUNITY_CACHE_DIR = "cache"\n')
    proc = _invoke("aggregate", "--settings", str(conf))
    assert proc.returncode == 1
    assert "feeds.toml:7:" in proc.stderr and "(line 1)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_first_run_starts_from_the_shipped_snapshot(tmp_path, server):
    # Build a snapshot with one good run, then aggregate into a fresh cache
    # while the feed is down: the entries the site showed stay.
    url = server.fixture("/f", "rss2.xml")
    subscribe(tmp_path, {"name": "Officina Rossi", "url": url})
    snapshot = settings_for(tmp_path, COMMUNITY_CACHE_DIR=str(tmp_path / "snap"))
    aggregate(tmp_path, settings=snapshot)
    server.route("/f", status=503)
    settings = replace(settings_for(tmp_path), snapshot_dir=tmp_path / "snap")
    report = by_slug(aggregate(tmp_path, settings=settings, now=NOW + timedelta(1)))
    assert report["officina-rossi"].status is Status.FAILED
    assert len(entries(tmp_path, "officina-rossi")) == 3


def _invoke(*args: str, answer: str = "") -> subprocess.CompletedProcess:
    """Run an invoke task as the editor would; ``answer`` is what they type."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *args],
        cwd=ROOT,
        env=env,
        input=answer,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- Honest reporting -----------------------------------------------------------------


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Resoconto</title><link>https://conti.example/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def item(title: str, guid: str, date: str | None = None, category: str = "") -> str:
    when = f"<pubDate>{date}</pubDate>" if date else ""
    tag = f"<category>{category}</category>" if category else ""
    return (
        f"<item><title>{title}</title><guid>https://conti.example/{guid}</guid>"
        f"<link>https://conti.example/{guid}</link>{when}{tag}</item>"
    )


def test_what_is_left_out_is_counted_by_reason(tmp_path, server):
    recent = "Fri, 20 Nov 2026 10:00:00 +0000"
    ancient = "Mon, 20 Nov 2023 10:00:00 +0000"
    url = server.route(
        "/conti",
        body=rss(
            item("Nuovo", "1", recent),
            item("Doppio", "2", recent),
            item("Doppio", "2", recent),
            item("Vecchio", "3", ancient),
            item("Vecchissimo", "4", ancient),
            item("Mercatino: vendo", "5", recent, "mercatino"),
        ),
    )
    subscribe(tmp_path, {"name": "Conti", "url": url, "exclude": ["mercatino"]})
    settings = settings_for(tmp_path, COMMUNITY_NEW_FEED_ENTRIES=10)
    report = aggregate(tmp_path, settings=settings)
    feed = by_slug(report)["conti"]
    assert (feed.dropped_old, feed.dropped_duplicates, feed.dropped_filtered) == (
        2,
        1,
        1,
    )
    assert feed.new_entries == 2 and feed.entries_held == 2
    assert "2 older than 365 days, 1 duplicate, 1 filtered out left out" in (
        feed.message
    )
    assert report.dropped == {"old": 2, "duplicates": 1, "filtered": 1}
    saved = state(tmp_path, "conti", url)
    assert (saved.dropped_old, saved.dropped_duplicates, saved.dropped_filtered) == (
        2,
        1,
        1,
    )
    # A feed whose entries are all too old says so, not "no new entries" alone.
    server.route("/conti", body=rss(item("Vecchio", "3", ancient)))
    again = by_slug(aggregate(tmp_path, now=NOW + timedelta(hours=1)))["conti"]
    assert again.message == "no new entries; 1 older than 365 days left out"


def test_undated_entries_keep_their_feeds_order(tmp_path, server):
    titles = ["Zeta", "Alfa", "Mu", "Beta", "Omega"]
    url = server.route(
        "/senza-date", body=rss(*(item(t, str(n)) for n, t in enumerate(titles)))
    )
    subscribe(tmp_path, {"name": "Senza date", "url": url})
    settings = settings_for(tmp_path, COMMUNITY_NEW_FEED_ENTRIES=10)
    aggregate(tmp_path, settings=settings)
    held = entries(tmp_path, "senza-date")
    assert [e.title for e in held] == titles
    assert {e.date for e in held} == {NOW}


WARM_RUN = """
import json, sys
from datetime import datetime
from pathlib import Path
plugins, tmp, now = sys.argv[1:]
sys.path.insert(0, plugins)
from community.aggregate import run_aggregate
from community.settings import CommunitySettings
from community.subscriptions import load_subscriptions
settings = CommunitySettings.from_pelican(
    {"PATH": f"{tmp}/content", "COMMUNITY_CACHE_DIR": f"{tmp}/cache"}, root=Path(tmp)
)
subs = load_subscriptions(settings.feeds_file)
report = run_aggregate(subs, settings, now=datetime.fromisoformat(now))
print(report.feeds[0].status, "feedparser" in sys.modules,
      "community.normalize" in sys.modules)
"""


def in_a_fresh_process(script: str, *args: str) -> list[str]:
    """The words ``script`` prints, run in a new Python with only the plugins
    on its path (what it imports is its own)."""
    proc = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "plugins"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_a_run_where_every_feed_answers_304_loads_no_parser(tmp_path, server):
    url = server.fixture("/validated", "rss2.xml", validators=True)
    subscribe(tmp_path, {"name": "Officina Rossi", "url": url})
    aggregate(tmp_path)  # the first run reads the body and keeps the ETag
    # The next run, in a fresh process with only the plugin on its path.
    later = (NOW + timedelta(days=1)).isoformat()
    said = in_a_fresh_process(WARM_RUN, str(tmp_path), later)
    assert said == ["not", "modified", "False", "False"]
    assert len(server.requests_for("/validated")) == 2


COLD_RUN = """
import sys
from pathlib import Path
plugins, tmp = sys.argv[1:]
sys.path.insert(0, plugins)
from community.aggregate import run_aggregate
from community.settings import CommunitySettings
from community.subscriptions import load_subscriptions
settings = CommunitySettings.from_pelican(
    {"PATH": f"{tmp}/content", "COMMUNITY_CACHE_DIR": f"{tmp}/cache",
     "COMMUNITY_WORKERS": 2}, root=Path(tmp)
)
report = run_aggregate(load_subscriptions(settings.feeds_file), settings)
print(*sorted({str(f.status) for f in report.feeds}), *(
    name in sys.modules for name in ("feedparser", "click", "pygments")))
"""


def test_a_cold_run_parses_in_workers_and_starts_light(tmp_path, server):
    """Many new feeds: worker processes parse them, each importing the
    parser itself while the main process fetches; the main process never
    loads the parser, nor httpx's command-line client (click, pygments)."""
    subscribe(
        tmp_path,
        *(
            {"name": f"Officina {n}", "url": server.fixture(f"/cold/{n}", "rss2.xml")}
            for n in range(POOL_THRESHOLD)
        ),
    )
    said = in_a_fresh_process(COLD_RUN, str(tmp_path))
    assert said == ["updated", "False", "False", "False"]
    held = [entries(tmp_path, f"officina-{n}") for n in range(POOL_THRESHOLD)]
    assert all(held) and len({tuple(e.title for e in h) for h in held}) == 1


def test_a_permalink_is_the_identity_only_without_a_guid_and_always_made_safe(
    tmp_path, server
):
    url = server.route(
        "/permalinks",
        body=rss(
            "<item><title>Senza guid</title><link>/giro/1</link>"
            "<pubDate>Fri, 20 Nov 2026 10:00:00 +0000</pubDate></item>",
            "<item><title>Con guid</title><guid>https://conti.example/2</guid>"
            "<link>javascript:alert(1)</link>"
            "<pubDate>Thu, 19 Nov 2026 10:00:00 +0000</pubDate></item>",
        ),
    )
    subscribe(tmp_path, {"name": "Permalinks", "url": url})
    aggregate(tmp_path)
    held = {e.title: e for e in entries(tmp_path, "permalinks")}
    assert held["Senza guid"].id == held["Senza guid"].link == server.url("/giro/1")
    assert held["Con guid"].id == "https://conti.example/2"
    assert held["Con guid"].link is None


def test_a_parser_that_fails_to_import_in_a_worker_is_left_to_each_feed(monkeypatch):
    """A worker's initializer never raises (that would break the pool, and
    every feed would say only "BrokenProcessPool"): each job then imports the
    parser and reports what failed, feed by feed."""
    monkeypatch.setitem(sys.modules, "community.normalize", None)
    _import_parser()  # does not raise
    with pytest.raises(ImportError):
        import community.normalize  # noqa: F401
