"""A real Isso comment server for tests and benchmarks, and two calls of its API.

    from isso_server import new_comment, running_isso, thread

    with running_isso(tmp_path, site="http://127.0.0.1:8000") as isso:
        made = new_comment(isso.url, "/2026/post/", "Ciao!", author="Ada")
        assert thread(isso.url, "/2026/post/")["total_replies"] == 1

``running_isso`` starts Isso's built-in server (``isso -c CONFIG run``, what
`invoke comments` runs) on a free 127.0.0.1 port, with a generated
configuration and a database of its own under the given folder: moderation
off (a new comment is public at once), the guard off (a test may post as
often as it likes), ``host`` the site's origin. ``running_isso_gunicorn``
runs the same under gunicorn with deploy/gunicorn.conf.py, as production does,
with its guard (piazza/isso_guard.py): the proof of work off unless asked
for; ``proof`` solves a real (easy) challenge and gives the cookie a post
needs when it is on (``new_comment(..., proof=True)`` does it itself).

Isso trusts X-Forwarded-For (it listens on loopback only): ``reader`` sets
the address it records for a comment. Isso refuses a vote from the address
that wrote the comment, so seed comments from another reader than the one
that votes.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from piazza.processes import stop

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Isso's default salt, as deploy/isso.dev.cfg has it (a hash is never a badge).
SALT = "Eech7co8Ohloopo9Ol6baimi"
Settings = dict[str, dict[str, str]]


@dataclass
class IssoServer:
    """A running Isso: its base URL (no trailing slash) and its database."""

    url: str
    db: Path
    log: Path
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        """Stop Isso and wait for it (idempotent)."""
        stop(self.process, timeout=20)


def new_comment(
    base_url: str,
    uri: str,
    text: str,
    *,
    author: str | None = None,
    website: str | None = None,
    parent: int | None = None,
    title: str | None = None,
    email: str | None = None,
    reader: str = "203.0.113.7",
    proof: bool = False,
) -> dict:
    """POST /new?uri=URI: the comment as Isso stored it (id, hash, mode...).

    The fields after ``text`` are keyword-only. ``title`` names the thread
    when this comment creates it (default: the uri; without one Isso would
    fetch the page from the site to read its title). ``reader`` is the
    address Isso records (see the module's docstring). ``proof``: solve a
    proof of work first (gunicorn with the proof of work on).
    """
    headers = {"X-Forwarded-For": reader}
    if proof:
        headers["Cookie"] = proof_cookie(base_url, reader=reader)
    body = {"text": text, "author": author, "website": website, "email": email}
    body = {key: value for key, value in body.items() if value is not None}
    body["parent"] = parent
    body["title"] = uri if title is None else title
    return call(
        f"{base_url}/new?uri={urllib.parse.quote(uri)}",
        body,
        headers=headers,
    )[2]


def solve(challenge: dict) -> str:
    """ALTCHA's payload for a challenge from GET /pow/challenge, solved."""
    import base64

    import altcha

    made = altcha.ChallengeV1(
        challenge["algorithm"],
        challenge["challenge"],
        challenge["maxNumber"],
        challenge["salt"],
        challenge["signature"],
    )
    solution = altcha.solve_challenge_v1(made)
    assert solution is not None, "the challenge has no solution"
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def proof_cookie(base_url: str, *, reader: str = "203.0.113.7") -> str:
    """A Cookie header carrying a fresh proof of work, solved as a browser
    would (piazza/isso_guard.py)."""
    headers = {"X-Forwarded-For": reader}
    challenge = call(f"{base_url}/pow/challenge", headers=headers)[2]
    _status, answer, _ = call(
        f"{base_url}/pow/verify", {"payload": solve(challenge)}, headers=headers
    )
    return answer["Set-Cookie"].split(";")[0]


def thread(base_url: str, uri: str) -> dict:
    """GET /?uri=URI: the thread (total_replies, replies with their replies)."""
    return call(f"{base_url}/?uri={urllib.parse.quote(uri)}")[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config(db: Path, port: int, site: str, settings: Settings | None = None) -> str:
    """An Isso configuration for tests (see the module's docstring).

    ``settings`` changes some of it: ``{"moderation": {"enabled": "true"}}``.
    """
    text = f"""[general]
dbpath = {db}
host = {site}
latest-enabled = true
notify = stdout
[server]
listen = http://127.0.0.1:{port}
[moderation]
enabled = false
[guard]
enabled = false
reply-to-self = true
require-author = false
require-email = false
[hash]
salt = {SALT}
algorithm = pbkdf2
[rss]
base = {site}
"""
    if not settings:
        return text
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    parser.read_dict(settings)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


# deploy/isso.cfg's $NAME references, for running it in tests.
PRODUCTION_SECRETS = {
    "ISSO_ADMIN_PASSWORD": "prova-admin-9f3k",
    "ISSO_HASH_SALT": "sale-di-prova-1234",
    "ISSO_SMTP_HOST": "127.0.0.1",
    "ISSO_SMTP_USERNAME": "commenti",
    "ISSO_SMTP_PASSWORD": "prova-smtp",
    "ISSO_NOTIFY_TO": "redazione@officineardesia.example",
    # Not in isso.cfg: the key of the proof of work in front of Isso
    # (piazza/isso_guard.py), which gunicorn.conf.py requires too.
    "PIAZZA_ALTCHA_HMAC_KEY": "prova-altcha-0123456789abcdef",
}


def production_config(
    folder: Path, port: int, changes: tuple[tuple[str, str], ...] = ()
) -> Path:
    """deploy/isso.cfg with only its paths and port moved under ``folder``,
    and the (old line, new line) ``changes`` made."""
    text = (ROOT / "deploy" / "isso.cfg").read_text(encoding="utf-8")
    for old, new in (
        ("dbpath = /var/lib/isso/comments.db", f"dbpath = {folder / 'comments.db'}"),
        ("log-file = /var/log/isso/isso.log", f"log-file = {folder / 'isso.log'}"),
        ("listen = http://127.0.0.1:8080", f"listen = http://127.0.0.1:{port}"),
        *changes,
    ):
        assert old in text, f"deploy/isso.cfg no longer has {old!r}"
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "isso.cfg"
    config_file.write_text(text, encoding="utf-8")
    return config_file


@contextlib.contextmanager
def running_isso(
    folder: Path,
    site: str = "http://127.0.0.1:8000",
    port: int | None = None,
    settings: Settings | None = None,
) -> Iterator[IssoServer]:
    """Isso's built-in server for ``site``; stopped (and waited for) on exit.

    Its config, database (comments.db) and log (isso.log) go in ``folder``;
    ``settings`` changes the configuration (see ``config``).
    """
    port = port or free_port()
    cfg, db, log = _prepare(folder, port, site, "isso.log", settings)
    command = [str(BIN / "isso"), "-c", str(cfg), "run"]
    with _started(command, port, db, log, env=os.environ, cwd=folder) as server:
        yield server


@contextlib.contextmanager
def running_isso_gunicorn(
    folder: Path,
    site: str = "http://127.0.0.1:8000",
    port: int | None = None,
    workers: int = 2,
    *,
    settings: Settings | None = None,
    production: tuple[tuple[str, str], ...] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[IssoServer]:
    """Isso as production runs it: gunicorn with deploy/gunicorn.conf.py.

    ``settings``: options to change, as for :func:`config`. With
    ``production`` (changes, maybe none, see :func:`production_config`) it
    runs deploy/isso.cfg itself, with :data:`PRODUCTION_SECRETS` in its
    environment, instead of the tests' configuration. ``env`` adds variables
    (e.g. PIAZZA_PROOF_OF_WORK=on: off by default here, with a test key).
    """
    port = port or free_port()
    cfg, db, log = _prepare(folder, port, site, "gunicorn.log", settings)
    if production is not None:
        cfg = production_config(folder, port, production)
    env = {
        **os.environ,
        **(PRODUCTION_SECRETS if production is not None else {}),
        "ISSO_SETTINGS": str(cfg),
        "ISSO_BIND": f"127.0.0.1:{port}",
        "ISSO_WORKERS": str(workers),
        "PIAZZA_PROOF_OF_WORK": "off",
        "PIAZZA_ALTCHA_HMAC_KEY": "tests-only-" + "k" * 21,
        **(env or {}),
    }
    command = [
        str(BIN / "gunicorn"),
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--access-logfile",
        "/dev/null",
    ]
    with _started(command, port, db, log, env=env, cwd=folder) as server:
        yield server


def _prepare(
    folder: Path, port: int, site: str, log: str, settings: Settings | None = None
) -> tuple[Path, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    cfg, db = folder / "isso.cfg", folder / "comments.db"
    cfg.write_text(config(db, port, site, settings), encoding="utf-8")
    return cfg, db, folder / log


@contextlib.contextmanager
def _started(command, port, db, log, *, env, cwd) -> Iterator[IssoServer]:
    with log.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )
    server = IssoServer(f"http://127.0.0.1:{port}", db, log, process)
    try:
        _wait(server)
        yield server
    finally:
        server.stop()


def _wait(server: IssoServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            call(f"{server.url}/config")
            return
        except (urllib.error.URLError, ConnectionError):
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(
                    f"Isso did not start at {server.url}:\n{server.log.read_text()}"
                ) from None
            time.sleep(0.05)


def call(url: str, data: object = None, *, method: str | None = None, headers=None):
    """One request to Isso's JSON API (``data``, if any, sent as JSON):
    (status, headers, the decoded answer). An HTTP error raises HTTPError."""
    request = urllib.request.Request(
        url,
        data=None if data is None else json.dumps(data).encode(),
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, json.loads(response.read())
