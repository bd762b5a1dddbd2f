"""The edges besides Isso: the community cache and the ideas snapshot.

Both tolerate absence: what is missing is named in a :class:`Lack` that the
report shows in a visible box, never a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ideaboard import snapshot as ideas_snapshot
from ideaboard.model import Snapshot

from community.cache import Cache
from community.model import Entry


@dataclass(frozen=True)
class Lack:
    """What a source could not give, said for the leader."""

    source: str
    message: str


def read_community(
    root: Path,
) -> tuple[dict[str, tuple[Entry, ...]], dict[str, str], Lack | None]:
    """Entries and names per source from the cache folder (var/community/)."""
    cache = Cache(root)
    if not cache.exists():
        return (
            {},
            {},
            Lack(
                "community",
                f"{root}: no community cache (run `invoke aggregate` first).",
            ),
        )
    slugs = {p.stem for p in (root / "entries").glob("*.json")}
    slugs |= {p.stem for p in (root / "state").glob("*.json")}
    entries, names = {}, {}
    for slug in sorted(slugs):
        found = cache.load_entries(slug)
        entries[slug] = found.entries if found else ()
        state_file = root / "state" / f"{slug}.json"
        title = None
        if state_file.is_file():
            try:
                import json  # noqa: PLC0415

                title = json.loads(state_file.read_bytes()).get("title")
            except (OSError, ValueError, AttributeError):
                title = None
        names[slug] = title or slug
    return entries, names, None


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def read_ideas(url: str | None, cache: Path) -> tuple[Snapshot, Lack | None]:
    """The ideas snapshot (plugins/ideaboard/snapshot.py); a service that is
    down gives the last known copy, and a Lack saying so."""
    catcher = _Warnings()
    logger = logging.getLogger(ideas_snapshot.__name__)
    logger.addHandler(catcher)
    try:
        found = ideas_snapshot.load(url, cache)
    finally:
        logger.removeHandler(catcher)
    if found.generated is None:
        where = f"{url}/snapshot" if url else "IDEAS_API_URL (not set)"
        return found, Lack(
            "ideas", f"No ideas: {where} did not answer and {cache} holds no copy."
        )
    if found.stale:
        told = "; ".join(catcher.messages) or f"{url or 'IDEAS_API_URL'} not used"
        return found, Lack(
            "ideas",
            f"The ideas service did not answer ({told}); these figures are the "
            f"last known copy, from {found.generated:%Y-%m-%d %H:%M} UTC.",
        )
    return found, None
