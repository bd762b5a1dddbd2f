"""What the ideas service does to its database: each operation one
transaction (db.immediate), its checks and its write together.

A refusal raises rules.Refused inside the transaction, which rolls back:
a refused request changes nothing (no vote, no spent challenge, no event).
"""

from __future__ import annotations

import random
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from services.ideas.config import Limits
from services.ideas.db import immediate
from services.ideas.model import Ballot, Change, Counts, Idea, Proposal
from services.ideas.rules import CLOSED, PENDING, SETTABLE, Refused

HOUR = 3600.0
DAY = 86400.0
# Placeholders for "status NOT IN (...)": the statuses whose votes are free.
_CLOSED_SQL = ", ".join(f"'{status}'" for status in sorted(CLOSED))
_IDEA_COLUMNS = (
    "id, title, description, description_html, category, lang, author_name, "
    "status, duplicate_of, created, published, author_email"
)


@dataclass(frozen=True)
class Caller:
    """Who is writing: their voter id (None: a new one is made) and range."""

    voter: str | None
    range: str


@dataclass(frozen=True)
class Outcome:
    """What a vote or withdrawal did, for the answer."""

    changed: bool
    counts: Counts
    ballot: Ballot
    new_voter: bool


# --- limits and proof of work (inside a transaction) -------------------------


def _limit(
    db: sqlite3.Connection,
    kind: str,
    subject: str,
    *,
    per: tuple[int, float],
    now: float,
    what: str,
) -> None:
    """Refuse when ``subject`` already did ``kind`` ``per`` = (limit, window
    in seconds) times; otherwise record this time. Call inside the write's
    transaction."""
    limit, window = per
    (count,) = db.execute(
        "SELECT COUNT(*) FROM events WHERE kind = ? AND subject = ? AND created > ?",
        (kind, subject, now - window),
    ).fetchone()
    if count >= limit:
        span = {HOUR: "an hour", DAY: "a day"}.get(window, f"{window:g} s")
        raise Refused(
            "limit",
            f"too many {what} (at most {limit} in {span}): try again later",
            429,
        )
    db.execute(
        "INSERT INTO events (kind, subject, created) VALUES (?, ?, ?)",
        (kind, subject, now),
    )


def _vote_limits(
    db: sqlite3.Connection, network: str, voter: str, limits: Limits, now: float
) -> None:
    """A vote or a withdrawal counts against its network's and its voter's
    limits (withdrawing and voting again is no way round them)."""
    _limit(
        db,
        "vote",
        network,
        per=(limits.range_votes_per_hour, HOUR),
        now=now,
        what="votes from your network",
    )
    _limit(
        db,
        "vote",
        voter,
        per=(limits.voter_votes_per_hour, HOUR),
        now=now,
        what="votes from this browser",
    )


def _spend(db: sqlite3.Connection, signature: str, expires: float) -> None:
    """Mark a proof-of-work challenge spent; refuse one spent before."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO spent_challenges (signature, expires) VALUES (?, ?)",
        (signature, expires),
    )
    if cursor.rowcount == 0:
        raise Refused(
            "pow_replayed",
            "this proof of work was already used: ask for a new challenge",
            403,
        )


def _prune(db: sqlite3.Connection, now: float) -> None:
    """Forget what no limit or replay check can need any more (now and then:
    a write in a hundred pays for it)."""
    if random.random() < 0.01:  # not for security: spreads the work
        db.execute("DELETE FROM events WHERE created < ?", (now - 2 * DAY,))
        db.execute("DELETE FROM spent_challenges WHERE expires < ?", (now,))


def _voter(db: sqlite3.Connection, caller: Caller, now: float) -> tuple[str, bool]:
    """The caller's voter id, made now if they have none (new: True)."""
    if caller.voter is None:
        voter = secrets.token_urlsafe(18)
        db.execute(
            "INSERT INTO voters (id, range, created) VALUES (?, ?, ?)",
            (voter, caller.range, now),
        )
        return voter, True
    known = db.execute("SELECT 1 FROM voters WHERE id = ?", (caller.voter,)).fetchone()
    if not known:
        raise Refused(
            "unknown_voter",
            "this browser's voter cookie is not known here (it has been "
            "cleared): try again",
            403,
        )
    return caller.voter, False


