"""Polls in posts end to end: the build (plugins/polls) reading a real ideas
service under gunicorn, nginx with the production config and CSP in front,
a reader in Chromium, the Nu Html Checker on the pages.

One site is built for the whole module (with the service up), and one more
with the service down; the broken-definition build is small and fails fast.
"""

from __future__ import annotations

import json
import shutil
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, free_port, run_pelican
from ideas_server import Reader, fresh_address, request, running_ideas, write_polls
from lxml import html
from nginx_server import running_nginx
from test_html_validity import vnu_errors
from test_nginx import _early_in_a_second

OPEN = "2099-12-31T22:59:59+00:00"
COLORI_IT = "2026/colori/index.html"
COLORI_EN = "en/2026/colori/index.html"
SELLA = "2026/sella/index.html"


def site_content(folder: Path) -> Path:
    """The minimal sample content, two posts with polls and their files."""
    shutil.copytree(FIXTURES / "content" / "minimal", folder)
    shutil.copytree(ROOT / "content" / "extra", folder / "extra")  # the favicon
    shutil.copytree(FIXTURES / "polls" / "posts", folder / "posts", dirs_exist_ok=True)
    (folder / "polls").mkdir()
    for name in ("colori.toml", "sella.toml"):
        shutil.copy(FIXTURES / "polls" / name, folder / "polls" / name)
    return folder


def build(base: Path, content: Path, output: Path, **overrides):
    return run_pelican(
        output,
        content=content,
        overrides={
            "COMMUNITY_CACHE_DIR": str(base / "no-cache"),
            "ISSO_URL": None,  # no comments here: this is about the poll
            "POLLS_CACHE": str(base / "polls-cache.json"),
            **overrides,
        },
    )


@dataclass
class Stack:
    origin: str
    output: Path
    down: Path
    down_log: str
    ideas: object
    service_polls: Path
    nginx: object

    def page(self, path: str, output: Path | None = None) -> html.HtmlElement:
        return html.parse(str((output or self.output) / path)).getroot()


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("polls-site")
    content = site_content(base / "content")
    output = base / "output"
    output.mkdir()
    # The service as production runs it, knowing the polls of the live
    # release; "sella" closed in 2020 for the build, still open here so that
    # readers can have voted in it.
    service_polls = write_polls(
        base / "release-polls.json",
        colori=(["rosso", "blu", "verde"], OPEN),
        sella=(["alta", "bassa"], OPEN),
    )
    with running_ideas(base / "svc", IDEAS_POLLS_FILE=str(service_polls)) as ideas:
        for option in ("alta", "alta", "bassa"):
            assert Reader(ideas.url, fresh_address()).choose("sella", option)[0] == 200
        with running_nginx(
            base, output, free_port(), ideas_port=int(ideas.url.rsplit(":", 1)[1])
        ) as nginx:
            origin = f"https://127.0.0.1:{nginx.local.https_port}"
            site = {"SITEURL": origin, "FEED_DOMAIN": origin}
            built = build(base, content, output, IDEAS_API_URL=ideas.url, **site)
            assert built.returncode == 0, built.log
            # The same site again with the service unreachable.
            down = base / "output-down"
            unreachable = f"http://127.0.0.1:{free_port()}"
            again = build(base, content, down, IDEAS_API_URL=unreachable, **site)
            assert again.returncode == 0, again.log
            yield Stack(origin, output, down, again.log, ideas, service_polls, nginx)


# --- the build -----------------------------------------------------------------


def test_the_build_writes_the_polls_the_service_takes_votes_for(stack):
    written = json.loads((stack.output / "polls.json").read_text())
    assert written == {
        "polls": {
            "colori": {"options": ["rosso", "blu", "verde"], "closes": OPEN},
            # 2020-06-30T18:00:00 in the site's zone (Europe/Rome, summer).
            "sella": {
                "options": ["alta", "bassa"],
                "closes": "2020-06-30T16:00:00+00:00",
            },
        }
    }


def _rows(section) -> list[tuple[str, str, str]]:
    return [
        (
            row.get("data-option"),
            row.cssselect("[data-poll-count]")[0].text_content(),
            row.cssselect("meter")[0].get("value"),
        )
        for row in section.cssselect("li.poll__result")
    ]


