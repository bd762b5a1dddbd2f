"""The ideas board in the report: support, waiting, changes (pure).

The public page's figures (share answered, time to answer, done per quarter)
come from plugins/accountability/figures.py, so both say the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accountability.figures import (
    OPEN,
    Decision,
    Figures,
    counted,
    figures,
    first_answer,
)
from ideaboard.model import IdeaNumbers

from piazza.report.model import Period

TOP = 10


@dataclass(frozen=True)
class IdeasView:
    figures: Figures
    most_supported: tuple[IdeaNumbers, ...]
    waiting: tuple[IdeaNumbers, ...]  # open, no answer, oldest first
    changes: tuple[Decision, ...]  # status changes in the period, newest first


def ideas_view(ideas: Sequence[IdeaNumbers], period: Period) -> IdeasView:
    ideas = counted(ideas)
    supported = sorted(ideas, key=lambda i: (-i.supporters, -i.recent, i.id))
    waiting = sorted(
        (i for i in ideas if i.status in OPEN and first_answer(i) is None),
        key=lambda i: (i.published or i.created or period.end, i.id),
    )
    changes = sorted(
        (Decision(i, c) for i in ideas for c in i.history if c.date in period),
        key=lambda d: (d.change.date, d.idea.id),
        reverse=True,
    )
    return IdeasView(
        figures=figures(ideas),
        most_supported=tuple(supported[:TOP]),
        waiting=tuple(waiting[:TOP]),
        changes=tuple(changes),
    )
