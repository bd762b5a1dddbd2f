"""The SHA-256 of a file, read once per build however many plugins ask.

plugins/pictures (a cover's variants) and plugins/socialcards (the card drawn
over it) both key their caches by a cover's bytes, and a post and each of its
translations name the same cover: without this, every cover was read and
hashed three times a build. A digest is remembered for the life of the
process (one build) under the file's identity and state: device, inode,
size, modification and change times in nanoseconds. Writing a file, or
putting another in its place, gives it a new change time or inode, so it is
read again; only a rewrite to the same size within the same tick of the
file system's clock, during the build itself, would go unseen, and a source
edited while the build reads it is a race with the build in any case.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_known: dict[tuple[str, int, int, int, int, int], str] = {}


def _state(path: Path) -> tuple[str, int, int, int, int, int]:
    info = os.stat(path)
    return (
        os.fspath(path),
        info.st_dev,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes (hex); OSError if it can't be read."""
    before = _state(path)
    known = _known.get(before)
    if known is not None:
        return known
    with open(path, "rb") as file:
        value = hashlib.file_digest(file, "sha256").hexdigest()
    if _state(path) == before:  # not changed while it was read
        _known[before] = value
    return value
