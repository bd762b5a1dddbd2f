"""What the Community pages show, computed from subscriptions and the cache.

Pure logic for the build: no Pelican, no network. Entries from every feed are
filtered, de-duplicated across feeds (the first feed to carry an entry keeps
it) and ordered newest first with every tie broken, so the same cache always
gives the same pages. Everything from the cache is re-checked on the way out
(URLs, excerpt HTML): the pages stay safe even if a cache file was edited.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
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
from sanitize import clean_text, safe_url, sanitize_html


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
    QUARANTINED = "quarantined"
    NEVER = "never fetched"
    FAILING = "failing"
    REDIRECTED = "redirected"
    GONE = "gone"


# Problems first on the status page, the worst first.
SEVERITY = (
    Health.QUARANTINED,
    Health.FAILING,
    Health.GONE,
    Health.REDIRECTED,
    Health.NEVER,
    Health.OK,
)


@dataclass(frozen=True)
class StatusRow:
    """A line of the editors' status page."""

    source: Source
    state: FeedState
    shown: int  # entries in the Community listing (after filters, age, duplicates)
    health: Health
    # Held in the cache but not shown, and why (the last fetch's own drops
    # are in ``state.dropped_*``).
    hidden_old: int = 0  # grown older than the maximum age since fetched
    hidden_filtered: int = 0  # refused by the feed's filters as they are now
    hidden_duplicates: int = 0  # shown once, under the source that had it first

    @property
    def problem(self) -> bool:
        return self.health is not Health.OK or bool(self.state.notice)


@dataclass(frozen=True)
class StatusSummary:
    """The status page: problem feeds one by one, healthy ones as totals."""

    problems: tuple[StatusRow, ...]
    healthy: int
    healthy_shown: int
    healthy_held: int
    dropped: Mapping[str, int]  # reason: entries, over every feed

    @property
    def total(self) -> int:
        return len(self.problems) + self.healthy


@dataclass(frozen=True)
class SourceSummary:
    """A source in a list of sources: how many entries it has in the listing."""

    source: Source
    shown: int
    latest: datetime | None  # its newest entry in the listing


@dataclass(frozen=True)
class Section:
    """The sources whose names start with one letter, on one directory page."""

    letter: str  # "A"..."Z", "0-9", or "#" for every other script
    anchor: str  # the section's id
    sources: tuple[SourceSummary, ...]


@dataclass(frozen=True)
class DirectoryPage:
    number: int  # from 1
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Directory:
    """Every source, alphabetical, in letter sections over numbered pages."""

    pages: tuple[DirectoryPage, ...]
    letters: tuple[tuple[str, str, int], ...]  # letter, anchor, its first page
    total: int


@dataclass(frozen=True)
class CommunityView:
    items: tuple[Item, ...]
    sources: tuple[SourcePage, ...]
    status: tuple[StatusRow, ...]
    generated_at: datetime | None
    from_snapshot: bool = False
    top_sources: tuple[SourceSummary, ...] = ()
    directory: Directory = Directory((), (), 0)
    summary: StatusSummary | None = None


def health(state: FeedState) -> Health:
    if state.gone:
        return Health.GONE
    if state.quarantined:
        return Health.QUARANTINED
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
        title=clean_text(entry.title),
        author=clean_text(entry.author) if entry.author else None,
        categories=tuple(clean_text(c) for c in entry.categories),
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
    top_sources: int = 10,
    sources_per_page: int = 100,
) -> CommunityView:
    """Everything the Community pages need, from plain data.

    ``top_sources`` is how many of the most active sources the listing's
    sidebar names; ``sources_per_page`` how many sources a page of the
    sources directory lists.
    """
    sources = {
        sub.slug: source_of(
            sub, states[sub.slug], source_url=source_url, siteurl=siteurl
        )
        for sub in subscriptions
    }
    oldest = generated_at - timedelta(days=rules.max_age_days) if generated_at else None
    per_feed: dict[str, list[Entry]] = {}
    hidden_old: dict[str, int] = {}
    hidden_filtered: dict[str, int] = {}
    for sub in subscriptions:
        held = entries.get(sub.slug)
        held_entries = held.entries if held else ()
        wanted = [e for e in held_entries if sub.wants(e.title, e.categories)]
        kept = [rechecked(e) for e in wanted if oldest is None or e.date >= oldest]
        hidden_filtered[sub.slug] = len(held_entries) - len(wanted)
        hidden_old[sub.slug] = len(wanted) - len(kept)
        per_feed[sub.slug] = sorted(kept, key=newest_first)[
            : sub.max_entries or rules.max_entries
        ]

    def item(entry: Entry) -> Item:
        return Item(entry, sources[entry.feed], entry.date.astimezone(timezone))

    order = {sub.slug: index for index, sub in enumerate(subscriptions)}
    everything = [e for kept in per_feed.values() for e in kept]
    merged = sorted(deduplicate(everything, order), key=newest_first)
    shown: dict[str, int] = dict.fromkeys(order, 0)
    latest: dict[str, datetime] = {}
    for entry in merged:
        shown[entry.feed] += 1
        latest.setdefault(entry.feed, entry.date)
    summaries = {
        sub.slug: SourceSummary(
            sources[sub.slug], shown[sub.slug], latest.get(sub.slug)
        )
        for sub in subscriptions
    }
    rows = [
        StatusRow(
            sources[sub.slug],
            states[sub.slug],
            shown[sub.slug],
            health(states[sub.slug]),
            hidden_old=hidden_old[sub.slug],
            hidden_filtered=hidden_filtered[sub.slug],
            hidden_duplicates=len(per_feed[sub.slug]) - shown[sub.slug],
        )
        for sub in subscriptions
    ]
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
        status=tuple(rows),
        generated_at=generated_at,
        from_snapshot=from_snapshot,
        top_sources=most_active(summaries.values(), top_sources),
        directory=directory(summaries.values(), sources_per_page),
        summary=summarise(rows),
    )


