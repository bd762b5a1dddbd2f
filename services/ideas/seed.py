"""Numbers for the demo: the ideas of content/ideas/ put into an empty
development database, with their history and some supporters.

``invoke ideas --seed`` (and ``invoke dev``, through it) calls :func:`seed`.
It writes only into a database with no ideas at all, so it never touches
real votes: a second call changes nothing. The ideas keep the numbers they
have in git (``Idea-Id``); votes are spread from each idea's date to now,
so the board's "trending" has something to show, and about one supporter in
four has a confirmed e-mail. Everything comes from a seeded random
generator: the same content gives the same numbers.

:func:`insert` is the one way in, shared with bench/bench_board.py (500
ideas, 50,000 votes).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from services.ideas.content import TIMEZONE
from services.ideas.db import Database, connect, immediate
from services.ideas.rules import CATEGORIES, STATUSES


class SeedError(Exception):
    """The seed can't be planted (the message names the file or database)."""


@dataclass(frozen=True)
class SeedIdea:
    """An idea to insert, with its history ``(status, answer_it, answer_en,
    when)`` oldest first."""

    id: int
    title: str
    description_html: str
    category: str
    lang: str
    author: str
    status: str
    created: float
    history: tuple[tuple[str, str, str, float], ...]
    duplicate_of: int | None = None
    supporters: int = 0
    confirmed_share: float = 0.25
    votes_since: float | None = None


def _head(path: Path) -> tuple[dict[str, str], str]:
    text = path.read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    fields = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.strip()
    return fields, body.strip()


def _stamp(value: str, tz: ZoneInfo, where: str) -> float:
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise SeedError(f"{where}: {value!r} is not a date") from None
    return (found if found.tzinfo else found.replace(tzinfo=tz)).timestamp()


# The demo's story (content/posts: the luggage rack won the readers' vote);
# any other idea gets a number drawn from the seeded generator.
DEMO_SUPPORT = {1: 412, 2: 268, 3: 187, 4: 96, 5: 143, 6: 38}

# The way an idea usually got where it is (each step dated between the
# proposal and the decision).
_PATH = {
    "under-review": ("under-review",),
    "planned": ("under-review", "planned"),
    "in-progress": ("under-review", "planned", "in-progress"),
    "done": ("under-review", "planned", "in-progress", "done"),
    "declined": ("under-review", "declined"),
    "duplicate": ("duplicate",),
}


def from_content(folder: Path, tz: ZoneInfo = TIMEZONE) -> list[SeedIdea]:
    """The ideas of ``folder`` (one per Idea-Id, in its first language)."""
    rng = random.Random(20260701)
    found: dict[int, SeedIdea] = {}
    for path in sorted(folder.glob("*.md")):
        fields, body = _head(path)
        where = str(path)
        try:
            number = int(fields["idea-id"])
        except (KeyError, ValueError):
            raise SeedError(f"{where}: no Idea-Id") from None
        if number in found and found[number].lang == "it":
            continue
        status = fields.get("status") or "proposed"
        if status not in STATUSES:
            raise SeedError(f"{where}: unknown Status {status!r}")
        created = _stamp(fields.get("date", ""), tz, f"{where}: Date")
        decided = (
            _stamp(fields["status-date"], tz, f"{where}: Status-Date")
            if fields.get("status-date")
            else created
        )
        steps = _PATH.get(status, ())
        history = [("proposed", "", "", created)]
        for index, step in enumerate(steps, start=1):
            last = index == len(steps)
            when = created + (decided - created) * index / len(steps)
            history.append(
                (
                    step,
                    fields.get("answer-it", "") if last else "",
                    fields.get("answer-en", "") if last else "",
                    when,
                )
            )
        duplicate = fields.get("duplicate-of")
        found[number] = SeedIdea(
            id=number,
            title=fields.get("title", ""),
            description_html=body,
            category=fields.get("category") or next(iter(CATEGORIES)),
            lang=fields.get("lang", "it"),
            author=fields.get("proposed-by", ""),
            status=status,
            created=created,
            history=tuple(history),
            duplicate_of=int(duplicate) if duplicate else None,
            supporters=0
            if duplicate
            else DEMO_SUPPORT.get(number, rng.randint(12, 240)),
        )
    return [found[number] for number in sorted(found)]


def insert(
    db: sqlite3.Connection,
    ideas: Sequence[SeedIdea],
    *,
    now: float,
    seed: int = 7,
) -> int:
    """Insert ``ideas``, their history and their supporters (about half the
    votes from voters who support other ideas too) in one transaction; the
    votes inserted."""
    rng = random.Random(seed)
    voters: list[tuple[str, str | None]] = []
    votes = []
    given: set[tuple[int, str]] = set()
    for idea in ideas:
        since = idea.votes_since or idea.created
        chosen = 0
        while chosen < idea.supporters:
            if voters and rng.random() < 0.5:
                voter, email = rng.choice(voters)
                if (idea.id, voter) in given:
                    continue
            else:
                voter = f"seed-{len(voters) + 1}"
                email = (
                    f"rider{len(voters) + 1}@example.org"
                    if rng.random() < idea.confirmed_share
                    else None
                )
                voters.append((voter, email))
            given.add((idea.id, voter))
            votes.append((idea.id, voter, rng.uniform(since, now), email))
            chosen += 1
    with immediate(db):
        db.executemany(
            "INSERT INTO ideas (id, title, description, description_html, "
            "category, lang, author_name, status, duplicate_of, created, "
            "published) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i.id, i.title, i.description_html, i.description_html, i.category,
                 i.lang, i.author, i.status, None, i.created, i.created)
                for i in ideas
            ],
        )  # fmt: skip
        db.executemany(
            "UPDATE ideas SET duplicate_of = ? WHERE id = ?",
            [(i.duplicate_of, i.id) for i in ideas if i.duplicate_of],
        )
        db.executemany(
            "INSERT INTO history (idea_id, status, answer_it, answer_en, created) "
            "VALUES (?, ?, ?, ?, ?)",
            [(i.id, *change) for i in ideas for change in i.history],
        )
        db.executemany(
            "INSERT INTO voters (id, range, created, email, confirmed) "
            "VALUES (?, '192.0.2.0/24', ?, ?, ?)",
            [(v, now, e, now if e else None) for v, e in voters],
        )
        db.executemany(
            "INSERT INTO votes (idea_id, voter, created, email) VALUES (?, ?, ?, ?)",
            votes,
        )
    return len(votes)


def _empty(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT COUNT(*) FROM ideas").fetchone()[0] == 0


def seed(db_path: Path, folder: Path, *, now: float | None = None) -> tuple[int, int]:
    """Plant the demo's ideas into ``db_path`` if it has none: (ideas, votes)
    inserted; (0, 0) when it had ideas already."""
    ideas = from_content(folder)
    database = Database(db_path)
    try:
        database.create()
    except Exception as exc:  # noqa: BLE001 - SchemaError, sqlite3.Error
        raise SeedError(f"{db_path}: {exc}") from None
    db = connect(db_path)
    try:
        if not _empty(db):
            return 0, 0
        votes = insert(db, ideas, now=now if now is not None else time.time())
    except sqlite3.Error as exc:
        raise SeedError(f"{db_path}: {exc}") from None
    finally:
        db.close()
    return len(ideas), votes
