"""Supporting and proposing ideas in the browser (theme/static/js/ideas.js).

A board page as plugins/ideaboard writes it (tests/fixtures/ideas/board.html,
the markup of contract 4, rendered with the theme's partial and catalogs in
Italian and English), served by nginx from deploy/nginx.conf (so under the
production Content-Security-Policy) in front of the real ideas service under
gunicorn, with an SMTP server on loopback for the e-mail confirmation; the
ideas made through the API and accepted as an editor accepts them. Chromium
reads it; a console error or a CSP violation fails the test.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import pytest
from conftest import FIXTURES, ROOT, free_port
from ideas_server import Reader as ApiReader
from ideas_server import counts, running_ideas
from lxml import html
from mailsink import Sink
from mailsink import only_link as _link
from nginx_server import running_nginx

from multilang.catalogs import load_translations
from services.ideas import cli, rules, store
from services.ideas.db import connect

pytestmark = pytest.mark.browser

LANGS = ("it", "en")
PAGES = {"it": "/idee/", "en": "/en/ideas/"}
API = "/idee-api"
BUDGET = 2
VOTES_PER_VOTER = 4  # votes and withdrawals an hour: the limit test reaches it
# One idea per test and language, so no test reads a count another changed.
IDEAS = ("support", "budget-a", "budget-b", "budget-c", "reload", "keyboard", "limit")
FAILED_LOAD = "Failed to load resource: the server responded with a status of"
SEED = {"support": 2, "reload": 1}  # supporters before the browser comes


def words(msgid: str, lang: str, **values) -> str:
    """What the page says in ``lang`` for ``msgid`` (the catalog's Italian)."""
    catalog = load_translations(str(ROOT / "theme" / "translations"), lang)
    text = catalog.gettext(msgid)
    if lang == "it":
        assert text != msgid, f"{msgid!r}: no Italian"
    return text % values if values else text


def budget_words(lang: str, left: int, total: int = BUDGET) -> str:
    catalog = load_translations(str(ROOT / "theme" / "translations"), lang)
    if left == 0:
        return words(
            "You have used all your %(total)s votes: withdraw your support "
            "from an idea to support another.",
            lang,
            total=total,
        )
    text = catalog.ngettext(
        "You have %(num)s of %(total)s votes left.",
        "You have %(num)s of %(total)s votes left.",
        left,
    )
    return text % {"num": left, "total": total}


def render_board(lang: str, ideas: list[dict]) -> str:
    """The fixture page in ``lang``, as the build would render it."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(FIXTURES / "ideas"),
                jinja2.FileSystemLoader(ROOT / "theme" / "templates"),
            ]
        ),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(
        load_translations(str(ROOT / "theme" / "translations"), lang), newstyle=True
    )
    return env.get_template("board.html").render(
        lang=lang,
        ideas=ideas,
        IDEAS_PUBLIC_URL=API,
        asset_url=lambda name: f"/theme/{name}",
    )


# --- The stack: nginx (production config) in front of the service ------------------


@dataclass
class Stack:
    site: str
    service: str
    db: Path
    ideas: dict[tuple[str, str], int]  # (test, lang) -> idea number
    sink: Sink
    root: Path

    def supporters(self, number: int) -> int:
        return counts(self.service, number)[number][0]


def publish_site(root: Path, ideas: list[dict]) -> None:
    """The theme's CSS and JS and the board in both languages under ``root``."""
    for kind in ("css", "js"):
        shutil.copytree(ROOT / "theme" / "static" / kind, root / "theme" / kind)
    for lang, path in PAGES.items():
        page = root / path.strip("/") / "index.html"
        page.parent.mkdir(parents=True)
        page.write_text(render_board(lang, ideas), encoding="utf-8")
    (root / "index.html").write_text("<!doctype html><title>Piazza</title>")
    (root / "favicon.ico").write_bytes(b"")  # the browser asks for it


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    from aiosmtpd.controller import Controller

    base = tmp_path_factory.mktemp("ideas-widget")
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        with running_ideas(
            base / "svc",
            IDEAS_VOTE_BUDGET=str(BUDGET),
            IDEAS_VOTER_VOTES_PER_HOUR=str(VOTES_PER_VOTER),
            IDEAS_POW_MAX_NUMBER="300",
            IDEAS_SMTP_HOST="127.0.0.1",
            IDEAS_SMTP_PORT=str(smtp.port),
            IDEAS_SMTP_FROM="Officine Ardesia <idee@officineardesia.example>",
        ) as service:
            made: dict[tuple[str, str], int] = {}
            shown = []
            for index, (name, lang) in enumerate(
                (name, lang) for name in IDEAS for lang in LANGS
            ):
                author = ApiReader(service.url, f"198.51.{index}.7")
                status, _, answer = author.propose(
                    title=f"{name} ({lang})", category="moto", lang=lang
                )
                assert status == 202, answer
                cli.accept(service.db, answer["id"], base / "content")
                made[(name, lang)] = answer["id"]
                for seed in range(SEED.get(name, 0)):
                    status, _, voted = ApiReader(
                        service.url, f"192.0.{index}.{seed + 1}"
                    ).vote(answer["id"])
                    assert status == 200, voted
                shown.append(
                    {"id": answer["id"], "title": f"{name} ({lang})",
                     "supporters": SEED.get(name, 0), "confirmed": 0,
                     "status": "proposed"}
                )  # fmt: skip
            root = base / "site"
            publish_site(root, shown)
            port = int(service.url.rsplit(":", 1)[1])
            with running_nginx(base, root, free_port(), ideas_port=port) as nginx:
                yield Stack(
                    f"https://127.0.0.1:{nginx.local.https_port}",
                    service.url,
                    service.db,
                    made,
                    sink,
                    root,
                )
    finally:
        smtp.stop()


# --- A reader in Chromium ------------------------------------------------------------


class Reader:
    """One browser context on a site, and what went wrong in it."""

    def __init__(self, browser, site: str, *, js: bool = True) -> None:
        self.site = site
        self.context = browser.new_context(
            java_script_enabled=js, ignore_https_errors=True
        )
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.provoked: set[int] = set()  # HTTP statuses a test asked for
        self.csp: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("response", self._response)
        self.api_calls: list[str] = []  # "GET /counts", "POST /ideas/3/vote"
        self.page.on("request", self._request)

    def _request(self, request) -> None:
        path = urlsplit(request.url).path
        if path.startswith(API + "/"):
            self.api_calls.append(f"{request.method} {path[len(API) :]}")

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.console.append(message.text)

    def _response(self, response) -> None:
        if response.request.is_navigation_request():
            self.csp.append(response.headers.get("content-security-policy", ""))

    def open(self, lang: str) -> None:
        self.page.goto(self.site + PAGES[lang])

    def idea(self, number: int):
        return self.page.locator(f'article[data-idea-id="{number}"]')

    def button(self, number: int):
        return self.idea(number).locator("form.idea-vote button")

    def notice(self, scope: str):
        return self.page.locator(f"{scope} + .ideas-notice")

    def vote_notice(self, number: int):
        return self.notice(f'article[data-idea-id="{number}"] form.idea-vote')

    def refused_vote(self, number: int, status: int, text: str) -> str:
        """Press the idea's button, expecting the service to answer ``status``
        and the page to say ``text``."""
        self.provoked.add(status)
        self.button(number).click()
        self.wait_for_text(self.vote_notice(number), text)
        return text

    def wait_for(self, what: str, read, expected) -> None:
        deadline = time.monotonic() + 20
        while (seen := read()) != expected:
            assert time.monotonic() < deadline, (
                f"{what}: expected {expected!r}, the page has {seen!r}"
            )
            self.page.wait_for_timeout(50)

    def wait_for_text(self, locator, text: str) -> None:
        locator.wait_for(timeout=20000)
        self.wait_for("text", lambda: locator.inner_text().strip(), text)

    def problems(self) -> list[str]:
        """Console errors, but Chromium's report of an answer a test provoked."""
        return [
            text
            for text in self.console
            if not any(text.startswith(f"{FAILED_LOAD} {s}") for s in self.provoked)
        ]

    def close(self) -> None:
        self.context.close()
        assert self.csp and all("script-src 'self'" in csp for csp in self.csp), (
            self.csp
        )
        assert self.problems() == []


@pytest.fixture
def reader(browser):
    readers: list[Reader] = []

    def make(site: str, **options) -> Reader:
        made = Reader(browser, site, **options)
        readers.append(made)
        return made

    yield make
    for made in readers:
        made.close()


def at_idea(reader, stack: Stack, lang: str, name: str) -> tuple[Reader, int]:
    """A new reader on the board in ``lang``, once the page knows it does not
    support idea ``name`` yet; and that idea's number."""
    number = stack.ideas[(name, lang)]
    r = reader(stack.site)
    r.open(lang)
    r.wait_for("pressed", lambda: support_state(r, number)[0], "false")
    return r, number


def support_state(r: Reader, number: int) -> tuple[str | None, str]:
    button = r.button(number)
    return button.get_attribute("aria-pressed"), button.inner_text().strip()


def count_on_page(r: Reader, number: int) -> int:
    return int(r.idea(number).locator('[data-count="supporters"]').inner_text())


# --- The tests -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_reader_supports_withdraws_and_supports_again(stack, reader, lang):
    number = stack.ideas[("support", lang)]
    r = reader(stack.site)
    r.open(lang)
    pressed = ("true", words("Withdraw support", lang))
    unpressed = ("false", words("Support", lang))
    r.wait_for("pressed state", lambda: support_state(r, number), unpressed)
    before = stack.supporters(number)
    assert before == SEED["support"]
    r.wait_for("count", lambda: count_on_page(r, number), before)
    r.page.wait_for_load_state("networkidle")
    # One request for the counts of every idea on the page, one for this
    # browser's support; the numbers change silently (no live region).
    assert sorted(r.api_calls) == ["GET /counts", "GET /me"]
    assert (
        r.page.locator("[role=status] [data-count], [aria-live] [data-count]").count()
        == 0
    )

    r.button(number).click()
    r.wait_for("pressed state", lambda: support_state(r, number), pressed)
    notice = r.vote_notice(number)
    r.wait_for_text(
        notice,
        words("You support this idea.", lang) + " " + budget_words(lang, BUDGET - 1),
    )
    assert count_on_page(r, number) == stack.supporters(number) == before + 1
    budget_line = r.page.locator("[data-ideas-budget]")
    assert budget_line.inner_text() == budget_words(lang, BUDGET - 1)
    if lang == "it":
        assert support_state(r, number) == ("true", "Ritira il sostegno")
        assert budget_line.inner_text() == "Ti resta 1 voto su 2."

    r.button(number).click()
    r.wait_for("pressed state", lambda: support_state(r, number), unpressed)
    r.wait_for_text(
        notice,
        words("You no longer support this idea.", lang)
        + " "
        + budget_words(lang, BUDGET),
    )
    assert count_on_page(r, number) == stack.supporters(number) == before

    r.button(number).click()
    r.wait_for("pressed state", lambda: support_state(r, number), pressed)
    r.wait_for("count", lambda: count_on_page(r, number), before + 1)
    assert stack.supporters(number) == before + 1
    r.page.screenshot(path=str(ROOT / "test-artifacts" / f"ideas-widget-{lang}.png"))


@pytest.mark.parametrize("lang", LANGS)
def test_the_budget_runs_out_with_a_clear_message(stack, reader, lang):
    a, b, c = (stack.ideas[(f"budget-{x}", lang)] for x in "abc")
    r = reader(stack.site)
    r.open(lang)
    budget_line = r.page.locator("[data-ideas-budget]")
    r.wait_for_text(budget_line, budget_words(lang, BUDGET))
    for number in (a, b):
        r.button(number).click()
        r.wait_for("pressed", lambda n=number: support_state(r, n)[0], "true")
    r.wait_for_text(budget_line, budget_words(lang, 0))
    r.refused_vote(
        c,
        409,
        words(
            "You have used all your votes: withdraw your support from another "
            "idea to support this one.",
            lang,
        ),
    )
    assert support_state(r, c)[0] == "false"
    assert stack.supporters(c) == 0


@pytest.mark.parametrize("lang", LANGS)
def test_a_reload_keeps_the_pressed_state_and_the_counts(stack, reader, lang):
    r, number = at_idea(reader, stack, lang, "reload")
    r.button(number).click()
    r.wait_for("pressed", lambda: support_state(r, number)[0], "true")
    expected = stack.supporters(number)
    assert expected == SEED["reload"] + 1

    # nginx keeps a count to the end of the second: reload until it is new.
    deadline = time.monotonic() + 10
    while True:
        r.page.reload()
        r.wait_for("pressed", lambda: support_state(r, number)[0], "true")
        r.page.wait_for_load_state("networkidle")
        if count_on_page(r, number) == expected:
            break
        assert time.monotonic() < deadline, "the count after a reload"
    assert support_state(r, number)[1] == words("Withdraw support", lang)
    r.wait_for_text(r.page.locator("[data-ideas-budget]"), budget_words(lang, 1))


@pytest.mark.parametrize("lang", LANGS)
def test_a_proposal_is_sent_and_thanked_and_errors_sit_by_the_form(stack, reader, lang):
    r = reader(stack.site)
    r.open(lang)
    form = r.page.locator("form.idea-propose")
    notice = r.notice("form.idea-propose")
    form.locator("button[type=submit]").click()
    r.wait_for_text(notice, words("Write a title for your idea.", lang))
    assert form.locator("[name=title]").get_attribute("aria-invalid") == "true"
    assert r.page.evaluate("document.activeElement.name") == "title"

    form.locator("[name=title]").fill("x" * (rules.MAX_TITLE + 1))
    form.locator("button[type=submit]").click()
    r.wait_for_text(
        notice,
        words(
            "The title is too long: at most %(max)s characters.",
            lang,
            max=rules.MAX_TITLE,
        ),
    )
    title = f"Un faro supplementare ({lang})"
    form.locator("[name=title]").fill(title)
    form.locator("[name=description]").fill("Per i viaggi di notte.")
    form.locator("button[type=submit]").click()
    r.wait_for_text(notice, words("Choose a category for your idea.", lang))
    form.locator("[name=category]").select_option("accessori")
    form.locator("[name=email]").fill("not an address")
    form.locator("button[type=submit]").click()
    r.wait_for_text(
        notice,
        words("This is not an e-mail address: check it (name@example.com).", lang),
    )
    form.locator("[name=email]").fill("")
    form.locator("button[type=submit]").click()
    r.wait_for_text(
        notice,
        words(
            "Thank you! Your idea was sent: it will appear on the board once "
            "the editors have reviewed it.",
            lang,
        ),
    )
    assert form.locator("[name=title]").input_value() == ""
    with contextlib.closing(connect(stack.db)) as db:
        queued = [i for i in store.ideas(db, queue=True) if i.title == title]
    assert [(i.category, i.lang, i.status) for i in queued] == [
        ("accessori", lang, "pending")
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_too_many_votes_are_said(stack, reader, lang):
    r, number = at_idea(reader, stack, lang, "limit")
    for _ in range(VOTES_PER_VOTER):
        was = support_state(r, number)[0]
        r.button(number).click()
        r.wait_for(
            "pressed",
            lambda: support_state(r, number)[0],
            "false" if was == "true" else "true",
        )
    said = r.refused_vote(
        number,
        429,
        words(
            "Too many votes or proposals from your network in a short time: "
            "try again in an hour.",
            lang,
        ),
    )
    if lang == "it":
        assert said.endswith("riprova fra un'ora.")


@pytest.mark.parametrize("lang", LANGS)
def test_a_service_that_is_down_is_said(stack, reader, tmp_path, lang):
    # The same pages, but nothing listens where nginx sends /idee-api/.
    with running_nginx(
        tmp_path, stack.root, free_port(), ideas_port=free_port()
    ) as down:
        r = reader(f"https://127.0.0.1:{down.local.https_port}")
        r.provoked.add(502)
        r.open(lang)
        number = stack.ideas[("support", lang)]
        r.page.wait_for_load_state("networkidle")
        assert count_on_page(r, number) == SEED["support"]  # the build's
        r.button(number).click()
        r.wait_for_text(
            r.vote_notice(number),
            words(
                "The ideas service cannot be reached right now: try again in a "
                "few minutes.",
                lang,
            ),
        )
        assert r.button(number).get_attribute("aria-disabled") is None


@pytest.mark.parametrize("lang", LANGS)
def test_the_keyboard_alone_supports_and_proposes(stack, reader, lang):
    r, number = at_idea(reader, stack, lang, "keyboard")
    # Tab from the top of the page to the idea's button.
    for _ in range(40):
        r.page.keyboard.press("Tab")
        focused = r.page.evaluate(
            "document.activeElement.closest('article[data-idea-id]')"
            "?.getAttribute('data-idea-id')"
        )
        if focused == str(number):
            break
    else:
        pytest.fail("Tab never reached the idea's button")
    r.page.keyboard.press("Enter")
    r.wait_for("pressed", lambda: support_state(r, number)[0], "true")
    # The focus stays on the button: Space withdraws.
    r.page.keyboard.press("Space")
    r.wait_for("pressed", lambda: support_state(r, number)[0], "false")
    assert stack.supporters(number) == 0

    r.page.locator("form.idea-propose [name=title]").focus()
    r.page.keyboard.type(f"Idea da tastiera ({lang})")
    r.page.keyboard.press("Tab")
    r.page.keyboard.type("Scritta senza mouse.")
    r.page.keyboard.press("Tab")
    r.page.keyboard.press("ArrowDown")  # the first category
    for _ in range(3):  # the name, the e-mail, the button
        r.page.keyboard.press("Tab")
    assert r.page.evaluate("document.activeElement.type") == "submit"
    r.page.keyboard.press("Enter")
    r.wait_for_text(
        r.notice("form.idea-propose"),
        words(
            "Thank you! Your idea was sent: it will appear on the board once "
            "the editors have reviewed it.",
            lang,
        ),
    )


@pytest.mark.parametrize("lang", LANGS)
def test_a_confirmed_email_is_asked_for_and_shown(stack, reader, lang):
    r = reader(stack.site)
    r.open(lang)
    form = r.page.locator("form.idea-email")
    form.wait_for(state="visible", timeout=20000)
    address = f"lettrice-{lang}@example.org"
    before = len(stack.sink.messages)
    form.locator("[name=email]").fill(address)
    form.locator("button[type=submit]").click()
    r.wait_for_text(
        r.notice("form.idea-email"),
        words(
            "We sent a confirmation link to %(email)s: open it to confirm "
            "your support.",
            lang,
            email=address,
        ),
    )
    message = stack.sink.wait(before + 1)[before]
    assert message["To"] == address
    assert message["Content-Language"] == lang
    link = urlsplit(_link(message))
    r.page.goto(f"{stack.site}{API}/confirm?{link.query}")
    r.open(lang)
    confirmed = r.page.locator("[data-ideas-confirmed]")
    r.wait_for_text(
        confirmed,
        words(
            "Your support is confirmed with the address %(email)s.",
            lang,
            email=address,
        ),
    )
    assert form.is_hidden()


@pytest.mark.parametrize("lang", LANGS)
def test_without_javascript_the_counts_are_there_and_writing_says_it_needs_it(
    stack, reader, lang
):
    r = reader(stack.site, js=False)
    r.open(lang)
    number = stack.ideas[("support", lang)]
    assert count_on_page(r, number) == SEED["support"]
    note = r.page.locator(".needs-js")
    assert note.is_visible()
    assert re.search("JavaScript", note.inner_text())
    assert r.page.locator("form.idea-email").is_hidden()
    assert r.page.locator("[data-ideas-budget]").is_hidden()


def test_with_javascript_the_note_goes(stack, reader):
    r = reader(stack.site)
    r.open("it")
    r.page.locator("form.idea-email").wait_for(state="visible", timeout=20000)
    assert r.page.locator(".needs-js").is_hidden()


def test_the_scripts_limits_are_the_services():
    script = (ROOT / "theme" / "static" / "js" / "ideas.js").read_text()
    (limits,) = re.findall(r"var LIMITS = \{([^}]*)\}", script)
    found = {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", limits)}
    assert found == {
        "title": rules.MAX_TITLE,
        "description": rules.MAX_DESCRIPTION,
        "name": rules.MAX_NAME,
        "email": rules.MAX_EMAIL,
    }


def _words_box(lang: str):
    page = html.fromstring(render_board(lang, []))
    (box,) = page.xpath("//*[@data-ideas-words]")
    return box


def test_every_error_code_of_the_service_has_its_words_in_both_languages():
    # The codes app.py's docstring lists, and "network" (no answer at all).
    doc = (ROOT / "services" / "ideas" / "app.py").read_text().split('"""')[1]
    codes = set(re.findall(r"``(\w+)``", doc.split("Errors are")[1])) - {
        "error",
        "message",
        "invalid_token",  # the e-mail's link, opened outside the board
    }
    assert {"pow_replayed", "budget_spent", "limit", "mail_failed"} <= codes
    italian, english = _words_box("it"), _words_box("en")
    for code in sorted(codes | {"network"}):
        said_it = italian.get(f"data-msg-error-{code}")
        said_en = english.get(f"data-msg-error-{code}")
        assert said_it and said_en, f"{code}: no words"
        assert said_it != said_en, f"{code}: no Italian"
    script = (ROOT / "theme" / "static" / "js" / "ideas.js").read_text()
    (listed,) = re.findall(r"var ERRORS = \[([^\]]*)\]", script)
    assert codes | {"network"} <= set(re.findall(r'"(\w+)"', listed))


@pytest.mark.validator
def test_the_widgets_markup_is_valid_html(tmp_path):
    from test_html_validity import vnu_errors

    pages = []
    for lang in LANGS:
        page = tmp_path / f"board-{lang}.html"
        ideas = [{"id": 1, "title": "Una sella più bassa", "supporters": 3,
                  "confirmed": 1, "status": "proposed"}]  # fmt: skip
        page.write_text(render_board(lang, ideas), encoding="utf-8")
        pages.append(str(page))
    assert vnu_errors(pages) == []
