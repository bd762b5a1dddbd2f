"""From fetched bytes to entries: parse, identify, date, sanitise, merge.

Pure logic: no network, no files. feedparser reads the bytes (RSS 0.9x/1.0/2.0,
Atom, broken XML it can recover); everything it returns is then treated as
untrusted. Each entry gets a stable identity, a plain-text title, a date that is
never later than the moment we first saw it, a sanitised excerpt and its media.
:func:`merge` then folds a fetch into what the cache already held for the feed.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from html import escape
from time import struct_time
from typing import Any

import feedparser

from community import feedparser_speed
from community.encoding import decode_feed
from community.model import Entry, FeedEntries, Media, MediaKind, Subscription
from community.settings import Rules
from sanitize import (
    clean_text,
    excerpt_html,
    image_tags,
    plain_text,
    safe_url,
    sanitize_html,
)

# What an excerpt leaves out: it is a taste of the text, the card shows media.
EXCERPT_DROP: frozenset[str] = frozenset(
    {"img", "figure", "table", "pre", "hr", "details"}
)
TITLE_LENGTH = 300
AUTHOR_LENGTH = 120
MAX_CATEGORIES = 12
# No feed is older than the web's syndication formats; earlier dates are junk.
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
_LANG = re.compile(r"^[a-z]{2,3}\b")

feedparser_speed.install()


class NotAFeed(ValueError):
    """The bytes are not a feed feedparser can get any entries from."""


@dataclass(frozen=True)
class ParsedFeed:
    """A feed as feedparser read it, before our normalising."""

    title: str | None
    home: str | None
    language: str | None
    entries: tuple[Mapping[str, Any], ...]
    problem: str | None = None  # why the XML was not well-formed, if it wasn't
    encoding: str = "utf_8"  # how its bytes were read
    encoding_note: str | None = None  # why not as declared, if not


@dataclass(frozen=True)
class Candidate:
    """An entry as found in this fetch, before it meets the cache.

    What deciding about an entry needs (identity, title, date, categories)
    is read at once; its text and media are sanitised only if it is kept
    (``entry``): a new feed's backlog costs a parse, not a sanitising pass.
    """

    id: str
    title: str
    date: datetime | None  # None: the feed gave none (or nonsense)
    author: str | None
    categories: tuple[str, ...]
    lang: str | None
    position: int  # order in the feed, newest first by convention
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    base: str = field(repr=False, compare=False, default="")
    excerpt_length: int = field(repr=False, compare=False, default=320)
    feed_url: str = field(repr=False, compare=False, default="")

    @cached_property
    def link(self) -> str | None:
        """Its permalink, made safe: only for the entries kept (and those
        without a GUID, whose identity it is)."""
        return safe_url(self.raw.get("link"), self.feed_url)

    def entry(self, feed: str, first_seen: datetime) -> Entry:
        """The entry to keep, its date clamped to when we first saw it."""
        date = first_seen if self.date is None else min(self.date, first_seen)
        text, detail = _best_text(self.raw)
        cleaned = sanitize_html(_detail_html(detail, text), self.base)
        return Entry(
            id=self.id,
            feed=feed,
            title=self.title,
            link=self.link,
            date=date,
            first_seen=first_seen,
            summary_html=excerpt_html(cleaned, self.excerpt_length, drop=EXCERPT_DROP),
            author=self.author,
            categories=self.categories,
            media=_media(self.raw, self.base, self.link, (text, cleaned)),
            lang=self.lang,
            position=self.position,
        )


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse feed bytes with feedparser, its own HTML handling turned off.

    The bytes are wrapped in a stream: feedparser treats a bare string as a
    possible URL or file name. ``content_type`` (with its charset) is what the
    server said, for decoding; ``url`` is where the feed came from, the base
    of its relative links and of any relative xml:base (feedparser resolves
    nested xml:base chains against it; without it they would be lost).
    Raises :class:`NotAFeed` when nothing usable comes out.
    """
    decoded = decode_feed(body, content_type)
    mime = (content_type or "application/xml").split(";", 1)[0].strip()
    headers = {
        "content-location": url,
        "content-type": f"{mime or 'application/xml'}; charset=utf-8",
    }
    parsed = feedparser.parse(
        io.BytesIO(decoded.body),
        response_headers=headers,
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    problem = None
    if parsed.get("bozo") and not isinstance(
        parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride
    ):
        exception = parsed.get("bozo_exception")
        problem = f"{type(exception).__name__}: {exception}" if exception else "bozo"
    if not parsed.get("version") and not parsed.entries:
        looks_html = b"<html" in body[:2048].lower()
        raise NotAFeed(
            "not an RSS or Atom feed"
            + (" (an HTML page came back)" if looks_html else "")
            + (f": {problem}" if problem and not looks_html else "")
        )
    feed = parsed.get("feed", {})
    return ParsedFeed(
        title=plain_text(feed.get("title")) or None,
        home=safe_url(feed.get("link"), url),
        language=_language(feed.get("language")),
        entries=tuple(parsed.entries),
        problem=problem,
        encoding=decoded.encoding,
        encoding_note=decoded.note,
    )


def _language(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    match = _LANG.match(value.strip().lower())
    return match.group(0) if match else None


def _date(raw: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if isinstance(value, struct_time):
            try:
                date = datetime(*value[:6], tzinfo=UTC)
            except ValueError:
                continue
            if date >= EARLIEST:
                return date
    return None


def _identity(
    raw: Mapping[str, Any], feed: str, link: Callable[[], str | None], text: str
) -> str:
    """A stable key for an entry, used to recognise it across fetches and feeds.

    A GUID that looks globally unique (a URL, a URN, a tag: URI) is used as
    is, so the same post syndicated by two feeds is one entry. A bare GUID
    ("42") is only unique within its feed, so it is scoped to it. Without a
    GUID the permalink serves; without one either, a hash of the content.
    """
    guid = raw.get("id") or raw.get("guid")
    if isinstance(guid, str) and guid.strip():
        guid = " ".join(guid.split())
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S", guid):
            return guid
        return f"{feed}#{guid}"
    permalink = link()
    if permalink:
        return permalink
    digest = hashlib.sha256(f"{feed}\0{text}".encode()).hexdigest()[:32]
    return f"{feed}#sha256:{digest}"


def _detail_html(detail: Mapping[str, Any] | None, value: str | None) -> str:
    """A text construct as HTML: plain text is escaped, not interpreted."""
    if not value:
        return ""
    kind = (detail or {}).get("type", "text/html")
    if "html" in kind or "xml" in kind:
        return value
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", value) if p.strip()]
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def _best_text(raw: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | None]:
    """The entry's summary if it has one, else its first content."""
    summary = raw.get("summary")
    if isinstance(summary, str) and summary.strip():
        detail = raw.get("summary_detail")
        if detail is None:
            # feedparser copies an Atom entry's content into its summary,
            # without the content's type and xml:base: take them from it.
            contents = raw.get("content") or ()
            detail = next((c for c in contents if c.get("value") == summary), None)
        return summary, detail
    for content in raw.get("content") or ():
        value = content.get("value")
        if isinstance(value, str) and value.strip():
            return value, content
    return "", None


def _full_text(raw: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | None]:
    for content in raw.get("content") or ():
        value = content.get("value")
        if isinstance(value, str) and value.strip():
            return value, content
    return _best_text(raw)


def first_image(cleaned: str) -> str | None:
    """The ``src`` of the first image in sanitised HTML."""
    if "<img" not in cleaned:
        return None
    return next((a["src"] for _tag, a in image_tags(cleaned) if a.get("src")), None)


def _media(
    raw: Mapping[str, Any], base: str, link: str | None, cleaned: tuple[str, str]
) -> tuple[Media, ...]:
    """At most one image, one video and one recording, in that order."""
    found: dict[MediaKind, Media] = {}
    thumbnails = [
        safe_url(t.get("url"), base, image=True)
        for t in raw.get("media_thumbnail") or ()
    ]
    thumbnail = next((t for t in thumbnails if t), None)
    attached = [
        (e.get("href"), e.get("type"), None) for e in raw.get("enclosures") or ()
    ] + [
        (m.get("url"), m.get("type"), m.get("medium"))
        for m in raw.get("media_content") or ()
    ]
    for url, declared, medium in attached:
        mime = declared if isinstance(declared, str) else None
        kind_name = medium or (mime or "").split("/", 1)[0]
        if kind_name not in ("image", "video", "audio"):
            continue
        kind = MediaKind(kind_name)
        if kind in found:
            continue
        if kind is MediaKind.VIDEO:
            # Readers want the page to watch it on, with a still.
            target = link or safe_url(url, base)
            if target:
                found[kind] = Media(kind, target, mime, thumbnail)
            continue
        safe = safe_url(url, base, image=kind is MediaKind.IMAGE)
        if safe:
            found[kind] = Media(kind, safe, mime)
    if MediaKind.VIDEO not in found and raw.get("yt_videoid") and link:
        found[MediaKind.VIDEO] = Media(MediaKind.VIDEO, link, None, thumbnail)
    if MediaKind.IMAGE not in found and MediaKind.VIDEO not in found:
        image = thumbnail
        if image is None:
            text, detail = _full_text(raw)
            if "<img" in text:
                # The summary's sanitised HTML, when the full text is it.
                html = cleaned[1] if text == cleaned[0] else None
                if html is None:
                    html = sanitize_html(
                        _detail_html(detail, text), (detail or {}).get("base") or base
                    )
                image = first_image(html)
        if image:
            found[MediaKind.IMAGE] = Media(MediaKind.IMAGE, image)
    order = (MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.AUDIO)
    return tuple(found[k] for k in order if k in found)


def candidates(
    parsed: ParsedFeed, sub: Subscription, *, base_url: str, rules: Rules
) -> list[Candidate]:
    """The feed's entries as candidates, duplicates within the feed dropped."""
    result: list[Candidate] = []
    ids: set[str] = set()
    feed_lang = sub.lang or parsed.language
    for position, raw in enumerate(parsed.entries):
        text, detail = _best_text(raw)
        # Relative links resolve against the content's xml:base (feedparser
        # made it absolute), else the feed's address.
        base = (detail or {}).get("base") or base_url
        title = plain_text(raw.get("title"))
        if (raw.get("title_detail") or {}).get("type") == "text/plain":
            title = " ".join(clean_text(str(raw.get("title") or "")).split())
        # The permalink is made safe here only when it is the identity (no
        # GUID); otherwise only for the entries kept (Candidate.link).
        entry_id = _identity(
            raw,
            sub.slug,
            lambda: safe_url(raw.get("link"), base_url),  # noqa: B023 - called now
            f"{title}\0{text}",
        )
        if entry_id in ids:
            continue
        ids.add(entry_id)
        categories: list[str] = []
        for tag in raw.get("tags") or ():
            term = plain_text(tag.get("term") or tag.get("label"))
            if term and term not in categories:
                categories.append(term)
        author = plain_text(raw.get("author"))[:AUTHOR_LENGTH] or None
        lang = sub.lang or _language((detail or {}).get("language")) or feed_lang
        result.append(
            Candidate(
                id=entry_id,
                title=_shorten(title, TITLE_LENGTH),
                date=_date(raw),
                author=author,
                categories=tuple(categories[:MAX_CATEGORIES]),
                lang=lang,
                position=position,
                raw=raw,
                base=base,
                excerpt_length=rules.excerpt_length,
                feed_url=base_url,
            )
        )
    return result


def _shorten(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


@dataclass(frozen=True)
class Merged:
    """A feed's entries after a fetch, and what the fetch brought or lost."""

    entries: FeedEntries
    new: int  # entries kept that were never seen before
    too_old: int  # entries of this fetch older than the maximum age
    filtered: int  # entries of this fetch its filters refused


def merge(
    found: Sequence[Candidate],
    previous: FeedEntries | None,
    sub: Subscription,
    *,
    now: datetime,
    rules: Rules,
) -> Merged:
    """Fold this fetch's entries into what the cache held for the feed.

    Returns the feed's entries, how many are new, and how many of this
    fetch's entries were dropped for age or by the filters. Entries keep
    the time we first saw them (and their date never moves past it). A feed
    seen for the first time (``previous`` is None) contributes only its newest
    ``rules.new_feed_entries``; the rest are remembered as seen, so they do
    not come back as new later. Entries that left the feed stay until they
    are older than ``rules.max_age_days``; at most ``max_entries`` are kept.
    """
    held = {e.id: e for e in previous.entries} if previous else {}
    seen = previous.seen if previous else frozenset()
    kept: dict[str, Entry] = {}
    fresh: list[Candidate] = []
    wanted: set[str] = set()
    filtered = 0
    for candidate in found:
        if not sub.wants(candidate.title, candidate.categories):
            filtered += 1
            continue  # not marked seen: loosening the filter brings it back
        wanted.add(candidate.id)
        old = held.get(candidate.id)
        if old is not None:
            kept[candidate.id] = candidate.entry(sub.slug, old.first_seen)
        elif candidate.id not in seen:
            fresh.append(candidate)
    if previous is None:
        fresh = sorted(fresh, key=lambda c: (c.date or now, -c.position), reverse=True)[
            : rules.new_feed_entries
        ]
    fresh_ids = {c.id for c in fresh}
    for candidate in fresh:
        kept[candidate.id] = candidate.entry(sub.slug, now)
    for entry in held.values():
        if entry.id not in kept and sub.wants(entry.title, entry.categories):
            kept[entry.id] = entry
    entries = keep_recent(kept.values(), now=now, rules=rules, limit=sub.max_entries)
    new = sum(1 for e in entries if e.id in fresh_ids)
    oldest = now - timedelta(days=rules.max_age_days)
    too_old = sum(1 for c in found if c.id in wanted and (c.date or now) < oldest)
    return Merged(
        FeedEntries(tuple(entries), frozenset(wanted) | {e.id for e in entries}),
        new=new,
        too_old=too_old,
        filtered=filtered,
    )


def keep_recent(
    entries: Iterable[Entry], *, now: datetime, rules: Rules, limit: int | None = None
) -> list[Entry]:
    """Entries not older than the maximum age, newest first, at most ``limit``."""
    oldest = now - timedelta(days=rules.max_age_days)
    recent = sorted((e for e in entries if e.date >= oldest), key=newest_first)
    return recent[: limit or rules.max_entries]


def newest_first(entry: Entry) -> tuple[float, float, str, int, str]:
    """Sort key: newest date first, then a feed's own order (undated entries
    of one fetch share its time); remaining ties broken so the order never
    varies."""
    return (
        -entry.date.timestamp(),
        -entry.first_seen.timestamp(),
        entry.feed,
        entry.position,
        entry.id,
    )