@pytest.mark.parametrize(
    ("path", "lang", "needs_js", "label"),
    [
        (COLORI_IT, "it", "Per votare serve JavaScript", "Rosso Sebino"),
        (COLORI_EN, "en", "Voting needs JavaScript", "Sebino red"),
    ],
)
def test_an_open_poll_is_a_form_that_says_it_needs_javascript(
    stack, path, lang, needs_js, label
):
    root = stack.page(path)
    (section,) = root.cssselect("section.poll")
    assert section.get("data-lang") == lang and "poll--closed" not in section.get(
        "class"
    )
    (form,) = section.cssselect("form[data-poll-form]")
    assert form.get("action") == "/idee-api/polls/colori/vote"
    assert form.cssselect("fieldset")[0].get("disabled") is not None
    options = form.cssselect("input[name=option]")
    assert [o.get("value") for o in options] == ["rosso", "blu", "verde"]
    assert options[0].getparent().text_content().strip() == label
    assert (
        section.cssselect("[data-poll-needs-js]")[0].text_content().startswith(needs_js)
    )
    votes = "0 voti" if lang == "it" else "0 votes"
    assert _rows(section) == [(k, votes, "0") for k in ("rosso", "blu", "verde")]
    scripts = [s.get("src").split("?")[0] for s in root.cssselect("script[src]")]
    assert f"{stack.origin}/theme/js/polls.js" in scripts
    assert f"{stack.origin}/theme/js/ideas-pow.js" in scripts
    assert not root.cssselect("[style]")


def test_a_closed_poll_shows_the_services_final_numbers_and_no_form(stack):
    root = stack.page(SELLA)
    (section,) = root.cssselect("section.poll")
    assert "poll--closed" in section.get("class")
    assert not section.cssselect("form") and not section.cssselect("input")
    assert section.cssselect("h3")[0].text_content() == "Risultato finale"
    assert "Votazione chiusa il 30 giugno 2020" in section.text_content()
    assert _rows(section) == [("alta", "2 voti", "67"), ("bassa", "1 voto", "33")]
    assert section.cssselect("li.poll__result--leading")[0].get("data-option") == "alta"
    total = section.cssselect("[data-poll-total]")[0].text_content()
    assert total == "3 voti in tutto"  # fresh from the service: no "as of"
    scripts = [s.get("src") for s in root.cssselect("script[src]")]
    assert not any("polls.js" in src for src in scripts)


def test_with_the_service_down_the_build_warns_and_shows_the_last_known(stack):
    assert "ideas service unreachable for the polls" in stack.down_log
    assert "the pages show the last known numbers" in stack.down_log
    (section,) = stack.page(SELLA, stack.down).cssselect("section.poll")
    assert _rows(section) == [("alta", "2 voti", "67"), ("bassa", "1 voto", "33")]
    total = section.cssselect("[data-poll-total]")[0].text_content()
    assert total.startswith("3 voti in tutto · dati al ")


BROKEN_POLL = """closes = 2027-01-01
[question]
it = "Quale?"
en = "Which?"

[[option]]
key = "una"
it = "Una"
en = "One"
"""


def test_broken_poll_definitions_stop_the_build_with_named_errors(tmp_path):
    content = site_content(tmp_path / "content")
    (content / "polls" / "rotto.toml").write_text(BROKEN_POLL)
    (content / "polls" / "senza-data.toml").write_text(
        BROKEN_POLL.replace("closes = 2027-01-01\n", "")
        + '\n[[option]]\nkey = "una"\nit = "Altra"\nen = "Other"\n'
    )
    post = (content / "posts" / "2026-03-sella.it.md").read_text()
    (content / "posts" / "2026-03-sella.it.md").write_text(
        post.replace("Poll: sella", "Poll: nessuno")
    )
    (content / "posts" / "2026-04-rotto.it.md").write_text(
        post.replace("Poll: sella", "Poll: rotto").replace("Slug: sella", "Slug: rotto")
    )
    result = build(tmp_path, content, tmp_path / "output")
    assert result.returncode != 0
    log = " ".join(result.log.split())  # rich wraps long lines
    polls = content.resolve() / "polls"
    posts = content.resolve() / "posts"
    assert f"{polls}/rotto.toml:6: option: 1 given; a poll has 2 to 8 options" in log
    assert f"{polls}/senza-data.toml:1: closes: missing" in log
    assert f"{polls}/senza-data.toml:11: option 2: key: 'una' is already the key" in log
    assert f"{posts}/2026-03-sella.it.md:8: Poll: 'nessuno' has no poll file" in log
    said = "Poll: 'rotto' is declared in a poll file with mistakes"
    assert f"{posts}/2026-04-rotto.it.md:8: {said}" in log


