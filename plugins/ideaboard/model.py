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


@dataclass(frozen=True)
class IdeaText:
    """One language version of an accepted idea, as git has it
    (``content/ideas/<slug>.<lang>.md``): the text as the editors edited it
    and the company's decision. ``body_html`` is sanitised."""

    number: int
    lang: str
    slug: str
    title: str
    body_html: str
    category: str
    date: datetime
    source: str
    proposed_by: str = ""
    status: str = "proposed"
    status_date: datetime | None = None
    answer_it: str = ""
    answer_en: str = ""
    duplicate_of: int | None = None
    company_pick: bool = False


@dataclass(frozen=True)
class BoardIdea:
    """An idea as the board shows it: git's text and decision, the service's
    numbers and history (plugins/ideaboard/board.py merges them).

    ``texts`` holds each language version git has; ``history`` is oldest
    first and ends with the decision git records."""

    number: int
    texts: dict[str, IdeaText]
    original_lang: str
    category: str
    status: str
    date: datetime
    status_date: datetime | None
    supporters: int
    confirmed: int
    recent: int
    history: tuple[Change, ...]
    duplicate_of: int | None
    company_pick: bool
    proposed_by: str

    def text(self, lang: str) -> IdeaText:
        """The version in ``lang``, else the original (the page marks its
        language with ``lang=``)."""
        return self.texts.get(lang) or self.texts[self.original_lang]


@dataclass(frozen=True)
class Decision:
    """One status change of one idea: an entry of the feed "what we did with
    your ideas" and of the home page's latest decisions. ``index`` is its
    place in the idea's history (its anchor on the idea's page)."""

    idea: BoardIdea
    change: Change
    index: int
