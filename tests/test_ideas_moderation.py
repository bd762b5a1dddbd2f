"""The editors' moderation page of the ideas service (services/ideas/
moderation.py), for real: the service under gunicorn behind deploy/nginx.conf
with the production CSP, Chromium driving the page, an SMTP server on
loopback reading back what supporters are sent."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import free_port
from ideas_server import IdeasServer, Reader, fetch, running_ideas
from lxml import html
from mailsink import Sink, confirm, smtp_sink
from nginx_server import placeholder_site, running_nginx

from piazza.editorpages import LOCKOUT_FAILURES
from services.ideas.moderation import SESSION_COOKIE

PASSWORD = "una password lunga e segreta"
HOSTILE_TITLE = 'Portapacchi <img src=x onerror=alert(1)> "robusto"'
HOSTILE_TEXT = (
    "<script>alert(1)</script> **Più** [capienza](javascript:alert(2))\n\n"
    '<a href="javascript:alert(3)" onclick="alert(4)">qui</a>'
)


@dataclass(frozen=True)
class Stack:
    ideas: IdeasServer
    sink: Sink
    site: str  # https://127.0.0.1:<port>, nginx
    context: ssl.SSLContext
    content: Path

    def reader(self, address: str) -> Reader:
        """A reader talking to the service (its X-Forwarded-For believed)."""
        return Reader(self.ideas.url, address)

    def propose(self, address: str, **fields) -> int:
        status, _, answer = self.reader(address).propose(**fields)
        assert status == 202, answer
        return answer["id"]

    def service(self, method: str, path: str, form=None, headers=None):
        """A form POST (or a GET) to gunicorn itself: (status, headers, page)."""
        body = urlencode(form).encode() if form is not None else None
        status, answer, raw = fetch(
            f"{self.ideas.url}{path}",
            method,
            body,
            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )
        return status, answer, html.document_fromstring(raw or b"<p></p>")

    def login(self, address: str, password: str = PASSWORD):
        return self.service(
            "POST",
            "/moderate/login",
            {"password": password},
            {"X-Forwarded-For": address, "Origin": self.site},
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("ideas-moderation")
    root = placeholder_site(base)
    https_port = free_port()
    site = f"https://127.0.0.1:{https_port}"
    with smtp_sink() as (sink, smtp_port):
        settings = {
            "IDEAS_EDITOR_PASSWORD": PASSWORD,
            "IDEAS_CONTENT_DIR": str(base / "checkout" / "content" / "ideas"),
            "IDEAS_PUBLIC_URL": f"{site}/idee-api",
            "IDEAS_SMTP_HOST": "127.0.0.1",
            "IDEAS_SMTP_PORT": str(smtp_port),
            "IDEAS_SMTP_FROM": "Officine Ardesia <idee@officineardesia.example>",
            "IDEAS_IDEA_URL": f"{site}/idee/{{slug}}/",
            "IDEAS_IDEA_URL_EN": f"{site}/en/ideas/{{slug}}/",
        }
        (base / "checkout" / ".git").mkdir(parents=True)  # a checkout's root
        with (
            running_ideas(base / "svc", **settings) as ideas,
            running_nginx(
                base,
                root,
                free_port(),  # no Isso here
                brotli=False,
                ideas_port=int(ideas.url.rsplit(":", 1)[1]),
                https_port=https_port,
            ) as nginx,
        ):
            yield Stack(
                ideas,
                sink,
                site,
                nginx.context,
                Path(settings["IDEAS_CONTENT_DIR"]),
            )


def _status(stack: Stack, number: int) -> str:
    with contextlib.closing(sqlite3.connect(stack.ideas.db)) as db:
        return db.execute(
            "SELECT status FROM ideas WHERE id = ?", (number,)
        ).fetchone()[0]


# --- In Chromium, through nginx ------------------------------------------------


def test_an_editor_accepts_answers_and_the_supporters_hear_of_it(stack, browser):
    number = stack.propose(
        "203.0.113.10", title=HOSTILE_TITLE, description=HOSTILE_TEXT
    )
    context = browser.new_context(ignore_https_errors=True, locale="it-IT")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog {d.message}"), d.dismiss()))

    answer = page.goto(f"{stack.site}/idee-api/moderate/")
    assert answer.status == 200
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert answer.headers["cache-control"] == "private, no-store"
    assert page.locator("h1").inner_text() == "Moderazione delle idee"
    page.fill("#password", PASSWORD)
    page.click("form.login button")
    page.wait_for_selector(f"#idea-{number}")
    (cookie,) = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["secure"]
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/idee-api/moderate/"

    # What the reader wrote is text on the page: nothing in it runs or loads.
    card = page.locator(f"#idea-{number}")
    assert card.locator("h2").inner_text().endswith('Portapacchi "robusto"')
    assert card.locator(".text").inner_text() == HOSTILE_TEXT
    assert card.locator(".text *").count() == 0
    assert page.locator("script, img, iframe").count() == 0

    # Accept, with the company's answer: the idea is written into the checkout.
    page.fill(f"#answer-it-{number}-accept", "Bella idea, la valutiamo.")
    page.fill(f"#answer-en-{number}-accept", "Good idea, we are looking into it.")
    card.locator("button[value=accept]").click()
    page.wait_for_selector("pre.command")
    assert page.locator("h1").inner_text() == f"Idea n. {number}: Proposta"
    (written,) = list(stack.content.glob("*.md"))
    assert page.locator("ul.files code").inner_text() == str(written)
    assert f"Idea-Id: {number}\n" in written.read_text()
    assert "Answer-It: Bella idea, la valutiamo." in written.read_text()
    relative = written.relative_to(stack.content.parents[1])
    assert page.locator("pre.command").inner_text() == (
        f"cd {stack.content.parents[1]} && git add {relative} && "
        f"git commit -m 'Accept idea {number}'"
    )
    assert _status(stack, number) == "proposed"

    # Two confirmed supporters (one reads English) and one who never confirmed.
    ada, bea, anon = (stack.reader(f"198.51.{n}.7") for n in (10, 11, 12))
    confirm(ada, stack.sink, "ada@example.org", lang="en")
    confirm(bea, stack.sink, "bea@example.org", lang="it")
    for reader in (ada, bea, anon):
        assert reader.vote(number)[0] == 200
    before = len(stack.sink.messages)

    # A new status from the board, with the answer in both languages.
    page.goto(f"{stack.site}/idee-api/moderate/?view=board")
    card = page.locator(f"#idea-{number}")
    card.locator("summary", has_text="Cambia lo stato").click()
    page.select_option(f"#status-{number}", "planned")
    page.fill(f"#answer-it-{number}-status", "In produzione da marzo.")
    page.fill(f"#answer-en-{number}-status", "In production from March.")
    card.locator("button[value=status]").click()
    page.wait_for_selector("p.done")
    assert page.locator("h1").inner_text() == f"Idea n. {number}: Pianificata"
    assert "Status: planned" in written.read_text()
    stack.sink.wait(before + 2)
    (to_ada,) = stack.sink.to("ada@example.org", since=before)
    (to_bea,) = stack.sink.to("bea@example.org", since=before)
    assert len(stack.sink.messages) == before + 2
    assert to_ada["Subject"] == 'Idea “Portapacchi "robusto"”: Planned'
    assert to_bea["Subject"] == 'Idea «Portapacchi "robusto"»: Pianificata'
    for message, answer_text, page_path in (
        (to_ada, "In production from March.", "/en/ideas/"),
        (to_bea, "In produzione da marzo.", "/idee/"),
    ):
        kinds = [part.get_content_type() for part in message.iter_parts()]
        assert kinds == ["text/plain", "text/html"]
        text = message.get_body(("plain",)).get_content()
        mail = html.document_fromstring(message.get_body(("html",)).get_content())
        assert answer_text in text
        assert answer_text in mail.xpath("string(//blockquote)")
        assert f"{stack.site}{page_path}portapacchi-robusto/" in mail.xpath("//a/@href")
        assert mail.xpath("//script|//img") == []
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert re.fullmatch(
            rf"<{re.escape(stack.site)}/idee-api/unsubscribe\?token=[\w.-]+>",
            message["List-Unsubscribe"],
        )

    # Ada unsubscribes with one click (what her mail client POSTs, no cookie).
    url = to_ada["List-Unsubscribe"][1:-1]
    confirm_page = page.goto(url)  # a page that asks first
    assert confirm_page.status == 200
    assert page.locator("form.confirm").get_attribute("action") == url
    status, _, _ = fetch(
        url,
        "POST",
        b"List-Unsubscribe=One-Click",
        {"Content-Type": "application/x-www-form-urlencoded"},
        context=stack.context,
    )
    assert status == 200

    # The next change reaches Bea only.
    page.goto(f"{stack.site}/idee-api/moderate/?view=board")
    card = page.locator(f"#idea-{number}")
    card.locator("summary", has_text="Cambia lo stato").click()
    page.select_option(f"#status-{number}", "in-progress")
    card.locator("button[value=status]").click()
    page.wait_for_selector("p.done")
    before += 2
    stack.sink.wait(before + 1)
    assert [m["To"] for m in stack.sink.messages[before:]] == ["bea@example.org"]

    # English on request, and the logout ends the session.
    page.goto(f"{stack.site}/idee-api/moderate/?lang=en")
    assert page.locator("h1").inner_text() == "Ideas waiting for an editor"
    page.click("header.bar form button")
    page.wait_for_selector("form.login")
    assert not [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
    context.close()
    assert problems == []


# --- The door, over HTTP -----------------------------------------------------------


def _session(stack: Stack, address: str) -> dict[str, str]:
    status, headers, _ = stack.login(address)
    assert status == 303, status
    cookie = SimpleCookie(headers["Set-Cookie"])[SESSION_COOKIE]
    return {"Cookie": f"{SESSION_COOKIE}={cookie.value}", "Origin": stack.site}


def _csrf(stack: Stack, session: dict[str, str]) -> str:
    _, _, page = stack.service("GET", "/moderate/", headers=session)
    return page.xpath("//input[@name='csrf']/@value")[0]


def test_concurrent_wrong_guesses_cannot_exceed_the_lockout(stack):
    guesses, address = 24, "192.0.2.77"
    barrier = threading.Barrier(guesses)

    def guess(n: int) -> int:
        barrier.wait()
        return stack.login(address, f"tentativo-{n}")[0]

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        statuses = list(pool.map(guess, range(guesses)))
    assert statuses.count(403) == LOCKOUT_FAILURES
    assert statuses.count(429) == guesses - LOCKOUT_FAILURES
    with contextlib.closing(sqlite3.connect(stack.ideas.db)) as db:
        (recorded,) = db.execute(
            "SELECT COUNT(*) FROM events WHERE kind = 'login-failure'"
            " AND subject = '192.0.2.0/24'"
        ).fetchone()
    assert recorded == LOCKOUT_FAILURES
    # Even the right password, meanwhile; another range is not locked.
    status, headers, page = stack.login("192.0.2.200")
    assert status == 429 and 14 * 60 < int(headers["Retry-After"]) <= 15 * 60 + 1
    assert "15 minuti" in page.xpath("string(//p[@role='alert'])")
    assert stack.login("192.0.3.1")[0] == 303
    assert (
        "editor login refused: 192.0.2.0/24 is locked out"
        in stack.ideas.log.read_text()
    )


def test_a_post_without_the_csrf_token_or_from_elsewhere_changes_nothing(stack):
    number = stack.propose("203.0.113.20", title="Borse laterali più grandi")
    session = _session(stack, "198.51.100.30")
    token = _csrf(stack, session)
    form = {"id": str(number), "action": "decline", "answer_it": "No."}
    refused = [
        stack.service("POST", "/moderate/", form, session),  # no token
        stack.service("POST", "/moderate/", {**form, "csrf": "0" * 64}, session),
        stack.service(
            "POST",
            "/moderate/",
            {**form, "csrf": token},
            {**session, "Origin": "https://evil.example"},
        ),
        # Another session's token is no token.
        stack.service(
            "POST",
            "/moderate/",
            {**form, "csrf": _csrf(stack, _session(stack, "198.51.100.31"))},
            {**session, "Cookie": session["Cookie"] + "x"},
        ),
    ]
    for status, _, page in refused[:3]:
        assert status == 403
        assert page.xpath("string(//h1)") == "Richiesta rifiutata"
    assert refused[3][0] == 200  # a broken cookie: the login form, nothing done
    assert refused[3][2].xpath("//form[@class='login']")
    assert _status(stack, number) == "pending"
    status, _, page = stack.service(
        "POST", "/moderate/", {**form, "csrf": token}, session
    )
    assert status == 200 and _status(stack, number) == "declined"
    # An unknown idea, an unknown action: a page that says so, nothing else.
    for bad in ({"id": "999999", "action": "decline"}, {"id": "1", "action": "x"}):
        status, _, page = stack.service(
            "POST", "/moderate/", {**bad, "csrf": token}, session
        )
        assert status == 400 and page.xpath("//p[@role='alert']")


def test_without_a_content_folder_the_page_says_to_accept_in_the_terminal(tmp_path):
    settings = {"IDEAS_EDITOR_PASSWORD": PASSWORD, "IDEAS_PUBLIC_URL": "http://x"}
    with running_ideas(tmp_path / "svc", **settings) as ideas:
        door = Stack(ideas, Sink(), "http://x", ssl.create_default_context(), tmp_path)
        number = door.propose("203.0.113.40", title="Cupolino alto")
        session = _session(door, "198.51.100.40")
        _, _, page = door.service("GET", "/moderate/?lang=en", headers=session)
        assert "IDEAS_CONTENT_DIR" in page.xpath("string(//p[@class='note'])")
        assert page.xpath("//button[@value='decline']")
        assert not page.xpath("//button[@value='accept']")
        token = page.xpath("//input[@name='csrf']/@value")[0]
        form = {"id": str(number), "action": "accept", "csrf": token}
        status, _, page = door.service("POST", "/moderate/?lang=en", form, session)
        assert status == 400
        alert = page.xpath("string(//p[@role='alert'])")
        assert f"invoke ideas --accept {number}" in alert
        assert _status(door, number) == "pending"


def test_nginx_limits_the_login_rate(stack):
    # The right password: the service never refuses it, so a 429 is nginx's.
    statuses = [
        fetch(
            f"{stack.site}/idee-api/moderate/login",
            "POST",
            urlencode({"password": PASSWORD}).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": stack.site,
            },
            context=stack.context,
        )[0]
        for _ in range(20)
    ]
    assert 303 in statuses and set(statuses) <= {303, 429}
    assert statuses.count(429) >= 10  # a burst of 5, then 6 a minute
