"""Polls in posts, on the ideas service: which polls exist (learnt from the
build), the readers' choices, the totals.

The build writes ``polls.json`` (plugins/polls): ``{"polls": {id:
{"options": [keys], "closes": ISO 8601}}}``; the service reads the live
release's copy (``IDEAS_POLLS_FILE``, re-read when it changes, as the comment
guard reads the threads file) and takes a choice only for a poll and an
option in it, only before ``closes``, whatever the client says.

A voter holds one choice per poll (the primary key): choosing again moves
it, never adds one. Each choice is a write like a vote on an idea: the
voter cookie, a proof of work spent, the same limits per voter and per
address range (store._vote_limits), all in the write's own BEGIN IMMEDIATE
transaction, so a burst of concurrent requests can't race past them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from piazza.isso_guard import WatchedFile
from services.ideas.config import Limits
from services.ideas.db import immediate
from services.ideas.rules import Refused
from services.ideas.store import Caller, _prune, _spend, _vote_limits, _voter

POLL_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")


@dataclass(frozen=True)
class Known:
    """A poll as the build published it."""

    id: str
    options: tuple[str, ...]
    closes: float  # a Unix time

    def is_closed(self, now: float) -> bool:
        return now >= self.closes


@dataclass(frozen=True)
class Choice:
    """What a choice did, for the answer."""

    choice: str
    changed: bool
    totals: dict[str, int]
    voter: str
    new_voter: bool


class PollsFileError(Exception):
    """The build's polls file can't be read; the message says why."""


def parse_polls(text: str, source: str = "polls file") -> dict[str, Known]:
    """``{id: Known}`` from the build's polls file."""
    try:
        data = json.loads(text)
        found = {}
        for poll, item in data["polls"].items():
            options = tuple(item["options"])
            closes = datetime.fromisoformat(item["closes"])
            if not POLL_ID.match(poll) or not options:
                raise ValueError(f"poll {poll!r}")
            if not all(isinstance(o, str) and o for o in options):
                raise ValueError(f"poll {poll!r}: options")
            if closes.tzinfo is None:
                closes = closes.replace(tzinfo=UTC)
            found[poll] = Known(poll, options, closes.timestamp())
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PollsFileError(
            f'{source}: not a polls file ({{"polls": {{id: {{"options", '
            f'"closes"}}}}}}): {exc}'
        ) from None
    return found


class PollBook:
    """The polls the build published: none without a file (no poll takes
    votes), re-read when the file changes."""

    def __init__(self, path: Path | None) -> None:
        self._file = (
            None
            if path is None
            else WatchedFile(path, lambda text: parse_polls(text, str(path)), {})
        )

    def all(self) -> dict[str, Known]:
        return {} if self._file is None else self._file.get()

    def get(self, poll: str) -> Known | None:
        return self.all().get(poll)


# --- reads ------------------------------------------------------------------


def totals(db: sqlite3.Connection, poll: Known) -> dict[str, int]:
    """The choices for each option of ``poll`` (0 for none)."""
    found = dict.fromkeys(poll.options, 0)
    for option, count in db.execute(
        "SELECT option, COUNT(*) FROM poll_votes WHERE poll = ? GROUP BY option",
        (poll.id,),
    ):
        if option in found:
            found[option] = count
    return found


def every_total(
    db: sqlite3.Connection, polls: Mapping[str, Known]
) -> dict[str, dict[str, int]]:
    """The totals of every poll, in one read transaction (they agree)."""
    db.execute("BEGIN")
    try:
        return {poll.id: totals(db, poll) for poll in polls.values()}
    finally:
        db.execute("COMMIT")


def choice_of(db: sqlite3.Connection, poll: Known, voter: str) -> str | None:
    row = db.execute(
        "SELECT option FROM poll_votes WHERE poll = ? AND voter = ?",
        (poll.id, voter),
    ).fetchone()
    return row[0] if row and row[0] in poll.options else None


# --- checks before a write (no database) -------------------------------------


def check(poll: Known | None, name: str, data: Mapping[str, Any], now: float) -> str:
    """The option a request chose, or Refused: an unknown poll (404), one
    closed (409), an option not in it (400)."""
    if poll is None:
        raise Refused("unknown_poll", f"no poll {name[:60]!r} here", 404)
    if poll.is_closed(now):
        raise Refused("closed", f"the poll {poll.id!r} is closed: no more votes", 409)
    option = data.get("option")
    if not isinstance(option, str) or option not in poll.options:
        raise Refused(
            "unknown_option",
            f"option: one of {', '.join(poll.options)}",
            400,
        )
    return option


# --- the write ------------------------------------------------------------------


def choose(
    db: sqlite3.Connection,
    poll: Known,
    option: str,
    caller: Caller,
    *,
    challenge: tuple[str, float],
    limits: Limits,
    now: float,
) -> Choice:
    """Record ``caller``'s choice in ``poll`` (moving an earlier one)."""
    with immediate(db):
        if poll.is_closed(now):
            raise Refused("closed", f"the poll {poll.id!r} is closed", 409)
        voter, new = _voter(db, caller, now)
        _spend(db, *challenge)
        _vote_limits(db, caller.range, voter, limits, now)
        before = db.execute(
            "SELECT option FROM poll_votes WHERE poll = ? AND voter = ?",
            (poll.id, voter),
        ).fetchone()
        db.execute(
            "INSERT INTO poll_votes (poll, voter, option, created, changed) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll, voter) DO UPDATE SET "
            "option = excluded.option, changed = excluded.changed",
            (poll.id, voter, option, now, now),
        )
        _prune(db, now)
        counted = totals(db, poll)
    return Choice(option, before is None or before[0] != option, counted, voter, new)
