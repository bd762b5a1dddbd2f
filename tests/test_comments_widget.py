"""The comment widget tells readers what happened (issue 9, point 5).

The sample site, built for a loopback https origin, served by nginx from
deploy/nginx.conf (so under the production Content-Security-Policy, with
Isso behind /comments/), a real Isso behind it, and Chromium. Each test
starts the Isso it needs on the port nginx proxies to: an open one, one with
Isso's guard (its rate limit), one with moderation; and stops it to see the
server unreachable. Every message is checked in Italian and in English.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from conftest import ROOT, free_port, run_pelican
from isso_server import new_comment, running_isso
from lxml import html
from nginx_server import running_nginx

pytestmark = pytest.mark.browser

CATALOG = ROOT / "theme" / "translations" / "it" / "LC_MESSAGES" / "comments.po"
LANGS = ("it", "en")
# One post per test, so no test reads a thread another one wrote (nginx
# keeps a thread's answer for a second).
POSTS = {
    "words": "2026/lettera-di-un-cliente/",
    "votes": "2026/giornata-in-fabbrica/",
    "invalid": "2026/stagione-corse-2026/",
    "unreachable": "2026/sardegna-rally-raid/",
    "ratelimit": "2026/portapacchi-o-passo-corto/",
    "pending": "2026/risultato-del-voto/",
    "layout": "2025/lampo-e-prototipo/",
    "nojs": "2025/perche-questo-blog/",
    "down": "2025/sebino-800-dieci-anni/",
}
SEED_READER = "203.0.113.7"  # not the browser's address (127.0.0.1)


def uri(post: str, lang: str) -> str:
    return "/" + ("" if lang == "it" else f"{lang}/") + POSTS[post]


def translated(msgid: str, lang: str) -> str:
    """What the page should say in ``lang``: the msgid or its Italian."""
    if lang == "en":
        return msgid
    with CATALOG.open("rb") as fp:
        message = read_po(fp, locale="it").get(msgid)
    assert message is not None and message.string, f"{msgid!r}: no Italian"
    return message.string


MESSAGES = {
    "published": "Your comment is published.",
    "pending": "Thank you! Your comment is waiting for moderation: "
    "it will appear here once approved.",
    "waiting": "Waiting for moderation",
    "vote": "Your vote was not counted: one vote per comment from the same "
    "network, and none on your own comments.",
    "ratelimit": "Too many comments in a short time: wait a minute, then send "
    "yours again (it is still in the box).",
    "short": "The comment is too short: write at least 3 characters.",
    "invalid": "The comment was not accepted: check the website address (it "
    "starts with http:// or https://) and the e-mail.",
    "unreachable": "The comment server cannot be reached right now: try again "
    "in a few minutes.",
}


# --- The stack: nginx (production config), the built site, Isso on demand -----------


@dataclass
class Stack:
    site: str
    output: Path
    folder: Path
    isso_port: int
    started: int = 0

    @contextlib.contextmanager
    def isso(self, name: str, settings=None) -> Iterator:
        """A new Isso (its own empty database) behind nginx's /comments/."""
        self.started += 1
        folder = self.folder / f"isso-{name}-{self.started}"
        with running_isso(
            folder, self.site, port=self.isso_port, settings=settings
        ) as isso:
            yield isso


def build_for(site: str, base: Path, **overrides) -> Path:
    """The sample site built for ``site`` into ``base``/output, its static
    comments read from an empty Isso of its own."""
    output = base / "output"
    with running_isso(base / "isso-build", site) as isso:
        result = run_pelican(
            output,
            overrides={
                "SITEURL": site,
                "FEED_DOMAIN": site,
                "ISSO_API_URL": isso.url,
                "COMMUNITY_CACHE_DIR": str(base / "no-cache"),
                **overrides,
            },
        )
    assert result.returncode == 0, result.log
    return output


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("widget")
    isso_port = free_port()
    output = base / "output"
    output.mkdir()
    with running_nginx(base, output, isso_port) as nginx:
        site = f"https://127.0.0.1:{nginx.local.https_port}"
        # Isso's own server here, without our proof of work.
        build_for(site, base, COMMENTS_PROOF_OF_WORK=False)
        yield Stack(site, output, base, isso_port)


# --- A reader in Chromium ------------------------------------------------------------


