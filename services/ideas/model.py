"""What flows through the ideas service: frozen dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Proposal:
    """A reader's proposal, checked and sanitised (rules.check_proposal)."""

    title: str
    description: str  # Markdown, as written
    description_html: str  # sanitised HTML made from it
    category: str
    lang: str
    author_name: str = ""
    author_email: str = ""


@dataclass(frozen=True)
class Change:
    """One status change and the company's answer, with its date."""

    status: str
    answer_it: str
    answer_en: str
    created: float


@dataclass(frozen=True)
class Counts:
    supporters: int  # active votes
    confirmed: int  # of whom with a confirmed e-mail (each address once)


@dataclass(frozen=True)
class Idea:
    id: int
    title: str
    description: str
    description_html: str
    category: str
    lang: str
    author_name: str
    status: str
    duplicate_of: int | None
    created: float
    published: float | None  # when an editor accepted it; None in the queue
    counts: Counts
    history: tuple[Change, ...] = ()
    author_email: str = ""  # for editors only, never in a public answer


@dataclass(frozen=True)
class Ballot:
    """What a voter holds: the ideas they support and what is left."""

    voter: str
    ideas: tuple[int, ...]  # every idea they support
    active: int  # of those, the ones that use up the budget
    budget: int
    email: str | None
    confirmed: bool

    @property
    def left(self) -> int:
        return max(0, self.budget - self.active)
