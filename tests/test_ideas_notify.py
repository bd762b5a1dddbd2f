"""E-mail about ideas (services/ideas/notify.py), read back from a real SMTP
server on loopback: supporters told of a status change in their language,
editors of each new proposal, one-click unsubscription (RFC 8058), hostile
text inert, and a send that fails never undoing a decision."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ideas_server import Reader, fetch, free_port, request, running_ideas
from lxml import html
from mailsink import Sink, confirm, smtp_sink
from markup import assert_no_executable_markup

from services.ideas import cli, notify

SENDER = "Officine Ardesia <idee@officineardesia.example>"
PAGE_IT = "https://www.officineardesia.example/idee/{slug}/"
PAGE_EN = "https://www.officineardesia.example/en/ideas/{slug}/"
HOSTILE_TITLE = 'Luci <script>alert(1)</script>"più" forti\r\nBcc: evil@example.org'
HOSTILE_TEXT = (
    "<img src=x onerror=alert(1)> **grassetto** [clic](javascript:alert(2))\n\n"
    "<iframe src=https://evil.example></iframe><style>body{}</style>"
)


def _settings(tmp_path: Path, port: int, **more: str) -> dict[str, str]:
    return {
        "IDEAS_SMTP_HOST": "127.0.0.1",
        "IDEAS_SMTP_PORT": str(port),
        "IDEAS_SMTP_FROM": SENDER,
        "IDEAS_IDEA_URL": PAGE_IT,
        "IDEAS_IDEA_URL_EN": PAGE_EN,
        "IDEAS_CONTENT_DIR": str(tmp_path / "content"),
        **more,
    }


def _parts(message) -> tuple[str, html.HtmlElement]:
    """The plain text and the parsed HTML part of a notification."""
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    page = html.document_fromstring(message.get_body(("html",)).get_content())
    return text, page


def _unsubscribe_url(message) -> str:
    value = message["List-Unsubscribe"]
    assert value.startswith("<") and value.endswith(">"), value
    # As sent: one <URL> a mail client reads (RFC 2369), not an encoded word.
    assert dict(message.raw_items())["List-Unsubscribe"] == value
    # One-click (RFC 8058) only for an https URL: this service is plain http
    # (test_ideas_moderation.py has it behind nginx, over https).
    assert value.startswith("<http://")
    assert message["List-Unsubscribe-Post"] is None
    return value[1:-1]


@pytest.fixture
def smtp():
    with smtp_sink() as running:
        yield running


def _supported_idea(server, sink: Sink, tmp_path: Path):
    """An accepted idea supported by ada (confirmed, English), bea
    (confirmed, Italian) and one reader who never confirmed."""
    number = Reader(server.url, "203.0.113.1").propose(title="Più luce in officina")[2][
        "id"
    ]
    cli.accept(server.db, number, tmp_path / "content")
    ada, bea, anon = (Reader(server.url, f"198.51.{n}.1") for n in range(3))
    confirm(ada, sink, "ada@example.org", lang="en")
    confirm(bea, sink, "bea@example.org", lang="it")
    for reader in (ada, bea, anon):
        assert reader.vote(number)[0] == 200
    return number


def test_supporters_hear_of_a_change_in_their_language_until_they_unsubscribe(
    tmp_path, smtp
):
    sink, port = smtp
    with running_ideas(tmp_path / "svc", **_settings(tmp_path, port)) as server:
        number = _supported_idea(server, sink, tmp_path)
        before = len(sink.messages)  # the two confirmations; accepting told nobody
        assert before == 2
        notifier, why_not = notify.from_environ(server.env)
        assert notifier is not None, why_not

        # The terminal's path (`invoke ideas --status`): sent once committed.
        cli.set_status(
            server.db,
            number,
            "planned",
            tmp_path / "content",
            answer_it="La facciamo in primavera.\nCon <b>LED</b> nuovi.",
            answer_en="We build it in spring.",
            notifier=notifier,
        )
        sink.wait(before + 2)
        (to_ada,) = sink.to("ada@example.org", since=before)
        (to_bea,) = sink.to("bea@example.org", since=before)
        assert len(sink.messages) == before + 2  # the unconfirmed reader: nothing

        assert to_ada["Subject"] == "Idea “Più luce in officina”: Planned"
        assert to_bea["Subject"] == "Idea «Più luce in officina»: Pianificata"
        for message, lang, answer in (
            (to_ada, "en", "We build it in spring."),
            (to_bea, "it", "La facciamo in primavera."),
        ):
            assert message["From"] == SENDER
            assert message["Content-Language"] == lang
            assert message["Auto-Submitted"] == "auto-generated"
            text, page = _parts(message)
            assert answer in text
            assert page.get("lang") == lang
            quoted = " ".join(page.xpath("//blockquote//text()"))
            assert answer in quoted
            slug = "piu-luce-in-officina"
            page_url = (PAGE_EN if lang == "en" else PAGE_IT).format(slug=slug)
            assert page_url in text
            links = page.xpath("//a/@href")
            assert page_url in links
            unsubscribe = _unsubscribe_url(message)
            assert unsubscribe.startswith(f"{server.url}/unsubscribe?token=")
            assert unsubscribe in links and unsubscribe in text
            assert_no_executable_markup(page, f"mail to {message['To']}")
        # The editor's answer is text, in the HTML too.
        (bold,) = [
            p
            for p in html.document_fromstring(
                to_bea.get_body(("html",)).get_content()
            ).xpath("//blockquote/p")
            if "LED" in p.text_content()
        ]
        assert bold.text_content() == "Con <b>LED</b> nuovi." and len(bold) == 0

        # The unsubscribe page asks first (GET changes nothing)...
        link = urlsplit(_unsubscribe_url(to_ada))
        status, headers, _ = request(server.url, "GET", f"{link.path}?{link.query}")
        assert status == 200 and headers["Cache-Control"] == "private, no-store"
        # ...one click (RFC 8058: a POST with this body, no cookie) does it.
        status, _, _ = request(
            server.url,
            "POST",
            f"{link.path}?{link.query}",
            raw=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 200
        forged = link.query[:-3] + "xyz"
        assert request(server.url, "POST", f"{link.path}?{forged}")[0] == 400

        before = len(sink.messages)
        cli.set_status(server.db, number, "in-progress", None, notifier=notifier)
        sink.wait(before + 1)
        assert len(sink.messages) == before + 1
        assert sink.messages[-1]["To"] == "bea@example.org"
        # Merged: the duplicate's supporters are told, with the original's number.
        other = Reader(server.url, "203.0.113.2").propose(title="Lampade nuove")[2]
        cli.accept(server.db, other["id"], tmp_path / "content")
        before = len(sink.messages)
        cli.merge(server.db, number, other["id"], None, notifier=notifier)
        (merged,) = sink.wait(before + 1)[before:]
        assert merged["To"] == "bea@example.org"
        assert f"n. {other['id']}" in _parts(merged)[0]


def test_editors_hear_of_each_proposal_and_hostile_text_stays_inert(tmp_path, smtp):
    sink, port = smtp
    editors = "redazione@example.org, capo@example.org"
    settings = _settings(
        tmp_path, port, IDEAS_EDITORS_EMAIL=editors, IDEAS_EDITORS_LANG="en"
    )
    with running_ideas(tmp_path / "svc", **settings) as server:
        status, _, answer = Reader(server.url).propose(
            title=HOSTILE_TITLE,
            description=HOSTILE_TEXT,
            name='<a href="javascript:x">Mallory</a>',
            email="mallory@example.org",
        )
        assert status == 202, answer
        messages = sink.wait(2)
    assert sorted(m["To"] for m in messages) == [
        "capo@example.org",
        "redazione@example.org",
    ]
    for message in messages:
        # The title is one line: its CR/LF added no header.
        assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
        assert message["Bcc"] is None and "evil@example.org" not in message["To"]
        assert message["Subject"].startswith("New idea to moderate: “Luci")
        text, page = _parts(message)
        assert_no_executable_markup(page, "the editors' e-mail")
        assert page.xpath("//script|//img|//iframe|//style") == []
        # What the reader wrote is shown as text, to be judged.
        (pre,) = page.xpath("//pre")
        assert pre.text_content() == HOSTILE_TEXT
        assert HOSTILE_TEXT in text
        assert f"{server.url}/moderate/" in page.xpath("//a/@href")
        assert _unsubscribe_url(message) in page.xpath("//a/@href")
    # An editor who unsubscribes hears of no more proposals.
    with running_ideas(tmp_path / "svc", **settings) as server:
        link = urlsplit(_unsubscribe_url(sink.to("capo@example.org")[0]))
        assert request(server.url, "POST", f"{link.path}?{link.query}")[0] == 200
        assert Reader(server.url, "203.0.113.9").propose(title="Altro")[0] == 202
        sink.wait(3)
    assert [m["To"] for m in sink.messages[2:]] == ["redazione@example.org"]


def test_a_send_that_fails_is_logged_and_the_decision_stands(tmp_path, smtp, caplog):
    sink, port = smtp
    settings = _settings(tmp_path, port, IDEAS_EDITORS_EMAIL="redazione@example.org")
    with running_ideas(tmp_path / "svc", **settings) as server:
        number = _supported_idea(server, sink, tmp_path)
        # The SMTP server is gone (nothing listens on this port any more).
        dead = {**server.env, "IDEAS_SMTP_PORT": str(free_port())}
        notifier, _ = notify.from_environ(dead)
        with caplog.at_level(logging.ERROR, logger="services.ideas.notify"):
            idea, _ = cli.set_status(server.db, number, "done", None, notifier=notifier)
        assert idea.status == "done"
        assert "notifications not sent (2)" in caplog.text
        with contextlib.closing(sqlite3.connect(server.db)) as db:
            (status,) = db.execute(
                "SELECT status FROM ideas WHERE id = ?", (number,)
            ).fetchone()
        assert status == "done"
    # A proposal while the editors' SMTP server is down is still taken.
    dead_settings = {**settings, "IDEAS_SMTP_PORT": str(free_port())}
    with running_ideas(tmp_path / "svc", **dead_settings) as server:
        status, _, answer = Reader(server.url, "203.0.113.3").propose(title="Ancora")
        assert status == 202, answer
    assert "notifications not sent (1)" in server.log.read_text()


def test_without_a_password_the_moderation_page_says_how_to_set_it_up(tmp_path):
    with running_ideas(tmp_path / "svc") as server:
        for lang, words in (("en", "not set up"), ("it", "non è configurata")):
            status, headers, body = fetch(f"{server.url}/moderate/?lang={lang}")
            assert status == 503 and headers["Content-Type"].startswith("text/html")
            (alert,) = html.document_fromstring(body).xpath("//p[@role='alert']")
            assert words in alert.text_content()
            assert "IDEAS_EDITOR_PASSWORD" in alert.text_content()
            assert not html.document_fromstring(body).xpath("//form")