class Reader:
    """One browser context on the stack, and what went wrong in it."""

    def __init__(self, browser, stack: Stack, *, width=1280, dark=False, js=True):
        self.stack = stack
        self.context = browser.new_context(
            viewport={"width": width, "height": 900},
            color_scheme="dark" if dark else "light",
            java_script_enabled=js,
            ignore_https_errors=True,  # the stack's certificate is self-signed
        )
        self.page = self.context.new_page()
        self.console: list[tuple[str, str]] = []
        self.refusals: list[tuple[int, str]] = []  # answers a test provoked
        self.csp: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.console.append((message.type, message.text))

    def _response(self, response) -> None:
        if (
            response.url.startswith(self.stack.site)
            and response.request.is_navigation_request()
        ):
            self.csp.append(response.headers.get("content-security-policy", ""))
        if response.status >= 400 and "/comments/" in response.url:
            try:
                body = response.text()
            except Exception:  # noqa: BLE001 - a body the browser did not keep
                body = ""
            self.refusals.append((response.status, body))

    def open(self, path: str, *, load: bool = True) -> None:
        """Go to a post; with ``load``, to its comments, and wait for the
        live thread (the script loads it at once for #comments)."""
        target = self.stack.site + path + ("#comments" if load else "")
        if self.page.url == target:  # goto would only scroll: load it anew
            self.page.reload()
        else:
            self.page.goto(target)
        if load:
            self.page.wait_for_selector("#isso-thread[data-loaded]", timeout=15000)

    def notice(self, scope: str = ".isso-postbox"):
        return self.page.locator(f"{scope} .comments-notice").first

    def wait_for_text(self, locator, text: str) -> None:
        locator.wait_for(timeout=10000)
        deadline = time.monotonic() + 10
        while locator.inner_text().strip() != text:
            assert time.monotonic() < deadline, (
                f"expected {text!r}, the page says {locator.inner_text()!r}"
            )
            self.page.wait_for_timeout(50)

    def problems(self) -> list[tuple[str, str]]:
        """Console errors, except Chromium's and Isso's own report of an
        answer the test provoked (Isso logs a refused comment's body)."""
        bodies = {body.strip() for _, body in self.refusals}
        statuses = {status for status, _ in self.refusals}
        return [
            (kind, text)
            for kind, text in self.console
            if not (
                kind == "error"
                and (
                    text.strip() in bodies
                    or any(
                        text.startswith(
                            "Failed to load resource: the server responded "
                            f"with a status of {status}"
                        )
                        for status in statuses
                    )
                )
            )
        ]

    def close(self) -> None:
        assert all("script-src 'self'" in csp for csp in self.csp), self.csp
        self.context.close()


@pytest.fixture
def reader(browser, stack):
    readers = []

    def make(**options) -> Reader:
        made = Reader(browser, stack, **options)
        readers.append(made)
        return made

    yield make
    for made in readers:
        made.close()


def write(page, text: str, *, author: str = "", website: str = "", box=".isso-postbox"):
    form = page.locator(box).first
    form.locator(".isso-textarea").fill(text)
    form.locator("input[name=author]").fill(author)
    form.locator("input[name=website]").fill(website)
    form.locator("input[type=submit]").click()


# --- The tests -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_cancel_and_a_published_comment_in_the_pages_language(
    stack, reader, lang
):
    with stack.isso("words"):
        r = reader()
        r.open(uri("words", lang))
        form = r.page.locator("#isso-thread > .isso-postbox")
        for name, msgid in (
            ("author", "Your name"),
            ("email", "name@example.com"),
            ("website", "https://example.com"),
        ):
            placeholder = form.locator(f"input[name={name}]").get_attribute(
                "placeholder"
            )
            assert placeholder == translated(msgid, lang)
        assert "John Doe" not in form.inner_html()
        write(r.page, "Bella lettera, grazie.", author="Lucia")
        r.wait_for_text(r.notice(), translated(MESSAGES["published"], lang))
        mine = r.page.locator(".isso-comment", has_text="Bella lettera")
        mine = r.page.locator("#" + mine.get_attribute("id"))  # text goes on edit
        mine.locator(".isso-edit").click()
        cancel = mine.locator(".isso-cancel")
        assert cancel.inner_text() == translated("Cancel", lang)
        assert cancel.inner_text() != "Cancella"
        cancel.click()
        assert r.problems() == []


