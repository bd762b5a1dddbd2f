"""The whole run: read the sources, analyse, give a :class:`Report`.

Each source is read once, behind a progress bar the caller supplies; a
source that cannot be read becomes a :class:`~piazza.report.sources.Lack`
(shown in the report) rather than an error, except a wrong setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from piazza.report import ReportError
from piazza.report.community import CommunityView, community_view
from piazza.report.ideas import IdeasView, ideas_view
from piazza.report.isso import read_comments
from piazza.report.model import Comment, Period
from piazza.report.replies import Month, Voice, months, summary, voices, waiting
from piazza.report.sources import Lack, read_community, read_ideas
from piazza.report.themes import Theme, link_languages, read_glossary, themes

LANGUAGES = ("it", "en")


@dataclass(frozen=True)
class Sources:
    """Where the report reads from (tasks.py fills it from the settings)."""

    isso_db: Path
    community_dir: Path
    ideas_url: str | None
    ideas_cache: Path
    glossary: Path
    site_url: str = ""
    # idea id -> {lang: its page's slug on the board ("12-portapacchi")}
    slugs: dict[int, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    generated: datetime
    period: Period
    lacks: tuple[Lack, ...]
    comments: int  # read
    waiting: tuple[Voice, ...]
    asked: int  # in the period
    answered: int
    median_hours: float | None
    months: tuple[Month, ...]
    themes: dict[str, list[Theme]]
    ideas: IdeasView | None
    community: CommunityView | None
    entries: int
    site_url: str
    slugs: dict[int, dict[str, str]]

    @property
    def empty(self) -> bool:
        return not (
            self.asked
            or (self.community and any(s.posts for s in self.community.sources))
            or (self.ideas and self.ideas.changes)
        )


def period_for(since: str | None, now: datetime, days: int = 7) -> Period:
    """[since, now) or the last ``days`` days; ReportError for a bad date."""
    if not since:
        return Period(now - timedelta(days=days), now)
    try:
        start = datetime.fromisoformat(since)
    except ValueError:
        raise ReportError(
            f"--since {since!r}: not a date (write it as 2026-03-01)"
        ) from None
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    if start >= now:
        raise ReportError(
            f"--since {since}: the period must start before now ({now:%Y-%m-%d})"
        )
    return Period(start, now)


Step = Callable[[str], None]


def build_report(
    sources: Sources,
    period: Period,
    *,
    step: Step = lambda _name: None,
    keyphrases: bool = True,
) -> Report:
    """Read, analyse, and say what was lacking. ``step`` is called as each
    stage starts (for a progress bar); ``keyphrases=False`` skips themes (the
    benchmark's baseline)."""
    lacks: list[Lack] = []
    step("comments")
    comments: tuple[Comment, ...] = ()
    try:
        comments, has_staff = read_comments(sources.isso_db, languages=LANGUAGES)
        if not has_staff:
            lacks.append(
                Lack(
                    "comments",
                    f"{sources.isso_db}: no staff proof table "
                    "(piazza_staff_comments): no reply can be counted as staff's.",
                )
            )
    except ReportError as exc:
        lacks.append(Lack("comments", str(exc)))
    comments = tuple(c for c in comments if c.created < period.end)
    found = voices(comments)
    asked, answered, median = summary(found, period)
    step("themes")
    by_lang: dict[str, list[Theme]] = {}
    if keyphrases:
        glossary = read_glossary(sources.glossary)
        current = [v.comment for v in found if v.comment.created in period]
        previous = [v.comment for v in found if v.comment.created in period.previous]
        by_lang = link_languages(
            {lang: themes(current, previous, lang) for lang in LANGUAGES}, glossary
        )
    step("community")
    entries, names, lack = read_community(sources.community_dir)
    if lack:
        lacks.append(lack)
    community = community_view(entries, names, comments, period) if not lack else None
    step("ideas")
    snapshot, lack = read_ideas(sources.ideas_url, sources.ideas_cache)
    if lack:
        lacks.append(lack)
    ideas = ideas_view(snapshot.ideas, period) if snapshot.generated else None
    report = Report(
        generated=period.end,
        period=period,
        lacks=tuple(lacks),
        comments=len(comments),
        waiting=tuple(waiting(found, period.end)),
        asked=asked,
        answered=answered,
        median_hours=median,
        months=tuple(months(found, period.end)),
        themes=by_lang,
        ideas=ideas,
        community=community,
        entries=sum(len(e) for e in entries.values()),
        site_url=sources.site_url.rstrip("/"),
        slugs=sources.slugs,
    )
    if report.empty:
        lacks.append(
            Lack(
                "period",
                f"Nothing happened between {period.start:%Y-%m-%d} "
                f"and {period.end:%Y-%m-%d}: no question, no post, no idea changed.",
            )
        )
        report = Report(**{**report.__dict__, "lacks": tuple(lacks)})
    return report