def most_active(
    summaries: Iterable[SourceSummary], count: int
) -> tuple[SourceSummary, ...]:
    """The sources with the most entries in the listing (then the most
    recent, then by name), only those with any."""
    ranked = sorted(
        (s for s in summaries if s.shown),
        key=lambda s: (
            -s.shown,
            -(s.latest.timestamp() if s.latest else 0),
            sort_key(s.source.name),
        ),
    )
    return tuple(ranked[:count])


def sort_key(name: str) -> str:
    """A name as alphabetical order reads it: accents and case ignored."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.translate(_LATIN_LETTERS)


# Latin letters that no decomposition takes back to a-z.
_LATIN_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "þ": "th"}
)


def letter_of(name: str) -> str:
    """The directory section a name goes in: its first letter (A-Z, accents
    ignored), "0-9" for a digit, "#" for anything else (other scripts)."""
    first = sort_key(name)[:1]
    if "a" <= first <= "z":
        return first.upper()
    return "0-9" if first.isdigit() else "#"


def _anchor(letter: str) -> str:
    return {"0-9": "s-0-9", "#": "s-other"}.get(letter, f"s-{letter.lower()}")


def _section_order(letter: str) -> tuple[int, str]:
    return ({"0-9": 0, "#": 2}.get(letter, 1), letter)


def directory(summaries: Iterable[SourceSummary], per_page: int) -> Directory:
    """Every source, by letter then name, cut into pages of ``per_page``; a
    letter that spans two pages has a section on each."""
    ordered = sorted(
        summaries,
        key=lambda s: (
            _section_order(letter_of(s.source.name)),
            sort_key(s.source.name),
            s.source.slug,
        ),
    )
    pages = []
    letters: dict[str, int] = {}
    for start in range(0, len(ordered), per_page):
        number = start // per_page + 1
        sections: list[Section] = []
        for summary in ordered[start : start + per_page]:
            letter = letter_of(summary.source.name)
            letters.setdefault(letter, number)
            if sections and sections[-1].letter == letter:
                last = sections[-1]
                sections[-1] = replace(last, sources=(*last.sources, summary))
            else:
                sections.append(Section(letter, _anchor(letter), (summary,)))
        pages.append(DirectoryPage(number, tuple(sections)))
    return Directory(
        tuple(pages),
        tuple((letter, _anchor(letter), page) for letter, page in letters.items()),
        len(ordered),
    )


def summarise(rows: Sequence[StatusRow]) -> StatusSummary:
    """Problem feeds first (worst first, then by name); healthy ones counted."""
    problems = sorted(
        (r for r in rows if r.problem),
        key=lambda r: (SEVERITY.index(r.health), sort_key(r.source.name)),
    )
    healthy = [r for r in rows if not r.problem]
    dropped = {
        "old": sum(r.state.dropped_old + r.hidden_old for r in rows),
        "duplicates": sum(
            r.state.dropped_duplicates + r.hidden_duplicates for r in rows
        ),
        "filtered": sum(r.state.dropped_filtered + r.hidden_filtered for r in rows),
    }
    return StatusSummary(
        problems=tuple(problems),
        healthy=len(healthy),
        healthy_shown=sum(r.shown for r in healthy),
        healthy_held=sum(r.state.entries_held for r in healthy),
        dropped=dropped,
    )