@pytest.mark.parametrize("lang", LANGS)
def test_a_refused_vote_is_said(stack, reader, lang):
    with stack.isso("votes") as isso:
        made = new_comment(
            isso.url, uri("votes", lang), "Che bella giornata.", author="Tom",
            reader=SEED_READER,
        )  # fmt: skip
        r = reader()
        r.open(uri("votes", lang))
        comment = r.page.locator(f"#isso-{made['id']}")
        comment.locator(".isso-upvote").first.click()
        votes = comment.locator(".isso-votes").first
        r.wait_for_text(votes, "1")
        assert comment.locator(".comments-notice").count() == 0  # counted
        comment.locator(".isso-upvote").first.click()  # again, same address
        r.wait_for_text(
            r.notice(f"#isso-{made['id']}"), translated(MESSAGES["vote"], lang)
        )
        assert votes.inner_text() == "1"
        comment.screenshot(
            path=str(ROOT / "test-artifacts" / f"widget-vote-{lang}.png")
        )
        with sqlite3.connect(isso.db) as db:
            assert db.execute("SELECT likes FROM comments").fetchone() == (1,)
        assert r.problems() == []


@pytest.mark.parametrize("lang", LANGS)
def test_too_short_and_invalid_comments_are_said(stack, reader, lang):
    with stack.isso("invalid") as isso:
        r = reader()
        r.open(uri("invalid", lang))
        # Long enough for the browser, too short for Isso (it strips spaces).
        write(r.page, "ok    ")
        r.wait_for_text(r.notice(), translated(MESSAGES["short"], lang))
        write(r.page, "Un commento vero.", website="non è un indirizzo")
        r.wait_for_text(r.notice(), translated(MESSAGES["invalid"], lang))
        assert r.page.locator(".isso-textarea").first.input_value() == (
            "Un commento vero."
        )
        # Too short for the browser already: Isso sends nothing, we still say why.
        r.page.locator(".isso-textarea").first.fill("")
        r.page.locator(".isso-postbox input[type=submit]").first.click()
        r.wait_for_text(r.notice(), translated(MESSAGES["short"], lang))
        assert [status for status, _ in r.refusals] == [400, 400]
        with sqlite3.connect(isso.db) as db:
            assert db.execute("SELECT count(*) FROM comments").fetchone() == (0,)
        assert r.problems() == []


@pytest.mark.parametrize("lang", LANGS)
def test_an_unreachable_server_is_said(stack, reader, lang):
    with stack.isso("unreachable") as isso:
        r = reader()
        r.open(uri("unreachable", lang))
        isso.stop()
        write(r.page, "Ci sarò anch'io!")
        r.wait_for_text(r.notice(), translated(MESSAGES["unreachable"], lang))
        assert (
            r.page.locator(".isso-textarea").first.input_value() == "Ci sarò anch'io!"
        )
        assert {status for status, _ in r.refusals} == {502}
        assert r.problems() == []
    # A reader who arrives while the server is down is told so too (a post
    # whose thread nobody read: nginx has no old answer to serve instead).
    r = reader()
    r.page.goto(stack.site + uri("down", lang) + "#comments")
    r.wait_for_text(
        r.page.locator("[data-comments-status]"),
        translated(MESSAGES["unreachable"], lang),
    )
    assert r.page.locator("[data-comments-static]").count() == 1  # still readable
    assert {status for status, _ in r.refusals} == {502}
    assert r.problems() == []


def test_too_many_comments_are_said_in_both_languages(stack, reader):
    guard = {"guard": {"enabled": "true", "ratelimit": "2"}}
    with stack.isso("ratelimit", settings=guard) as isso:
        r = reader()
        r.open(uri("ratelimit", "it"))
        for n in (1, 2):
            write(r.page, f"Commento numero {n}.")
            r.page.locator(".isso-text", has_text=f"numero {n}").wait_for()
        write(r.page, "Commento numero 3.")
        r.wait_for_text(r.notice(), translated(MESSAGES["ratelimit"], "it"))
        r.page.locator("#isso-thread > .isso-postbox").screenshot(
            path=str(ROOT / "test-artifacts" / "widget-ratelimit-it.png")
        )
        assert r.page.locator(".isso-textarea").first.input_value() == (
            "Commento numero 3."
        )
        english = reader()
        english.open(uri("ratelimit", "en"))
        write(english.page, "Me too, from the same address.")
        english.wait_for_text(english.notice(), MESSAGES["ratelimit"])
        for who in (r, english):
            assert [status for status, _ in who.refusals] == [403]
            assert "ratelimit exceeded" in who.refusals[0][1]
            assert who.problems() == []
        with sqlite3.connect(isso.db) as db:
            assert db.execute("SELECT count(*) FROM comments").fetchone() == (2,)


