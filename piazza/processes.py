"""Processes: starting and stopping the servers the tasks and tests start,
and a lock that processes share."""

from __future__ import annotations

import collections
import fcntl
import os
import subprocess
import sys
import threading
from pathlib import Path


def gunicorn_executable() -> str:
    """The virtualenv's gunicorn, or the one on PATH."""
    local = Path(sys.executable).parent / "gunicorn"
    return str(local) if local.exists() else "gunicorn"


class LoggedServer:
    """A server started in the background, its log (stderr) passed on to
    ours and its last lines kept, to say why it stopped.

    Reading its log all the time matters: a full pipe would block it.
    """

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        self._tail: collections.deque[str] = collections.deque(maxlen=30)
        self._reader = threading.Thread(target=self._forward, daemon=True)
        self._reader.start()

    def _forward(self) -> None:
        for line in self.process.stderr:
            self._tail.append(line)
            sys.stderr.write(line)

    def exited(self) -> int | None:
        """Its exit status once it has stopped (None while it runs)."""
        return self.process.poll()

    def last_words(self) -> str:
        """Its last lines of log, once it has stopped."""
        self._reader.join(timeout=2)
        return "".join(self._tail).rstrip()

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask ``process`` to stop (SIGTERM), kill it after ``timeout`` seconds,
    and wait for it either way, so no zombie or open port is left behind."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ProcessLock:
    """A lock held by one thread of one process at a time, across processes
    that fork from the one that made it (gunicorn's workers).

    An ``flock`` on ``path``: the kernel releases it when its holder dies,
    even by SIGKILL (a semaphore would stay taken, and every other process
    would wait on it forever). Threads of a process first take a
    threading.Lock of that process; after a fork, the child gets a new one
    and opens the file anew (a descriptor inherited from the parent would
    share the parent's lock).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._file = None
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._threads = threading.Lock()

    def __enter__(self) -> ProcessLock:
        self._threads.acquire()
        try:
            if self._file is None:
                self._file = open(self.path, "a", encoding="utf-8")  # kept open
            fcntl.flock(self._file, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._threads.release()