def _admit(
    db: sqlite3.Connection,
    caller: Caller,
    challenge: tuple[str, float],
    now: float,
    kind: str,
    *,
    per: tuple[int, float],
    what: str,
) -> tuple[str, bool]:
    """The start of a reader's write limited per network: their voter id
    (made if new), the proof of work spent, the limit checked and counted."""
    voter, new = _voter(db, caller, now)
    _spend(db, *challenge)
    _limit(db, kind, caller.range, per=per, now=now, what=what)
    return voter, new


# --- reads ------------------------------------------------------------------


def counts(db: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Counts]:
    """Supporters and confirmed supporters of each idea in ``ids`` that is
    public (ideas in the queue, or unknown, are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    found = {
        row[0]: Counts(0, 0)
        for row in db.execute(
            f"SELECT id FROM ideas WHERE id IN ({marks}) AND published IS NOT NULL",
            wanted,
        )
    }
    # Each vote carries its voter's confirmed address (db.MIGRATIONS[1]):
    # one pass over the ideas' votes, no join.
    for idea, supporters, confirmed in db.execute(
        f"""SELECT idea_id, COUNT(*), COUNT(DISTINCT email) FROM votes
            WHERE idea_id IN ({marks}) GROUP BY idea_id""",
        wanted,
    ):
        if idea in found:
            found[idea] = Counts(supporters, confirmed)
    return found


def _history(db: sqlite3.Connection, idea: int) -> tuple[Change, ...]:
    return tuple(
        Change(*row)
        for row in db.execute(
            "SELECT status, answer_it, answer_en, created FROM history "
            "WHERE idea_id = ? ORDER BY id",
            (idea,),
        )
    )


def _idea(db: sqlite3.Connection, row: tuple, number: Counts, history=()) -> Idea:
    (id_, title, desc, html, cat, lang, name, status, dup, created, pub, email) = row
    return Idea(
        id_, title, desc, html, cat, lang, name, status, dup, created, pub,
        number, tuple(history), email,
    )  # fmt: skip


def idea(db: sqlite3.Connection, number: int, *, queued: bool = False) -> Idea | None:
    """One idea with its history and counts; one in the queue only if ``queued``."""
    row = db.execute(
        f"SELECT {_IDEA_COLUMNS} FROM ideas WHERE id = ?", (number,)
    ).fetchone()
    if row is None or (row[10] is None and not queued):
        return None
    found = counts(db, [number]).get(number, Counts(0, 0))
    return _idea(db, row, found, _history(db, number))


def ideas(
    db: sqlite3.Connection,
    *,
    status: str | None = None,
    category: str | None = None,
    queue: bool = False,
) -> list[Idea]:
    """Public ideas (or, with ``queue``, those waiting for an editor), newest first."""
    where = ["status = 'pending'" if queue else "published IS NOT NULL"]
    args: list = []
    if status:
        where.append("status = ?")
        args.append(status)
    if category:
        where.append("category = ?")
        args.append(category)
    rows = db.execute(
        f"SELECT {_IDEA_COLUMNS} FROM ideas WHERE {' AND '.join(where)} "
        "ORDER BY created DESC, id DESC",
        args,
    ).fetchall()
    numbers = counts(db, [row[0] for row in rows])
    return [_idea(db, row, numbers.get(row[0], Counts(0, 0))) for row in rows]


RECENT_DAYS = 30  # "trending": support given in the last 30 days


def snapshot(db: sqlite3.Connection, now: float) -> tuple[list[Idea], dict[int, int]]:
    """Every public idea with its counts and whole history (for the build),
    and the support each received in the last RECENT_DAYS days (votes still
    active, given since then). One read transaction: the numbers agree."""
    db.execute("BEGIN")
    try:
        rows = db.execute(
            f"SELECT {_IDEA_COLUMNS} FROM ideas WHERE published IS NOT NULL ORDER BY id"
        ).fetchall()
        numbers = counts(db, [row[0] for row in rows])
        changes: dict[int, list[Change]] = {}
        for idea_id, *change in db.execute(
            "SELECT h.idea_id, h.status, h.answer_it, h.answer_en, h.created "
            "FROM history h JOIN ideas i ON i.id = h.idea_id "
            "WHERE i.published IS NOT NULL ORDER BY h.idea_id, h.id"
        ):
            changes.setdefault(idea_id, []).append(Change(*change))
        recent = dict(
            db.execute(
                "SELECT idea_id, COUNT(*) FROM votes WHERE created > ? "
                "GROUP BY idea_id",
                (now - RECENT_DAYS * DAY,),
            ).fetchall()
        )
    finally:
        db.execute("COMMIT")
    found = [
        _idea(db, row, numbers.get(row[0], Counts(0, 0)), changes.get(row[0], ()))
        for row in rows
    ]
    return found, {idea.id: recent.get(idea.id, 0) for idea in found}


def ballot(db: sqlite3.Connection, voter: str, budget: int) -> Ballot:
    """What ``voter`` supports and how much of their budget is left."""
    rows = db.execute(
        "SELECT v.idea_id, i.status FROM votes v JOIN ideas i ON i.id = v.idea_id "
        "WHERE v.voter = ? ORDER BY v.idea_id",
        (voter,),
    ).fetchall()
    person = db.execute(
        "SELECT email, confirmed FROM voters WHERE id = ?", (voter,)
    ).fetchone() or (None, None)
    return Ballot(
        voter=voter,
        ideas=tuple(row[0] for row in rows),
        active=sum(1 for row in rows if row[1] not in CLOSED),
        budget=budget,
        email=person[0],
        confirmed=person[1] is not None,
    )


# --- readers' writes -------------------------------------------------------


def propose(
    db: sqlite3.Connection,
    proposal: Proposal,
    caller: Caller,
    *,
    challenge: tuple[str, float],
    limits: Limits,
    now: float,
) -> tuple[int, str, bool]:
    """Queue a proposal for the editors: (its id, the voter, new voter?)."""
    with immediate(db):
        voter, new = _admit(
            db, caller, challenge, now, "proposal",
            per=(limits.range_proposals_per_day, DAY),
            what="proposals from your network",
        )  # fmt: skip
        cursor = db.execute(
            "INSERT INTO ideas (title, description, description_html, category, "
            "lang, author_name, author_email, proposer, status, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
            (
                proposal.title, proposal.description, proposal.description_html,
                proposal.category, proposal.lang, proposal.author_name,
                proposal.author_email, voter, now,
            ),
        )  # fmt: skip
        number = cursor.lastrowid
        db.execute(
            "INSERT INTO history (idea_id, status, created) VALUES (?, 'pending', ?)",
            (number, now),
        )
        _prune(db, now)
    return number, voter, new


def _votable(db: sqlite3.Connection, number: int) -> str:
    row = db.execute(
        "SELECT status, published FROM ideas WHERE id = ?", (number,)
    ).fetchone()
    if row is None or row[1] is None:
        raise Refused("unknown_idea", f"no idea number {number}", 404)
    return row[0]


def vote(
    db: sqlite3.Connection,
    number: int,
    caller: Caller,
    *,
    challenge: tuple[str, float],
    budget: int,
    limits: Limits,
    now: float,
) -> Outcome:
    """Support idea ``number``: once per voter, within their budget."""
    with immediate(db):
        voter, new = _voter(db, caller, now)
        _spend(db, *challenge)
        status = _votable(db, number)
        if status in CLOSED:
            raise Refused(
                "closed", f"idea {number} is {status}: it takes no more votes", 409
            )
        already = db.execute(
            "SELECT 1 FROM votes WHERE idea_id = ? AND voter = ?", (number, voter)
        ).fetchone()
        if not already:
            _vote_limits(db, caller.range, voter, limits, now)
            held = ballot(db, voter, budget)
            if held.left <= 0:
                raise Refused(
                    "budget_spent",
                    f"you already support {held.active} ideas, as many as "
                    f"anyone may ({budget}): withdraw your support from one "
                    "to support this one",
                    409,
                )
            db.execute(
                "INSERT INTO votes (idea_id, voter, created, email) "
                "SELECT ?, id, ?, CASE WHEN confirmed IS NOT NULL THEN email END "
                "FROM voters WHERE id = ?",
                (number, now, voter),
            )
        _prune(db, now)
        return Outcome(
            changed=not already,
            counts=counts(db, [number])[number],
            ballot=ballot(db, voter, budget),
            new_voter=new,
        )


def withdraw(
    db: sqlite3.Connection,
    number: int,
    voter: str,
    caller_range: str,
    *,
    budget: int,
    limits: Limits,
    now: float,
) -> Outcome:
    """Take back ``voter``'s support for idea ``number`` (if they gave it)."""
    with immediate(db):
        voter, _new = _voter(db, Caller(voter, caller_range), now)
        status = _votable(db, number)
        if status in CLOSED:
            raise Refused(
                "closed", f"idea {number} is {status}: its count is final", 409
            )
        held = db.execute(
            "SELECT 1 FROM votes WHERE idea_id = ? AND voter = ?", (number, voter)
        ).fetchone()
        if held:
            _vote_limits(db, caller_range, voter, limits, now)
            db.execute(
                "DELETE FROM votes WHERE idea_id = ? AND voter = ?", (number, voter)
            )
        return Outcome(
            changed=bool(held),
            counts=counts(db, [number])[number],
            ballot=ballot(db, voter, budget),
            new_voter=False,
        )


