"""What flows through the report: frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Comment:
    """A published comment as the report sees it.

    ``person`` is an opaque key for counting distinct writers (see
    isso.py); it never leaves the process. ``staff`` is the staff member's
    key when piazza_staff_comments proves the comment is theirs."""

    id: int
    uri: str
    title: str
    parent: int | None
    created: datetime
    text: str
    author: str
    person: str
    lang: str
    likes: int = 0
    staff: str | None = None

    @property
    def root(self) -> int:
        """The conversation it belongs to: Isso keeps one level of replies."""
        return self.parent if self.parent is not None else self.id


@dataclass(frozen=True)
class Period:
    """The report's period [start, end) and the previous one of equal length."""

    start: datetime
    end: datetime

    @property
    def previous(self) -> Period:
        return Period(self.start - (self.end - self.start), self.start)

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end
