"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives,
and the ideas service's double opt-in done through it.

    with smtp_sink() as (sink, port):
        ...  # a service configured with IDEAS_SMTP_PORT=port
        message = sink.wait(1)[0]
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from conftest import free_port


class Sink:
    """What an aiosmtpd server on loopback received."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.SMTP)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 OK"

    def wait(self, count: int, timeout: float = 10) -> list:
        """The messages, once at least ``count`` arrived (or fail)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} of {count} e-mails arrived"
                self._arrived.wait(left)
        return self.messages

    def to(self, address: str, since: int = 0) -> list:
        """The messages to ``address`` among those from number ``since`` on."""
        with self._arrived:
            return [m for m in self.messages[since:] if m["To"] == address]


@contextlib.contextmanager
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()


def only_link(message) -> str:
    """The one link in a (plain text) message."""
    (link,) = re.findall(r"https?://\S+", message.get_content())
    return link


def confirm(reader, sink: Sink, address: str, lang: str = "it") -> None:
    """``reader`` (tests/ideas_server.Reader) confirms ``address`` by the
    link the service mails; the link's query is asked of the reader's own
    door (the service, or nginx in front of it)."""
    before = len(sink.messages)
    status, _, answer = reader.call(
        "POST", "/me/email", {"email": address, "lang": lang, "altcha": reader.proof()}
    )
    assert status == 202, answer
    message = sink.wait(before + 1)[before]
    assert message["To"] == address
    assert message["Content-Language"] == lang
    link = urlsplit(only_link(message))
    status, _, answer = reader.call("GET", f"/confirm?{link.query}")
    assert (status, answer["confirmed"]) == (200, True), answer
