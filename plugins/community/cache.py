"""The feed cache: plain files that `invoke aggregate` writes and the build reads.

Layout of the cache folder (``var/community/``, or the snapshot shipped in
``content/community/cache/``)::

    meta.json              when the last aggregate run finished
    state/<slug>.json      per feed: validators, last success/error, backoff
    entries/<slug>.json    per feed: entries kept, identities seen
    raw/<slug>.xml         per feed: the last body that was not a feed, or
                           not well-formed, as received (for a look)

One file per feed, replaced atomically, so a feed's failure (or a crash
half-way through a run) never touches another feed's data. JSON is written
with sorted keys and a stable order, so a snapshot under version control
changes only where the feeds did.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from community.model import Entry, FeedEntries, FeedState, Media, MediaKind
from wholefile import write_whole

logger = logging.getLogger(__name__)

SCHEMA = 1


@dataclass(frozen=True)
class Meta:
    """About the cache as a whole."""

    generated_at: datetime  # end of the last aggregate run: the build's "now"
    schema: int = SCHEMA


def _dumps(data: Any) -> bytes:
    return (
        json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    ).encode("utf-8")


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time without a timezone: {value!r}")
    return parsed


# --- Entries and state to and from JSON -----------------------------------------


def entry_to_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "feed": entry.feed,
        "title": entry.title,
        "link": entry.link,
        "date": _time(entry.date),
        "first_seen": _time(entry.first_seen),
        "summary_html": entry.summary_html,
        "author": entry.author,
        "categories": list(entry.categories),
        "media": [
            {
                "kind": str(m.kind),
                "url": m.url,
                "type": m.type,
                "thumbnail": m.thumbnail,
            }
            for m in entry.media
        ],
        "lang": entry.lang,
        "position": entry.position,
    }


def entry_from_json(data: dict[str, Any]) -> Entry:
    return Entry(
        id=str(data["id"]),
        feed=str(data["feed"]),
        title=str(data.get("title") or ""),
        link=data.get("link"),
        date=_parse_time(data["date"]),
        first_seen=_parse_time(data["first_seen"]),
        summary_html=str(data.get("summary_html") or ""),
        author=data.get("author"),
        categories=tuple(str(c) for c in data.get("categories") or ()),
        media=tuple(
            Media(
                kind=MediaKind(m["kind"]),
                url=str(m["url"]),
                type=m.get("type"),
                thumbnail=m.get("thumbnail"),
            )
            for m in data.get("media") or ()
        ),
        lang=data.get("lang"),
        position=int(data.get("position") or 0),
    )


_STATE_TIMES = {
    "last_attempt",
    "last_success",
    "last_error_at",
    "next_attempt",
    "failing_since",
}


def state_to_json(state: FeedState) -> dict[str, Any]:
    return {
        f.name: _time(getattr(state, f.name))
        if f.name in _STATE_TIMES
        else getattr(state, f.name)
        for f in fields(FeedState)
    }


def state_from_json(data: dict[str, Any]) -> FeedState:
    known = {f.name for f in fields(FeedState)}
    values = {k: v for k, v in data.items() if k in known}
    for name in _STATE_TIMES & values.keys():
        values[name] = _parse_time(values[name])
    state = FeedState(**values)
    if not isinstance(state.url, str):
        raise ValueError("state without a URL")
    return state


# --- The cache folder -------------------------------------------------------------


class Cache:
    """A cache folder; every read tolerates missing or damaged files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    def _path(self, kind: str, slug: str, suffix: str = ".json") -> Path:
        return self.root / kind / f"{slug}{suffix}"

    def _read_json(self, path: Path) -> Any | None:
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.info("community: ignoring unreadable cache file %s (%s)", path, exc)
            return None

    def exists(self) -> bool:
        """Whether an aggregate run has completed here."""
        return self.load_meta() is not None

    def load_meta(self) -> Meta | None:
        data = self._read_json(self.root / "meta.json")
        try:
            return (
                Meta(generated_at=_parse_time(data["generated_at"])) if data else None
            )
        except (KeyError, TypeError, ValueError) as exc:
            logger.info("community: ignoring unreadable %s (%s)", self.root, exc)
            return None

    def save_meta(self, meta: Meta) -> None:
        write_whole(
            self.root / "meta.json",
            _dumps({"generated_at": _time(meta.generated_at), "schema": meta.schema}),
        )

    def load_state(self, slug: str, url: str) -> FeedState:
        """The feed's state; a fresh one if none, or if it belongs to another URL.

        When the editor changes a feed's URL, what was learnt about the old
        address (validators, redirects, 410, backoff) no longer applies; the
        feed's title and home page still do.
        """
        data = self._read_json(self._path("state", slug))
        if data is None:
            return FeedState(url=url)
        try:
            state = state_from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            logger.info("community: ignoring damaged state of %s (%s)", slug, exc)
            return FeedState(url=url)
        if state.url != url and state.moved_to == url:
            # The editor wrote the permanent redirect into feeds.toml
            # (`invoke feeds-check --fix`): same feed, same validators.
            return replace(state, url=url, moved_to=None)
        if state.url != url:
            return FeedState(
                url=url,
                title=state.title,
                home=state.home,
                entries_held=state.entries_held,
            )
        return state

    def save_state(self, slug: str, state: FeedState) -> None:
        write_whole(self._path("state", slug), _dumps(state_to_json(state)))

    def load_entries(self, slug: str) -> FeedEntries | None:
        """The feed's entries, or None if it was never parsed successfully."""
        data = self._read_json(self._path("entries", slug))
        if data is None:
            return None
        try:
            entries = tuple(entry_from_json(e) for e in data["entries"])
            seen = frozenset(str(i) for i in data.get("seen") or ())
        except (KeyError, TypeError, ValueError) as exc:
            logger.info("community: ignoring damaged entries of %s (%s)", slug, exc)
            return None
        # Entries must belong to the file they are in.
        return FeedEntries(
            tuple(e if e.feed == slug else replace(e, feed=slug) for e in entries),
            seen,
        )

    def save_entries(self, slug: str, feed_entries: FeedEntries) -> None:
        write_whole(
            self._path("entries", slug),
            _dumps(
                {
                    "entries": [entry_to_json(e) for e in feed_entries.entries],
                    "seen": sorted(feed_entries.seen),
                    "schema": SCHEMA,
                }
            ),
        )

    def save_raw(self, slug: str, body: bytes) -> None:
        write_whole(self._path("raw", slug, ".xml"), body)

    def load_raw(self, slug: str) -> bytes | None:
        try:
            return self._path("raw", slug, ".xml").read_bytes()
        except OSError:
            return None
