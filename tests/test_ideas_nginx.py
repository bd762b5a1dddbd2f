"""The ideas service behind deploy/nginx.conf, run for real on loopback:
shared reads cached to the end of their second, writes and one voter's
answers never, the reader's address and scheme as nginx sees them."""

from __future__ import annotations

import sqlite3
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from conftest import free_port
from ideas_server import SECRET, request, running_ideas
from nginx_server import placeholder_site, running_nginx
from test_nginx import _early_in_a_second

from services.ideas import cli
from services.ideas.pow import solve
from services.ideas.voters import COOKIE, VoterCookies


@dataclass(frozen=True)
class Front:
    port: int
    context: ssl.SSLContext
    db: Path
    content: Path

    def call(self, method: str, path: str, body=None, headers=None):
        return request(
            f"https://127.0.0.1:{self.port}",
            method,
            f"/idee-api{path}",
            body,
            headers or {},
            context=self.context,
        )

    def vote(self, number: int, cookie: str | None = None):
        _, _, challenge = self.call("GET", "/challenge")
        headers = {"Content-Type": "application/json"}
        if cookie:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        return self.call(
            "POST", f"/ideas/{number}/vote", {"altcha": solve(challenge)}, headers
        )

    def supporters(self, number: int) -> int:
        return self.call("GET", f"/counts?ids={number}")[2]["counts"][str(number)][
            "supporters"
        ]


@pytest.fixture(scope="module")
def front(tmp_path_factory) -> Iterator[Front]:
    base = tmp_path_factory.mktemp("ideas-nginx")
    root = placeholder_site(base)
    with (
        running_ideas(base / "svc") as ideas,
        running_nginx(
            base,
            root,
            free_port(),  # no Isso here: its location is not used
            brotli=False,
            ideas_port=int(ideas.url.rsplit(":", 1)[1]),
        ) as nginx,
    ):
        yield Front(nginx.local.https_port, nginx.context, ideas.db, base / "content")


def _idea(front: Front) -> int:
    _, _, challenge = front.call("GET", "/challenge")
    status, _, answer = front.call(
        "POST",
        "/ideas",
        {
            "title": "Idea via nginx",
            "description": "Testo.",
            "category": "moto",
            "lang": "it",
            "altcha": solve(challenge),
        },
        {"Content-Type": "application/json"},
    )
    assert status == 202, answer
    cli.accept(front.db, answer["id"], front.content)
    return answer["id"]


def test_counts_are_cached_to_the_end_of_their_second(front):
    number = _idea(front)
    path = f"/counts?ids={number}"
    _early_in_a_second()  # both reads must meet the same second's entry
    status, first, _ = front.call("GET", path)
    assert status == 200 and first["X-Cache-Status"] in ("MISS", "EXPIRED", "HIT")
    _, again, _ = front.call("GET", path)
    assert again["X-Cache-Status"] in ("HIT", "UPDATING")
    # For browsers: revalidate; nginx keeps its own header to itself.
    assert again["Cache-Control"] == "public, max-age=0, s-maxage=1"
    assert "X-Accel-Expires" not in again
    assert again["Content-Security-Policy"].startswith("default-src 'self'")


def test_a_vote_is_never_cached_and_reaches_other_readers_within_two_seconds(front):
    number = _idea(front)
    assert front.supporters(number) == 0  # now cached
    status, headers, answer = front.vote(number)
    assert status == 200, answer
    assert headers.get("X-Cache-Status") in (None, "BYPASS")
    assert headers["Cache-Control"] == "private, no-store"
    cookie = SimpleCookie(headers["Set-Cookie"])[COOKIE]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["path"] == "/idee-api/" and cookie["samesite"] == "Strict"
    deadline = time.monotonic() + 2
    while front.supporters(number) != 1:
        assert time.monotonic() < deadline, "the vote did not show within 2 s"
        time.sleep(0.05)

    status, headers, answer = front.call(
        "GET", "/me", headers={"Cookie": f"{COOKIE}={cookie.value}"}
    )
    assert answer["ideas"] == [number]
    assert headers["X-Cache-Status"] == "BYPASS"
    _, other, answer = front.call("GET", "/me")
    assert answer["ideas"] == [] and other["X-Cache-Status"] == "BYPASS"
    first = front.call("GET", "/challenge")
    second = front.call("GET", "/challenge")
    assert first[2] != second[2] and second[1]["X-Cache-Status"] == "BYPASS"


def test_the_service_sees_the_readers_address_as_nginx_does(front):
    number = _idea(front)
    _, _, challenge = front.call("GET", "/challenge")
    status, headers, _ = front.call(
        "POST",
        f"/ideas/{number}/vote",
        {"altcha": solve(challenge)},
        {"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.50"},
    )
    assert status == 200
    voter = SimpleCookie(headers["Set-Cookie"])[COOKIE].value
    (voter_id, _) = VoterCookies(SECRET, "/").read(voter)
    with sqlite3.connect(front.db) as db:
        (network,) = db.execute(
            "SELECT range FROM voters WHERE id = ?", (voter_id,)
        ).fetchone()
    assert network == "127.0.0.0/24"  # the client's header was replaced


def test_an_oversized_body_is_refused_by_nginx(front):
    status, _, _ = front.call("POST", "/ideas", {"title": "x" * 20000})
    assert status == 413
