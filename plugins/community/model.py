"""The data that flows through the plugin, as frozen dataclasses.

A :class:`Subscription` comes from ``feeds.toml``; fetching turns it into
bytes, normalising turns those into :class:`Entry` records; the cache stores
entries and a :class:`FeedState` per feed; the build reads them back. Times are
timezone-aware UTC throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class EntryFilter:
    """Category names (case-insensitive) and title patterns an entry may match."""

    categories: frozenset[str] = frozenset()
    titles: tuple[re.Pattern[str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.categories or self.titles)

    def matches(self, title: str, categories: tuple[str, ...]) -> bool:
        if self.categories and any(c.casefold() in self.categories for c in categories):
            return True
        return any(pattern.search(title) for pattern in self.titles)


@dataclass(frozen=True)
class Subscription:
    """One community feed the editor subscribed to, as written in feeds.toml."""

    slug: str
    name: str
    url: str
    site: str | None = None
    avatar: str | None = None
    lang: str | None = None
    include: EntryFilter = field(default_factory=EntryFilter)
    exclude: EntryFilter = field(default_factory=EntryFilter)
    max_entries: int | None = None
    line: int | None = None  # where its table starts in feeds.toml

    def wants(self, title: str, categories: tuple[str, ...]) -> bool:
        """Whether the include/exclude filters let an entry through."""
        if self.include and not self.include.matches(title, categories):
            return False
        return not (self.exclude and self.exclude.matches(title, categories))


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class Media:
    """A picture, video or recording attached to an entry (URLs already safe)."""

    kind: MediaKind
    url: str
    type: str | None = None
    thumbnail: str | None = None  # an image standing for a video


@dataclass(frozen=True)
class Entry:
    """One community post, normalised and sanitised, ready for a template."""

    id: str  # stable identity: GUID, else link, else a content hash
    feed: str  # the subscription's slug
    title: str  # plain text
    link: str | None
    date: datetime  # as published, never after first_seen
    first_seen: datetime
    summary_html: str = ""  # sanitised, truncated excerpt
    author: str | None = None
    categories: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    lang: str | None = None
    # Its place in the feed when last fetched (0: first). Entries of one date
    # (undated ones share their fetch's time) keep the feed's own order.
    position: int = 0

    def media_of(self, kind: MediaKind) -> Media | None:
        return next((m for m in self.media if m.kind == kind), None)

    @property
    def image(self) -> Media | None:
        return self.media_of(MediaKind.IMAGE)

    @property
    def video(self) -> Media | None:
        return self.media_of(MediaKind.VIDEO)

    @property
    def audio(self) -> Media | None:
        return self.media_of(MediaKind.AUDIO)


@dataclass(frozen=True)
class FeedEntries:
    """What the cache holds for one feed: its kept entries, newest first, and
    the identities already seen (kept or not), so that entries held back from
    a new feed, filtered or aged out do not come back as new."""

    entries: tuple[Entry, ...] = ()
    seen: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FeedState:
    """Everything remembered about fetching one feed between runs."""

    url: str  # the subscription URL this state belongs to
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    moved_to: str | None = None  # permanent redirect seen, feeds.toml not updated
    gone: bool = False  # 410: never fetched again while the URL stays
    title: str | None = None  # the feed's own title and home page
    home: str | None = None
    notice: str | None = None  # a problem that did not stop it (broken XML)
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0  # consecutive
    failing_since: datetime | None = None  # the first of those failures
    # Failed COMMUNITY_QUARANTINE_AFTER times in a row: tried once a day.
    quarantined: bool = False
    next_attempt: datetime | None = None  # backing off until then
    entries_held: int = 0
    # What its last parsed fetch left out, and why.
    dropped_old: int = 0  # older than COMMUNITY_MAX_AGE_DAYS
    dropped_duplicates: int = 0  # the same entry twice in the feed
    dropped_filtered: int = 0  # refused by its include/exclude filters

    @property
    def fetch_url(self) -> str:
        """Where to fetch: the permanent redirect's target once one is seen."""
        return self.moved_to or self.url
