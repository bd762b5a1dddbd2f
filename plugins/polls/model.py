"""What flows through the polls plugin: frozen dataclasses, no behaviour
beyond reading them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Option:
    """One answer a reader may choose: a stable key and its text per language."""

    key: str
    texts: dict[str, str] = field(hash=False)

    def text(self, lang: str, default_lang: str) -> str:
        return self.texts.get(lang) or self.texts[default_lang]


@dataclass(frozen=True)
class Record:
    """The final numbers an editor wrote into the poll file after it closed
    (``[result]``): the published record, kept in git."""

    recorded: datetime
    totals: dict[str, int] = field(hash=False)


@dataclass(frozen=True)
class Poll:
    """A poll as content/polls/<id>.toml declares it, checked."""

    id: str
    source: str  # the file, relative to where the build runs
    question: dict[str, str] = field(hash=False)
    options: tuple[Option, ...]
    closes: datetime  # aware
    record: Record | None = None

    def is_closed(self, now: datetime) -> bool:
        return now >= self.closes

    def option_keys(self) -> tuple[str, ...]:
        return tuple(option.key for option in self.options)


@dataclass(frozen=True)
class Results:
    """What the ideas service counted for one poll.

    ``source`` says where the numbers come from: "service" (this build's
    answer), "cache" (the last known answer, the service being down) or
    "record" (the poll file's ``[result]``); ``as_of`` is when they were
    true."""

    totals: dict[str, int] = field(hash=False)
    as_of: datetime | None
    source: str

    @property
    def total(self) -> int:
        return sum(self.totals.values())


@dataclass(frozen=True)
class Row:
    """One option as a page shows it."""

    key: str
    label: str
    count: int
    percent: int  # 0-100, rounded; the bar's width class is poll-bar--<percent>
    leading: bool  # the most chosen (all of them on a tie)


@dataclass(frozen=True)
class PollView:
    """A poll prepared for one page in one language: templates only loop."""

    id: str
    lang: str
    question: str
    closes: datetime
    closed: bool
    rows: tuple[Row, ...]
    total: int
    as_of: datetime | None
    source: str | None  # None: no numbers known at all
    api: str  # IDEAS_PUBLIC_URL, for the form's action and polls.js