def ask_confirmation(
    db: sqlite3.Connection,
    caller: Caller,
    *,
    challenge: tuple[str, float],
    limits: Limits,
    now: float,
) -> tuple[str, bool]:
    """Admit a request to confirm an address: (voter, new voter?).

    The address itself is stored only once confirmed (the signed link
    carries it), so an address nobody confirmed is never kept; a new one
    replaces a confirmed one only once it is confirmed in turn.
    """
    with immediate(db):
        voter, new = _admit(
            db, caller, challenge, now, "email",
            per=(limits.range_emails_per_day, DAY),
            what="confirmation e-mails for your network",
        )  # fmt: skip
    return voter, new


def confirm(db: sqlite3.Connection, voter: str, email: str, now: float) -> None:
    """The voter proved they read ``email``: their support counts as confirmed."""
    with immediate(db):
        cursor = db.execute(
            "UPDATE voters SET email = ?, confirmed = ? WHERE id = ?",
            (email.lower(), now, voter),
        )
        if cursor.rowcount == 0:
            raise Refused(
                "unknown_voter", "this confirmation link is for a voter "
                "not known here", 404,
            )  # fmt: skip
        db.execute("UPDATE votes SET email = ? WHERE voter = ?", (email.lower(), voter))


def audit(db: sqlite3.Connection) -> list[str]:
    """What does not add up, if anything: every vote must carry its voter's
    confirmed address (the counts rely on it), and every count must equal
    the one recomputed from the voters themselves. Empty: all is proven."""
    problems = [
        f"idea {idea}: the vote of {voter} carries {stored!r}, its voter {actual!r}"
        for idea, voter, stored, actual in db.execute(
            """SELECT v.idea_id, v.voter, v.email,
                      CASE WHEN r.confirmed IS NOT NULL THEN r.email END
               FROM votes v LEFT JOIN voters r ON r.id = v.voter
               WHERE v.email IS NOT
                     CASE WHEN r.confirmed IS NOT NULL THEN r.email END"""
        )
    ]
    recomputed = {
        idea: Counts(supporters, confirmed)
        for idea, supporters, confirmed in db.execute(
            """SELECT v.idea_id, COUNT(*), COUNT(DISTINCT
                      CASE WHEN r.confirmed IS NOT NULL THEN r.email END)
               FROM votes v JOIN voters r ON r.id = v.voter GROUP BY v.idea_id"""
        )
    }
    public = [row[0] for row in db.execute("SELECT id FROM ideas")]
    for idea, shown in counts(db, public).items():
        expected = recomputed.get(idea, Counts(0, 0))
        if shown != expected:
            problems.append(f"idea {idea}: counted {shown}, the voters say {expected}")
    return problems


