"""What flows from the ideas service into the build: frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Change:
    """One status change with the company's answer (either may be empty)."""

    status: str
    answer_it: str
    answer_en: str
    date: datetime


@dataclass(frozen=True)
class IdeaNumbers:
    """An idea as the service knows it: its status, its support, its history.

    ``description_html`` went through plugins/sanitize here, whatever the
    service sent; ``recent`` is the support given in the snapshot's last
    ``recent_days`` days (still active)."""

    id: int
    title: str
    description_html: str
    category: str
    lang: str
    author: str
    status: str
    duplicate_of: int | None
    created: datetime | None
    published: datetime | None
    supporters: int
    confirmed: int
    recent: int
    history: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """The service's public ideas at one moment.

    ``stale`` when it is the last known copy (the service was down, or no
    URL is set); ``generated`` is when the service made it (None: nothing
    known at all)."""

    ideas: tuple[IdeaNumbers, ...]
    generated: datetime | None
    budget: int
    recent_days: int
    stale: bool

    def by_id(self) -> dict[int, IdeaNumbers]:
        return {idea.id: idea for idea in self.ideas}
