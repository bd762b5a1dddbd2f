"""The edge: rendered pages on disk, by key.

``<path>/manifest.json`` maps each page key to the bodies the page read
(content token -> digest of the body) and the SHA-256 of the page;
``<path>/pages/<ab>/<sha256>`` holds the page's bytes. Both are written to a
temporary name and renamed. After a build the manifest keeps only the keys
that build used, and pages no key names are removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from wholefile import write_whole

logger = logging.getLogger(__name__)
VERSION = 1


@dataclass(frozen=True)
class Entry:
    bodies: dict[str, str]
    page: str  # SHA-256 of the page's UTF-8 bytes


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, Entry] = {}
        self.used: dict[str, Entry] = {}
        try:
            data = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
            if data.get("version") == VERSION:
                self.entries = {
                    key: Entry(dict(value["bodies"]), value["page"])
                    for key, value in data["entries"].items()
                }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.entries = {}

    def _page(self, digest: str) -> Path:
        return self.path / "pages" / digest[:2] / digest

    def get(self, key: str) -> Entry | None:
        return self.entries.get(key)

    def read(self, key: str, entry: Entry) -> str | None:
        """The page's text, or None if its file is gone or not what it was."""
        try:
            data = self._page(entry.page).read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != entry.page:
            return None
        self.used[key] = entry
        return data.decode("utf-8")

    def put(self, key: str, bodies: dict[str, str], text: str) -> None:
        data = text.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = self._page(digest)
        try:
            if not path.is_file():
                write_whole(path, data)
        except OSError as exc:
            logger.warning("rendercache: could not keep %s (%s)", path, exc)
            return
        self.used[key] = Entry(bodies, digest)

    def save(self, counts: dict[str, float]) -> None:
        """Keep what this build used; remove the pages nothing names.
        ``counts`` (pages kept, rendered...) are recorded for the curious."""
        manifest = {
            "version": VERSION,
            "last_build": counts,
            "entries": {
                key: {"bodies": entry.bodies, "page": entry.page}
                for key, entry in self.used.items()
            },
        }
        try:
            write_whole(
                self.path / "manifest.json",
                json.dumps(manifest, separators=(",", ":")).encode(),
            )
        except OSError as exc:
            logger.warning("rendercache: could not save %s (%s)", self.path, exc)
            return
        kept = {entry.page for entry in self.used.values()}
        for folder, _, names in os.walk(self.path / "pages"):
            for name in names:
                if name not in kept:
                    Path(folder, name).unlink(missing_ok=True)

    def forget(self) -> None:
        """Drop the manifest: the next build renders every page."""
        (self.path / "manifest.json").unlink(missing_ok=True)
        self.used.clear()
