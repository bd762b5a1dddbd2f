"""Running the editor's serving tasks in tests, as an editor runs them:
`invoke serve`, `preview`, `livereload`, `dev` in the background, with
Ctrl-C (SIGINT) to stop them; and plain HTTP requests to what they serve."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

POST = Path("content/posts/2026-01-benvenuti.it.md")  # in the minimal content
PAGE = "2026/benvenuti/"


def get(url: str, data: bytes | None = None, headers=None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def poll(condition, what: str, timeout: float = 120):
    """Wait until ``condition()`` is true (and return it), or fail."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        get(url)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def running_task(project: Path, *args: str, port: int) -> Iterator[Path]:
    """`invoke ARGS` in the background until it serves on ``port``; stopped
    with Ctrl-C (SIGINT) on the way out. Yields the file of its output."""
    log = project / f"task-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "invoke", "-r", str(project), *args],
            cwd=project,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        poll(
            lambda: process.poll() is not None or answers(f"http://127.0.0.1:{port}/"),
            f"invoke {' '.join(args)} to serve",
        )
        assert process.poll() is None, log.read_text()
        yield log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail(f"Ctrl-C did not stop it:\n{log.read_text()}")
