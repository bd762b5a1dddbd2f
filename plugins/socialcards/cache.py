"""Cards drawn before, kept under var/ by a key over all that shapes them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from filedigest import file_sha256
from socialcards.model import Card
from wholefile import write_whole

EXTENSIONS = ("png", "jpg")


def card_key(card: Card, cover_digest: str | None, fingerprint: str) -> str:
    """A hash of everything the image depends on (the post's source file
    name is only for messages, so it isn't part of it)."""
    data = json.dumps(
        [card.title, card.site_name, card.lang, cover_digest, fingerprint],
        ensure_ascii=False,
    )
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), read once per build (plugins/filedigest:
    pictures hashes the same covers, and translations share them)."""
    return file_sha256(path)


class CardCache:
    """One file per card, named by its key: ``<key>.png`` or ``<key>.jpg``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def find(self, key: str) -> Path | None:
        for ext in EXTENSIONS:
            path = self.folder / f"{key}.{ext}"
            if path.is_file():
                return path
        return None

    def store(self, key: str, ext: str, data: bytes) -> Path:
        """Write whole or not at all (a temporary file, then renamed), so an
        interrupted build never leaves half a card for the next one."""
        return write_whole(self.folder / f"{key}.{ext}", data)
