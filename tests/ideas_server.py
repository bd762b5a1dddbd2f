"""The ideas service for tests and benchmarks: gunicorn with
deploy/ideas.gunicorn.conf.py on a free loopback port, and a reader to talk
to it (its voter cookie, its address, its proofs of work).

    with running_ideas(tmp_path, IDEAS_VOTE_BUDGET="3") as ideas:
        reader = Reader(ideas.url, "203.0.113.7")
        status, _, answer = reader.vote(1)

The service believes X-Forwarded-For from 127.0.0.1 (a trusted proxy, as
nginx is), so ``Reader(address=...)`` is the reader's address as the
service sees it. Challenges are real ALTCHA challenges, made easy
(IDEAS_POW_MAX_NUMBER=20) so a test solves hundreds quickly.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

from piazza.processes import stop
from services.ideas.pow import solve
from services.ideas.voters import COOKIE

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SECRET = "test-secret-" + "x" * 40


@dataclass
class IdeasServer:
    url: str
    db: Path
    log: Path
    env: dict[str, str]
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        stop(self.process, timeout=20)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(folder: Path, port: int, **settings: str) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("IDEAS_")
    }
    env.update(
        IDEAS_SECRET=SECRET,
        IDEAS_DB=str(folder / "ideas.db"),
        IDEAS_BIND=f"127.0.0.1:{port}",
        IDEAS_WORKERS="2",
        IDEAS_POW_MAX_NUMBER="20",
        IDEAS_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    env.update(settings)
    return env


@contextlib.contextmanager
def running_ideas(folder: Path, **settings: str) -> Iterator[IdeasServer]:
    """The service under gunicorn, its database in ``folder``; ``settings``
    are IDEAS_* variables. Stopped (and waited for) on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = environment(folder, port, **settings)
    log = folder / "ideas.log"
    command = [
        str(BIN / "gunicorn"),
        "--config",
        str(ROOT / "deploy" / "ideas.gunicorn.conf.py"),
        "--access-logfile",
        "/dev/null",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder
        )
    server = IdeasServer(
        f"http://127.0.0.1:{port}", Path(env["IDEAS_DB"]), log, env, process
    )
    try:
        _wait(server)
        yield server
    finally:
        server.stop()


def _wait(server: IdeasServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            request(server.url, "GET", "/config")
            return
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(
                    f"the ideas service did not start at {server.url}:\n"
                    f"{server.log.read_text()}"
                ) from None
            time.sleep(0.05)


def fetch(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    context: ssl.SSLContext | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request to ``url`` (http, or https with the ``context`` to trust
    nginx in front): (status, headers, the raw body)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, context=context, timeout=30
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def request(
    base: str,
    method: str,
    path: str,
    body: object = None,
    headers: dict[str, str] | None = None,
    *,
    raw: bytes | None = None,
    context: ssl.SSLContext | None = None,
) -> tuple[int, http.client.HTTPMessage, dict]:
    """One request: (status, headers, the JSON answer, or {} if none).
    ``base`` may be https (nginx in front), with the ``context`` to trust it."""
    parts = urlsplit(base)
    data = raw if raw is not None else None if body is None else json.dumps(body)
    status, answer_headers, payload = fetch(
        f"{parts.scheme}://{parts.netloc}{path}",
        method,
        data.encode() if isinstance(data, str) else data,
        {"Content-Type": "application/json", **(headers or {})},
        context=context,
    )
    answer = json.loads(payload) if payload.startswith(b"{") else {}
    return status, answer_headers, answer


_addresses = itertools.count(1)


def fresh_address() -> str:
    """An address in a /24 no other caller in this process uses."""
    n = next(_addresses)
    return f"198.{18 + n // 250}.{n % 250}.10"


class Reader:
    """A browser: a voter cookie (once the service gives one) and an address."""

    def __init__(self, url: str, address: str = "203.0.113.7") -> None:
        self.url = url
        self.address = address
        self.cookie: str | None = None

    def _headers(self) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.address}
        if self.cookie is not None:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        return headers

    def call(self, method: str, path: str, body: object = None, **kwargs):
        status, headers, answer = request(
            self.url, method, path, body, self._headers(), **kwargs
        )
        for value in headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            if COOKIE in jar:
                self.cookie = jar[COOKIE].value or None
        return status, headers, answer

    def proof(self) -> str:
        status, _, challenge = self.call("GET", "/challenge")
        assert status == 200, challenge
        return solve(challenge)

    def vote(self, number: int, proof: str | None = None):
        body = {"altcha": proof if proof is not None else self.proof()}
        return self.call("POST", f"/ideas/{number}/vote", body)

    def withdraw(self, number: int):
        return self.call("DELETE", f"/ideas/{number}/vote")

    def choose(self, poll: str, option: str, proof: str | None = None):
        """Choose ``option`` in ``poll`` (POST /polls/<poll>/vote)."""
        body = {
            "option": option,
            "altcha": proof if proof is not None else self.proof(),
        }
        return self.call("POST", f"/polls/{poll}/vote", body)

    def choice(self, poll: str) -> str | None:
        """This reader's choice in ``poll`` (GET /polls/<poll>/me)."""
        status, _, answer = self.call("GET", f"/polls/{poll}/me")
        assert status == 200, answer
        return answer["choice"]

    def propose(self, **fields):
        body = {
            "title": "Un portapacchi più robusto",
            "description": "Per i viaggi lunghi.",
            "category": "accessori",
            "lang": "it",
            **fields,
        }
        body.setdefault("altcha", self.proof())
        return self.call("POST", "/ideas", body)


def counts(url: str, *numbers: int) -> dict[int, tuple[int, int]]:
    """{idea: (supporters, confirmed)} from GET /counts."""
    ids = ",".join(str(n) for n in numbers)
    status, _, answer = request(url, "GET", f"/counts?ids={ids}")
    assert status == 200, answer
    return {
        int(k): (v["supporters"], v["confirmed"]) for k, v in answer["counts"].items()
    }


def poll_totals(url: str, poll: str) -> dict[str, int]:
    """{option: choices} from GET /polls/<poll>."""
    status, _, answer = request(url, "GET", f"/polls/{poll}")
    assert status == 200, answer
    return answer["totals"]


def write_polls(path: Path, **polls: tuple[list[str], str]) -> Path:
    """A build's polls file: ``write_polls(p, colours=(["red", "blue"],
    "2030-01-01T00:00:00+00:00"))``; the service gets it as IDEAS_POLLS_FILE."""
    data = {
        "polls": {
            key: {"options": options, "closes": closes}
            for key, (options, closes) in polls.items()
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path
