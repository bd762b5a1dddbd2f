"""Voices waiting for an answer, and how fast staff answers, month by month.

A reader's comment that asks (asking.py) is *answered* when a staff member's
comment (proven, see isso.py) in the same conversation was posted after it:
Isso keeps one level of replies, so that is a reply to it or, for a reply,
a later reply under the same comment. The time to answer is from the
comment to the first such staff comment.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from piazza.report.asking import asks
from piazza.report.model import Comment, Period


@dataclass(frozen=True)
class Voice:
    """An asking comment and its first staff answer (None: still waiting)."""

    comment: Comment
    answered: datetime | None

    @property
    def delay(self) -> timedelta | None:
        return self.answered - self.comment.created if self.answered else None


@dataclass(frozen=True)
class Month:
    """One month: asking comments, how many answered, the median delay."""

    label: str  # "2026-03"
    asked: int
    answered: int
    median_hours: float | None

    @property
    def rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


def voices(comments: Sequence[Comment]) -> list[Voice]:
    """Every reader's asking comment with its first staff answer, oldest first."""
    staff_by_root: dict[tuple[str, int], list[datetime]] = defaultdict(list)
    for comment in comments:
        if comment.staff:
            staff_by_root[comment.uri, comment.root].append(comment.created)
    found = []
    for comment in comments:
        if comment.staff or not asks(comment.text):
            continue
        later = [
            moment
            for moment in staff_by_root.get((comment.uri, comment.root), ())
            if moment > comment.created
        ]
        found.append(Voice(comment, min(later) if later else None))
    found.sort(key=lambda voice: (voice.comment.created, voice.comment.id))
    return found


def waiting(found: Sequence[Voice], before: datetime) -> list[Voice]:
    """The voices written before ``before`` that no staff answered, oldest first."""
    return [v for v in found if v.answered is None and v.comment.created < before]


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def months(found: Sequence[Voice], end: datetime, count: int = 12) -> list[Month]:
    """The last ``count`` months up to ``end`` (by the month of the question)."""
    labels = []
    year, month = end.year, end.month
    for _ in range(count):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    labels.reverse()
    asked: dict[str, list[Voice]] = defaultdict(list)
    for voice in found:
        if voice.comment.created < end:
            asked[_month(voice.comment.created)].append(voice)
    result = []
    for label in labels:
        group = asked.get(label, [])
        delays = [v.delay.total_seconds() / 3600 for v in group if v.delay is not None]
        result.append(
            Month(
                label=label,
                asked=len(group),
                answered=len(delays),
                median_hours=statistics.median(delays) if delays else None,
            )
        )
    return result


def summary(found: Sequence[Voice], period: Period) -> tuple[int, int, float | None]:
    """In the period: asking comments, answered ones, median hours to answer."""
    inside = [v for v in found if v.comment.created in period]
    delays = [v.delay.total_seconds() / 3600 for v in inside if v.delay is not None]
    return len(inside), len(delays), statistics.median(delays) if delays else None