def test_the_pages_with_a_poll_are_valid_html(stack):
    errors = vnu_errors([str(stack.output / p) for p in (COLORI_IT, COLORI_EN, SELLA)])
    assert not errors, "\n".join(errors)


def test_nginx_caches_the_totals_to_the_end_of_the_second_never_a_choice(stack):
    _early_in_a_second()  # both reads must meet the same second's entry
    for path in ("/idee-api/polls/colori", "/idee-api/polls"):
        status, first, _ = stack.nginx.get(path)
        assert status == 200 and first["X-Cache-Status"] in ("MISS", "EXPIRED", "HIT")
        _, again, _ = stack.nginx.get(path)
        assert again["X-Cache-Status"] in ("HIT", "UPDATING"), path
        assert again["Cache-Control"] == "public, max-age=0, s-maxage=1"
        assert "X-Accel-Expires" not in again
    for _ in range(2):
        status, headers, _ = stack.nginx.get("/idee-api/polls/colori/me")
        assert status == 200 and headers["X-Cache-Status"] == "BYPASS"
        assert headers["Cache-Control"] == "private, no-store"


# --- a reader in Chromium, through nginx with the production CSP -------------------


@pytest.fixture
def browsing(browser, stack):
    opened: list = []
    errors: list[str] = []

    def open_page(path: str, *, js: bool = True):
        context = browser.new_context(ignore_https_errors=True, java_script_enabled=js)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type in ("error", "warning") else 0,
        )
        page.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else 0,
        )
        page.goto(f"{stack.origin}/{path}")
        # polls.js asks the service about the poll as the page opens: let it
        # finish, so that what a test changes next comes after.
        page.wait_for_load_state("networkidle")
        opened.append(context)
        return page

    open_page.errors = errors
    yield open_page
    for context in opened:
        context.close()
    assert errors == []


def _status(page) -> str:
    return page.locator("[data-poll-status]").inner_text()


def _wait_status(page, text: str) -> None:
    try:
        page.wait_for_function(
            "t => document.querySelector('[data-poll-status]').textContent === t",
            arg=text,
            timeout=20000,
        )
    except Exception:  # noqa: BLE001 - say what the page said instead
        pytest.fail(f"waited for {text!r}, the page says {_status(page)!r}")


