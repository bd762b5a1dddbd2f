"""What the Community pages show, computed from subscriptions and the cache.

Pure logic for the build: no Pelican, no network. Entries from every feed are
filtered, de-duplicated across feeds (the first feed to carry an entry keeps
it) and ordered newest first with every tie broken, so the same cache always
gives the same pages. Everything from the cache is re-checked on the way out
(URLs, excerpt HTML): the pages stay safe even if a cache file was edited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from community.model import (
    Entry,
    FeedEntries,
    FeedState,
    Media,
    MediaKind,
    Subscription,
)
from community.normalize import newest_first
from community.settings import Rules
from community.subscriptions import url_key
from sanitize import safe_url, sanitize_html


@dataclass(frozen=True)
class Source:
    """A subscription as the pages present it."""

    slug: str
    name: str
    feed_url: str
    home: str | None  # its site: from feeds.toml, else the feed's own link
    avatar: str | None  # absolute URL
    lang: str | None
    path: str  # URL of its page, site-relative, in the default language
    initial: str  # shown in place of a missing avatar


@dataclass(frozen=True)
class Item:
    """One entry on a page, with its source and its date in the site's zone."""

    entry: Entry
    source: Source
    date: datetime

    @property
    def anchor(self) -> str:
        """A fragment id for the entry on its pages, the same in every build
        (search results link to it)."""
        digest = hashlib.sha256(self.entry.id.encode("utf-8")).hexdigest()
        return f"entry-{digest[:12]}"


@dataclass(frozen=True)
class SourcePage:
    source: Source
    items: tuple[Item, ...]
    state: FeedState


class Health(StrEnum):
    OK = "ok"
    NEVER = "never fetched"
    FAILING = "failing"
    REDIRECTED = "redirected"
    GONE = "gone"


@dataclass(frozen=True)
class StatusRow:
    """A line of the editors' status page."""

    source: Source
    state: FeedState
    shown: int  # entries on the site (after filters, age, de-duplication)
    health: Health


@dataclass(frozen=True)
class CommunityView:
    items: tuple[Item, ...]
    sources: tuple[SourcePage, ...]
    status: tuple[StatusRow, ...]
    generated_at: datetime | None
    from_snapshot: bool = False


def health(state: FeedState) -> Health:
    if state.gone:
        return Health.GONE
    if state.failures:
        return Health.FAILING
    if state.moved_to:
        return Health.REDIRECTED
    if state.last_attempt is None:
        return Health.NEVER
    return Health.OK


def source_of(
    sub: Subscription, state: FeedState, *, source_url: str, siteurl: str
) -> Source:
    if sub.avatar and "://" not in sub.avatar:
        avatar = f"{siteurl}/{sub.avatar.lstrip('/')}"
    else:
        avatar = safe_url(sub.avatar, image=True)
    return Source(
        slug=sub.slug,
        name=sub.name,
        feed_url=sub.url,
        home=sub.site or safe_url(state.home),
        avatar=avatar,
        lang=sub.lang,
        path=source_url.format(slug=sub.slug),
        initial=(sub.name.strip()[:1] or "?").upper(),
    )


def rechecked(entry: Entry) -> Entry:
    """An entry from the cache, its URLs and HTML passed through the policy again."""
    media = []
    for m in entry.media:
        url = safe_url(m.url, image=m.kind is MediaKind.IMAGE)
        if url:
            thumbnail = safe_url(m.thumbnail, image=True) if m.thumbnail else None
            media.append(Media(m.kind, url, m.type, thumbnail))
    return replace(
        entry,
        link=safe_url(entry.link),
        summary_html=sanitize_html(entry.summary_html),
        media=tuple(media),
    )


def deduplicate(entries: Sequence[Entry], feed_order: Mapping[str, int]) -> list[Entry]:
    """One entry per identity and per permalink: the first seen wins, then the
    feed listed first in feeds.toml."""
    ranked = sorted(entries, key=lambda e: (e.first_seen, feed_order[e.feed], e.id))
    ids: set[str] = set()
    links: set[str] = set()
    kept = []
    for entry in ranked:
        link = url_key(entry.link) if entry.link else None
        if entry.id in ids or (link and link in links):
            continue
        ids.add(entry.id)
        if link:
            links.add(link)
        kept.append(entry)
    return kept


def build_view(
    subscriptions: Sequence[Subscription],
    entries: Mapping[str, FeedEntries | None],
    states: Mapping[str, FeedState],
    *,
    generated_at: datetime | None,
    rules: Rules,
    timezone: tzinfo,
    source_url: str,
    siteurl: str,
    from_snapshot: bool = False,
) -> CommunityView:
    """Everything the Community pages need, from plain data."""
    sources = {
        sub.slug: source_of(
            sub, states[sub.slug], source_url=source_url, siteurl=siteurl
        )
        for sub in subscriptions
    }
    oldest = generated_at - timedelta(days=rules.max_age_days) if generated_at else None
    per_feed: dict[str, list[Entry]] = {}
    for sub in subscriptions:
        held = entries.get(sub.slug)
        kept = [
            rechecked(e)
            for e in (held.entries if held else ())
            if sub.wants(e.title, e.categories) and (oldest is None or e.date >= oldest)
        ]
        per_feed[sub.slug] = sorted(kept, key=newest_first)[
            : sub.max_entries or rules.max_entries
        ]

    def item(entry: Entry) -> Item:
        return Item(entry, sources[entry.feed], entry.date.astimezone(timezone))

    order = {sub.slug: index for index, sub in enumerate(subscriptions)}
    everything = [e for kept in per_feed.values() for e in kept]
    merged = sorted(deduplicate(everything, order), key=newest_first)
    shown: dict[str, int] = dict.fromkeys(order, 0)
    for entry in merged:
        shown[entry.feed] += 1
    return CommunityView(
        items=tuple(item(e) for e in merged),
        sources=tuple(
            SourcePage(
                sources[sub.slug],
                tuple(item(e) for e in per_feed[sub.slug]),
                states[sub.slug],
            )
            for sub in subscriptions
        ),
        status=tuple(
            StatusRow(
                sources[sub.slug],
                states[sub.slug],
                shown[sub.slug],
                health(states[sub.slug]),
            )
            for sub in subscriptions
        ),
        generated_at=generated_at,
        from_snapshot=from_snapshot,
    )
