"""What the check learnt about each file, kept between checks (var/check/).

A file's facts (what its own rules found, its links, ids, size, feeds...)
are a function of its bytes alone, so they are stored under the SHA-256 of
those bytes: an edited file has another hash and is read again, an unchanged
one is not parsed again, whatever its path or modification time (a publish
builds into a new folder every time). Cross-file rules (does the target of a
link exist, does it have the anchor) are never stored: the check recomputes
them from the facts at every run.

One file per cache, written whole (plugins/wholefile) with a version line
(the check's own code, the parsers' versions, the settings the facts depend
on) and a digest of its body: a cache written by other rules, truncated or
corrupt is ignored and rebuilt, never trusted. The folder is safe to delete.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import marshal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wholefile import write_whole

log = logging.getLogger(__name__)

MAGIC = b"piazza-check-facts 1"


class FactCache:
    """Facts by (role, content hash): ``facts()`` answers from the cache or
    computes and remembers; ``save()`` keeps only what this check used."""

    def __init__(self, path: Path | None, version: str) -> None:
        self.path = path
        self.version = version.encode()
        self.hits = self.misses = 0
        self._stored: dict[bytes, Any] = self._load() if path else {}
        self._used: dict[bytes, Any] = {}

    def facts(self, role: bytes, data: bytes, compute: Callable[[bytes], Any]) -> Any:
        """The facts of ``data`` read as ``role`` (b"p" a page, b"c" a stylesheet)."""
        key = role + hashlib.sha256(data).digest()
        try:
            value = self._stored[key]
            self.hits += 1
        except KeyError:
            value = compute(data)
            self.misses += 1
        self._used[key] = value
        return value

    def save(self) -> None:
        """Keep the facts of this check's files (dropping others), if any changed."""
        if self.path is None or (
            not self.misses and self._used.keys() == self._stored.keys()
        ):
            return
        body = marshal.dumps(self._used)
        header = b"\n".join(
            (MAGIC, self.version, hashlib.sha256(body).hexdigest().encode())
        )
        try:
            write_whole(self.path, header + b"\n" + body)
        except OSError as exc:  # a cache that can't be written only costs time
            log.warning(
                "check: cannot write its cache %s (%s); it will be rebuilt",
                self.path,
                exc,
            )

    def _load(self) -> dict[bytes, Any]:
        assert self.path is not None
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning(
                "check: cannot read its cache %s (%s); rebuilding it", self.path, exc
            )
            return {}
        parts = raw.split(b"\n", 3)
        if len(parts) != 4 or parts[0] != MAGIC or parts[1] != self.version:
            return {}  # another version of the rules: start again
        body = parts[3]
        if hashlib.sha256(body).hexdigest().encode() != parts[2]:
            log.warning("check: its cache %s is damaged; rebuilding it", self.path)
            return {}
        try:
            with collector_paused():
                stored = marshal.loads(body)
        except (EOFError, ValueError, TypeError):
            return {}
        return stored if isinstance(stored, dict) else {}


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: facts are a million small tuples
    without cycles, and each collection would walk the whole heap of the
    process (a publish's is large) again and again for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