@pytest.mark.parametrize("lang", LANGS)
def test_ones_own_pending_comment_stays_visible_marked(stack, reader, lang):
    text = "Aspetto **l'approvazione** <b>grassetto?</b>\nseconda riga"
    moderated = {"moderation": {"enabled": "true"}}
    with stack.isso("pending", settings=moderated) as isso:
        # The Italian reader on a narrow dark screen, the English one wide.
        r = reader(width=320, dark=True) if lang == "it" else reader()
        path = uri("pending", lang)
        r.open(path)
        write(r.page, text, author="Lucia")
        r.wait_for_text(r.notice(), translated(MESSAGES["pending"], lang))
        waiting = translated(MESSAGES["waiting"], lang)
        assert r.page.locator(".isso-comment .isso-note").inner_text() == waiting
        r.page.locator("#comments").screenshot(
            path=str(ROOT / "test-artifacts" / f"widget-pending-said-{lang}.png")
        )

        r.open(path)
        pending = r.page.locator(".comments-pending")
        assert pending.count() == 1
        assert pending.locator(".comments-pending__note").inner_text() == waiting
        assert pending.locator(".comments-pending__author").inner_text() == "Lucia"
        # What was typed, as text: no markup made from it.
        shown = pending.locator(".comments-pending__text")
        assert shown.text_content() == text
        assert shown.locator("b, strong, *").count() == 0
        r.page.locator("#comments").screenshot(
            path=str(ROOT / "test-artifacts" / f"widget-pending-{lang}.png")
        )

        # Approved: the thread shows it, the kept copy goes.
        with sqlite3.connect(isso.db) as db:
            db.execute("UPDATE comments SET mode = 1")
        (comment_id,) = (
            sqlite3.connect(isso.db).execute("SELECT id FROM comments").fetchone()
        )
        deadline = time.monotonic() + 10
        while True:  # nginx may keep the thread's old answer for a second
            r.open(path)
            if r.page.locator(f"#isso-{comment_id}").count():
                break
            assert time.monotonic() < deadline, "the approved comment never showed"
        assert r.page.locator(".comments-pending").count() == 0
        key = "piazza-pending:" + path
        assert r.page.evaluate(f"localStorage.getItem({key!r})") is None
        assert r.problems() == []


def test_a_pending_reply_is_said_and_kept_under_its_comment(stack, reader):
    moderated = {"moderation": {"enabled": "true"}}
    with stack.isso("pending-reply", settings=moderated) as isso:
        path = uri("pending", "en")
        parent = new_comment(isso.url, path, "A published question?", author="Tom")
        with sqlite3.connect(isso.db) as db:  # approved by a moderator
            db.execute("UPDATE comments SET mode = 1")
        r = reader()
        r.open(path)
        question = r.page.locator(f"#isso-{parent['id']}")
        question.locator(".isso-reply").first.click()
        write(r.page, "My answer, waiting.", box=f"#isso-{parent['id']} .isso-postbox")
        # Isso closes the reply form: the words go with the comment instead.
        r.wait_for_text(
            r.page.locator(".isso-comment .comments-notice").first, MESSAGES["pending"]
        )
        r.open(path)
        kept = question.locator(".isso-follow-up .comments-pending")
        assert kept.locator(".comments-pending__text").inner_text() == (
            "My answer, waiting."
        )
        assert (
            kept.locator(".comments-pending__note").inner_text()
            == (MESSAGES["waiting"])
        )
        assert r.problems() == []


def test_a_pending_copy_is_forgotten_after_a_week(stack, reader):
    moderated = {"moderation": {"enabled": "true"}}
    with stack.isso("pending-old", settings=moderated):
        r = reader()
        path = uri("pending", "it")
        r.open(path)
        write(r.page, "Un commento di tanto tempo fa.")
        r.wait_for_text(r.notice(), translated(MESSAGES["pending"], "it"))
        key = "piazza-pending:" + path
        r.page.evaluate(
            """key => {
                const list = JSON.parse(localStorage.getItem(key));
                list[0].saved -= 8 * 24 * 3600 * 1000;
                localStorage.setItem(key, JSON.stringify(list));
            }""",
            key,
        )
        r.open(path)
        assert r.page.locator(".comments-pending").count() == 0
        assert r.page.evaluate(f"localStorage.getItem({key!r})") is None
        assert r.problems() == []