# --- editors' writes (the terminal) ----------------------------------------


def _change(
    db: sqlite3.Connection, number: int, status: str, answers: tuple[str, str], now
) -> None:
    db.execute(
        "INSERT INTO history (idea_id, status, answer_it, answer_en, created) "
        "VALUES (?, ?, ?, ?, ?)",
        (number, status, *answers, now),
    )


def _existing(db: sqlite3.Connection, number: int) -> tuple[str, float | None]:
    row = db.execute(
        "SELECT status, published FROM ideas WHERE id = ?", (number,)
    ).fetchone()
    if row is None:
        raise Refused("unknown_idea", f"no idea number {number}", 404)
    return row


def accept(
    db: sqlite3.Connection, number: int, answers: tuple[str, str], now: float
) -> Idea:
    """Publish an idea from the queue as "proposed"."""
    with immediate(db):
        status, _published = _existing(db, number)
        if status != PENDING:
            raise Refused(
                "not_pending", f"idea {number} is not in the queue (it is {status})"
            )
        db.execute(
            "UPDATE ideas SET status = 'proposed', published = ? WHERE id = ?",
            (now, number),
        )
        _change(db, number, "proposed", answers, now)
    return idea(db, number)


def set_status(
    db: sqlite3.Connection,
    number: int,
    status: str,
    answers: tuple[str, str],
    now: float,
) -> Idea:
    """Move an idea to ``status`` with the company's answer. Declining one
    in the queue leaves it unpublished."""
    if status not in SETTABLE:
        raise Refused(
            "invalid",
            f"status: one of {', '.join(sorted(SETTABLE))} "
            "(duplicate: merge it into the original)",
        )
    with immediate(db):
        current, published = _existing(db, number)
        if current == "duplicate":
            raise Refused("invalid", f"idea {number} is a duplicate: it stays merged")
        if published is None and status != "declined":
            raise Refused(
                "not_published",
                f"idea {number} is in the queue: accept or decline it first",
            )
        if current == status:
            raise Refused("invalid", f"idea {number} is {status} already")
        db.execute("UPDATE ideas SET status = ? WHERE id = ?", (status, number))
        _change(db, number, status, answers, now)
    return idea(db, number, queued=True)


