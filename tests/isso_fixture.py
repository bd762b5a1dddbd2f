"""A real Isso comment server for tests: started on a free loopback port with
a temporary database, and a few calls of its public API."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ISSO = Path(sys.executable).parent / "isso"


@dataclass
class IssoServer:
    url: str
    db: Path
    process: subprocess.Popen

    def new_comment(
        self, uri: str, text: str, *, reader: str = "203.0.113.7", **fields
    ) -> dict:
        """POST /new: the comment as Isso stored it (author, website, parent...).

        ``reader`` is the address Isso records (it trusts X-Forwarded-For):
        Isso refuses votes from the address that wrote a comment, so seeded
        comments come from elsewhere than the browser under test.
        """
        body = {"text": text, "title": fields.pop("title", "A post"), **fields}
        return _json(
            f"{self.url}/new?uri={urllib.parse.quote(uri)}",
            data=json.dumps(body).encode(),
            headers={"X-Forwarded-For": reader},
        )

    def thread(self, uri: str) -> dict:
        return _json(f"{self.url}/?uri={urllib.parse.quote(uri)}")

    def like(self, comment_id: int) -> dict:
        return _json(f"{self.url}/id/{comment_id}/like", data=b"")


def _json(url: str, data: bytes | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def config(db: Path, port: int, site: str) -> str:
    return f"""[general]
dbpath = {db}
host = {site}
latest-enabled = true
[server]
listen = http://127.0.0.1:{port}
[moderation]
enabled = false
[guard]
enabled = false
reply-to-self = true
[hash]
salt = Eech7co8Ohloopo9Ol6baimi
algorithm = pbkdf2
"""


@contextlib.contextmanager
def running_isso(tmp: Path, port: int, site: str) -> Iterator[IssoServer]:
    """Isso on 127.0.0.1:port for ``site``; stopped (and waited for) on exit."""
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = tmp / "isso.cfg"
    db = tmp / "comments.db"
    cfg.write_text(config(db, port, site))
    log = (tmp / "isso.log").open("w")
    process = subprocess.Popen(
        [str(ISSO), "-c", str(cfg), "run"], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process, tmp / "isso.log")
        yield IssoServer(url, db, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@contextlib.contextmanager
def running_isso_gunicorn(
    tmp: Path, port: int, site: str, workers: int = 2
) -> Iterator[IssoServer]:
    """Isso as production runs it: gunicorn with deploy/gunicorn.conf.py."""
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = tmp / "isso.cfg"
    db = tmp / "comments.db"
    cfg.write_text(config(db, port, site))
    log = (tmp / "gunicorn.log").open("w")
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "ISSO_SETTINGS": str(cfg),
        "ISSO_BIND": f"127.0.0.1:{port}",
        "ISSO_WORKERS": str(workers),
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(root / "deploy" / "gunicorn.conf.py"),
            "--access-logfile",
            "/dev/null",
            "isso.run",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process, tmp / "gunicorn.log")
        yield IssoServer(url, db, process)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            _json(f"{url}/config")
            return
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Isso did not start: {log.read_text()}") from None
            time.sleep(0.1)