def _counts(page) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('li[data-option]')]
        .map(li => [li.dataset.option, li.querySelector('[data-poll-count]')
        .textContent + ' ' + li.querySelector('meter').value]))"""
    )


def test_a_reader_chooses_sees_the_results_changes_and_a_reload_keeps_it(
    stack, browsing
):
    page = browsing(COLORI_IT)
    assert page.locator("[data-poll-needs-js]").is_hidden()
    assert page.locator("[data-poll-board]").is_hidden()  # their choice first
    page.get_by_label("Rosso Sebino").check()
    page.get_by_role("button", name="Vota").click()
    _wait_status(page, "Il tuo voto è stato contato. Puoi cambiarlo fino alla "
                 "chiusura del sondaggio.")  # fmt: skip
    assert page.locator("[data-poll-board]").is_visible()
    assert _counts(page) == {
        "rosso": "1 voto 100",
        "blu": "0 voti 0",
        "verde": "0 voti 0",
    }
    assert page.locator("[data-poll-total]").inner_text() == "1 voto in tutto"

    page.get_by_label("Blu lago").check()
    page.get_by_role("button", name="Vota").click()
    _wait_status(page, "Il tuo voto è passato a Blu lago.")
    assert _counts(page) == {
        "rosso": "0 voti 0",
        "blu": "1 voto 100",
        "verde": "0 voti 0",
    }
    assert request(stack.ideas.url, "GET", "/polls/colori")[2]["totals"] == {
        "rosso": 0, "blu": 1, "verde": 0,
    }  # fmt: skip

    page.reload()
    _wait_status(page, "La tua scelta: Blu lago. Puoi cambiarla fino alla chiusura "
                 "del sondaggio.")  # fmt: skip
    assert page.get_by_label("Blu lago").is_checked()
    assert page.locator("li.poll__result--mine").get_attribute("data-option") == "blu"
    deadline = time.monotonic() + 10  # nginx keeps a shared read for a second
    while _counts(page)["blu"] != "1 voto 100" and time.monotonic() < deadline:
        page.reload()
        page.wait_for_selector("li.poll__result--mine")
    assert _counts(page)["blu"] == "1 voto 100"


def test_without_javascript_the_page_says_so_and_shows_the_numbers(stack, browsing):
    page = browsing(COLORI_EN, js=False)
    assert page.locator("[data-poll-needs-js]").is_visible()
    assert page.get_by_label("Slate green").is_disabled()
    assert page.get_by_role("button", name="Vote").is_disabled()
    assert page.locator("[data-poll-board]").is_visible()
    assert (
        page.locator("li[data-option=rosso] [data-poll-count]").inner_text()
        == "0 votes"
    )


def test_after_closing_a_vote_is_refused_with_a_clear_message(stack, browsing):
    page = browsing(COLORI_EN)
    original = stack.service_polls.read_text()
    data = json.loads(original)
    data["polls"]["colori"]["closes"] = "2021-01-01T00:00:00+00:00"
    stack.service_polls.write_text(json.dumps(data))
    written = time.monotonic()
    try:
        # Each worker re-reads the file at its first request a second or more
        # after its last check: past that second, every worker knows.
        deadline = written + 15
        while time.monotonic() < deadline:
            answers = [
                Reader(stack.ideas.url, fresh_address()).choose("colori", "rosso")[0]
                for _ in range(6)
            ]
            if answers == [409] * 6 and time.monotonic() - written > 1.1:
                break
        assert answers == [409] * 6
        page.get_by_label("Slate green").check()
        page.get_by_role("button", name="Vote").click()
        _wait_status(page, "This poll is closed: votes are no longer accepted. "
                     "The final result will be published here.")  # fmt: skip
        assert page.get_by_label("Slate green").is_disabled()
        assert page.get_by_role("button", name="Vote").is_disabled()
        # A page opened now knows it at once, before anyone votes.
        later = browsing(COLORI_IT)
        _wait_status(later, "Il sondaggio è chiuso: i voti non sono più accettati. "
                     "Il risultato finale sarà pubblicato qui.")  # fmt: skip
        assert later.get_by_label("Rosso Sebino").is_disabled()
        assert later.locator("[data-poll-board]").is_visible()
        # The browser logs the refused request; nothing else went wrong.
        assert sorted(browsing.errors) == [
            f"409 {stack.origin}/idee-api/polls/colori/vote",
            "Failed to load resource: the server responded with a status of 409 ()",
        ]
        browsing.errors.clear()
    finally:
        stack.service_polls.write_text(original)


def test_poll_result_writes_a_closed_polls_final_numbers_into_its_file(stack, tmp_path):
    from piazza.pollresult import record_result
    from polls.settings import PollsError

    content = site_content(tmp_path / "content")
    pelican = {
        "PATH": str(content),
        "TIMEZONE": "Europe/Rome",
        "DEFAULT_LANG": "it",
        "LANGUAGES": {"it": {}, "en": {}},
        "IDEAS_API_URL": stack.ideas.url,
    }
    path = record_result(pelican, "sella")
    recorded = tomllib.loads(path.read_text())["result"]
    assert (recorded["alta"], recorded["bassa"]) == (2, 1)
    assert recorded["recorded"].tzinfo is not None
    with pytest.raises(PollsError, match=r"sella\.toml: it has a \[result\] already"):
        record_result(pelican, "sella")
    with pytest.raises(PollsError, match=r"colori\.toml: the poll is open until 2099"):
        record_result(pelican, "colori")
    with pytest.raises(PollsError, match=r"nessuno\.toml: no such poll file"):
        record_result(pelican, "nessuno")