def merge(
    db: sqlite3.Connection,
    number: int,
    into: int,
    answers: tuple[str, str],
    now: float,
) -> Idea:
    """Make ``number`` a duplicate of ``into``: its supporters move to the
    original, each counted once (one who supported both keeps one vote)."""
    if number == into:
        raise Refused("invalid", "an idea cannot be merged into itself")
    with immediate(db):
        _existing(db, number)
        target_status, target_published = _existing(db, into)
        status, _ = _existing(db, number)
        if status == "duplicate":
            raise Refused("invalid", f"idea {number} is already a duplicate")
        if target_published is None or target_status == "duplicate":
            raise Refused(
                "invalid",
                f"idea {into} is {target_status}: merge into a published original",
            )
        db.execute(
            "INSERT OR IGNORE INTO votes (idea_id, voter, created, email) "
            "SELECT ?, voter, created, email FROM votes WHERE idea_id = ?",
            (into, number),
        )
        db.execute("DELETE FROM votes WHERE idea_id = ?", (number,))
        db.execute(
            "UPDATE ideas SET status = 'duplicate', duplicate_of = ?, "
            "published = COALESCE(published, ?) WHERE id = ?",
            (into, now, number),
        )
        _change(db, number, "duplicate", answers, now)
    return idea(db, into)
