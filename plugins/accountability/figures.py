"""Pure figures about the company's answers to ideas (no Pelican, no network).

Shared by the public page (generator.py) and the leader's report
(piazza/report/ideas.py), so both say the same numbers.

An idea is *answered* when a status change in its history carries an answer
from the company (in either language). The time to the first answer runs
from the idea's publication (else its creation) to the first change with an
answer. An idea is *done* in the quarter of its change to ``done``.
Duplicates are left out of every figure: they are answered by their original.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ideaboard.model import Change, IdeaNumbers

OPEN = frozenset(("proposed", "under-review"))


@dataclass(frozen=True)
class Decision:
    """A status change with the company's answer, for the latest decisions."""

    idea: IdeaNumbers
    change: Change


@dataclass(frozen=True)
class Figures:
    """What the public page shows: aggregate numbers only."""

    ideas: int
    answered: int
    median_days: float | None
    done_by_quarter: tuple[tuple[str, int], ...]  # ("2026-Q1", 3), oldest first
    latest: tuple[Decision, ...]

    @property
    def share_answered(self) -> float | None:
        return self.answered / self.ideas if self.ideas else None


def counted(ideas: Sequence[IdeaNumbers]) -> list[IdeaNumbers]:
    """The ideas the figures count (not the duplicates)."""
    return [idea for idea in ideas if idea.status != "duplicate"]


def first_answer(idea: IdeaNumbers) -> Change | None:
    answered = [c for c in idea.history if c.answer_it or c.answer_en]
    return min(answered, key=lambda c: c.date) if answered else None


def days_to_answer(idea: IdeaNumbers) -> float | None:
    change = first_answer(idea)
    start = idea.published or idea.created
    if change is None or start is None:
        return None
    return max(0.0, (change.date - start).total_seconds() / 86400)


def quarter(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def done_by_quarter(ideas: Sequence[IdeaNumbers]) -> tuple[tuple[str, int], ...]:
    """Ideas done per quarter (the quarter of their last change to done)."""
    found: Counter[str] = Counter()
    for idea in ideas:
        if idea.status != "done":
            continue
        done = [c.date for c in idea.history if c.status == "done"]
        if done:
            found[quarter(max(done))] += 1
    return tuple(sorted(found.items()))


def decisions(ideas: Sequence[IdeaNumbers]) -> list[Decision]:
    """Every answered status change, newest first."""
    found = [
        Decision(idea, change)
        for idea in ideas
        for change in idea.history
        if change.answer_it or change.answer_en
    ]
    found.sort(key=lambda d: (d.change.date, d.idea.id), reverse=True)
    return found


def figures(ideas: Sequence[IdeaNumbers], latest: int = 10) -> Figures:
    ideas = counted(ideas)
    delays = [d for d in (days_to_answer(i) for i in ideas) if d is not None]
    return Figures(
        ideas=len(ideas),
        answered=sum(1 for i in ideas if first_answer(i) is not None),
        median_days=statistics.median(delays) if delays else None,
        done_by_quarter=done_by_quarter(ideas),
        latest=tuple(decisions(ideas)[:latest]),
    )
