"""The community in the report: posts per source and per week, silent
sources, the most discussed posts (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from community.model import Entry
from piazza.report.model import Comment, Period

SILENT_WEEKS = 8
TOP = 10


@dataclass(frozen=True)
class Source:
    slug: str
    name: str
    posts: int  # in the period
    last: datetime | None  # its newest entry, ever


@dataclass(frozen=True)
class Discussed:
    uri: str
    title: str
    comments: int  # in the period
    people: int


@dataclass(frozen=True)
class CommunityView:
    sources: tuple[Source, ...]  # most posts first
    weeks: tuple[tuple[str, int], ...]  # ("2026-W09", 4), oldest first
    silent: tuple[Source, ...]  # no entry in SILENT_WEEKS weeks, longest first
    discussed: tuple[Discussed, ...]


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def community_view(
    entries: Mapping[str, Sequence[Entry]],
    names: Mapping[str, str],
    comments: Sequence[Comment],
    period: Period,
) -> CommunityView:
    sources = []
    for slug in sorted(set(entries) | set(names)):
        found = entries.get(slug, ())
        sources.append(
            Source(
                slug=slug,
                name=names.get(slug) or slug,
                posts=sum(1 for e in found if e.date in period),
                last=max((e.date for e in found), default=None),
            )
        )
    weeks: Counter[str] = Counter()
    moment = period.start
    while moment < period.end:
        weeks[_week(moment)] += 0
        moment += timedelta(days=7)
    weeks[_week(period.end - timedelta(seconds=1))] += 0
    for found in entries.values():
        for entry in found:
            if entry.date in period:
                weeks[_week(entry.date)] += 1
    quiet_since = period.end - timedelta(weeks=SILENT_WEEKS)
    silent = sorted(
        (s for s in sources if s.last is None or s.last < quiet_since),
        key=lambda s: (s.last is not None, s.last or period.end, s.slug),
    )
    threads: dict[str, list[Comment]] = {}
    for comment in comments:
        if comment.created in period:
            threads.setdefault(comment.uri, []).append(comment)
    discussed = sorted(
        (
            Discussed(uri, found[0].title, len(found), len({c.person for c in found}))
            for uri, found in threads.items()
        ),
        key=lambda d: (-d.comments, -d.people, d.uri),
    )
    return CommunityView(
        sources=tuple(sorted(sources, key=lambda s: (-s.posts, s.slug))),
        weeks=tuple(sorted(weeks.items())),
        silent=tuple(silent),
        discussed=tuple(discussed[:TOP]),
    )