def _boxes(page) -> dict[str, dict]:
    return page.evaluate(
        """() => {
            const form = document.querySelector('#isso-thread > .isso-postbox');
            const out = {};
            for (const [name, sel] of [
                ['text', '.isso-textarea'], ['author', 'input[name=author]'],
                ['email', 'input[name=email]'], ['website', 'input[name=website]'],
                ['submit', 'input[type=submit]'], ['preview', 'input[name=preview]'],
            ]) {
                const r = form.querySelector(sel).getBoundingClientRect();
                out[name] = {x: r.left, y: r.top, r: r.right, b: r.bottom,
                             w: r.width, h: r.height};
            }
            out.form = form.getBoundingClientRect().toJSON();
            return out;
        }"""
    )


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["r"] and b["x"] < a["r"] and a["y"] < b["b"] and b["y"] < a["b"]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("width", [320, 375, 1280])
def test_the_form_is_laid_out_cleanly(stack, reader, artifacts, width, dark):
    with stack.isso("layout"):
        r = reader(width=width, dark=dark)
        r.open(uri("layout", "it"))
        box = _boxes(r.page)
        names = ["text", "author", "email", "website", "submit", "preview"]
        for i, a in enumerate(names):
            assert box[a]["w"] > 0 and box[a]["h"] > 0, a
            for b in names[i + 1 :]:
                assert not _overlap(box[a], box[b]), (a, b, box[a], box[b])
        # Everything inside the form, nothing sideways off the screen.
        for name in names:
            assert box[name]["x"] >= box["form"]["left"] - 0.5
            assert box[name]["r"] <= box["form"]["right"] + 0.5
        overflow = r.page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0
        # Send and Preview together, on a row below every field.
        fields = ["author", "email", "website"]
        assert abs(box["submit"]["y"] - box["preview"]["y"]) < 1
        assert box["submit"]["r"] <= box["preview"]["x"]
        assert box["submit"]["y"] >= max(box[f]["b"] for f in fields)
        if width < 640:  # stacked, with no big gaps between them
            rows = ["text", *fields, "submit"]
            for upper, lower in itertools.pairwise(rows):
                gap = box[lower]["y"] - box[upper]["b"]
                assert 0 <= gap <= 40, (upper, lower, gap)
                if lower != "submit":
                    assert box[lower]["w"] == pytest.approx(box["text"]["w"], abs=1)
        else:  # side by side, one row
            assert len({round(box[f]["y"]) for f in fields}) == 1
        scheme = "dark" if dark else "light"
        r.page.locator("#comments").screenshot(
            path=str(artifacts / f"widget-form-{width}-{scheme}.png")
        )
        assert r.problems() == []


@pytest.mark.parametrize("lang", LANGS)
def test_without_javascript_no_button_and_the_page_says_why(stack, reader, lang):
    noscript_msgid = (
        "You can read the comments without JavaScript; writing one needs it."
    )
    r = reader(js=False)
    r.open(uri("nojs", lang), load=False)
    assert r.page.locator("[data-comments-load]").is_hidden()
    notice = r.page.locator(".comments-noscript")
    assert notice.is_visible()
    assert notice.inner_text() == translated(noscript_msgid, lang)
    r.page.locator("#comments").screenshot(
        path=str(ROOT / "test-artifacts" / f"widget-nojs-{lang}.png")
    )
    assert r.problems() == []
    # With JavaScript, the button is there (and the notice is not).
    r = reader()
    r.open(uri("nojs", lang), load=False)
    assert r.page.locator("[data-comments-load]").is_visible()
    assert not r.page.locator(".comments-noscript").is_visible()
    assert r.problems() == []


def test_every_refusal_has_its_words_in_both_languages(stack):
    """The server's refusal codes (403 {"error": code}) each have a message."""
    pages = {
        lang: html.parse(
            str(
                stack.output
                / urllib.parse.unquote(uri("words", lang)).strip("/")
                / "index.html"
            )
        ).getroot()
        for lang in LANGS
    }
    said = {}
    for lang, root in pages.items():
        (status,) = root.cssselect("[data-comments-status]")
        assert status.get("role") == "status"
        load = root.cssselect("p.comments-load")[0]
        assert load.get("hidden") is not None  # shown by the script only
        said[lang] = {
            name[len("data-msg-") :]: value
            for name, value in status.attrib.items()
            if name.startswith("data-msg-")
        }
    codes = {"spam", "pow", "banned", "ratelimit", "refused", "short", "invalid",
             "unreachable", "vote", "pending", "waiting", "published"}  # fmt: skip
    for lang in LANGS:
        assert codes <= {code for code, words in said[lang].items() if words.strip()}
    for code in codes:
        assert said["it"][code] != said["en"][code], code
