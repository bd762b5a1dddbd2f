"""The ideas database: SQLite in WAL mode, its schema, its migrations.

The schema grows by versions: :data:`MIGRATIONS` is a list of scripts, the
database's ``PRAGMA user_version`` says how many ran, and :func:`migrate`
runs the rest, each in its own transaction. Never edit a script that has
shipped; append a new one.

Every write goes through :func:`immediate` (BEGIN IMMEDIATE): the checks a
write depends on (a limit, a budget, a spent challenge) and the write itself
happen while no other process can write, so a burst of requests across
gunicorn's workers cannot race past a check.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from piazza.commentstore import immediate

__all__ = ["MIGRATIONS", "Database", "connect", "immediate", "migrate"]

MIGRATIONS: list[str] = [
    # 1: ideas, their history, voters, votes, limits, spent challenges.
    """
    CREATE TABLE ideas (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        description TEXT NOT NULL,           -- Markdown, as the reader wrote it
        description_html TEXT NOT NULL,      -- sanitised (plugins/sanitize)
        category TEXT NOT NULL,
        lang TEXT NOT NULL CHECK (lang IN ('it', 'en')),
        author_name TEXT NOT NULL DEFAULT '',
        author_email TEXT NOT NULL DEFAULT '',
        proposer TEXT,                       -- the voter who proposed it
        status TEXT NOT NULL CHECK (status IN ('pending', 'proposed',
            'under-review', 'planned', 'in-progress', 'done', 'declined',
            'duplicate')),
        duplicate_of INTEGER REFERENCES ideas (id),
        created REAL NOT NULL,
        published REAL                       -- accepted by an editor; NULL while queued
    );
    CREATE INDEX ideas_by_status ON ideas (status);
    -- Every status change with the company's answer, oldest first.
    CREATE TABLE history (
        id INTEGER PRIMARY KEY,
        idea_id INTEGER NOT NULL REFERENCES ideas (id),
        status TEXT NOT NULL,
        answer_it TEXT NOT NULL DEFAULT '',
        answer_en TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL
    );
    CREATE INDEX history_by_idea ON history (idea_id, id);
    -- A voter is a random id kept in a signed cookie; an e-mail address
    -- they confirmed (double opt-in) makes their support "confirmed".
    CREATE TABLE voters (
        id TEXT PRIMARY KEY,
        range TEXT NOT NULL,                 -- the /24 or /48 it came from
        created REAL NOT NULL,
        email TEXT,                          -- lower case
        confirmed REAL                       -- when the address was confirmed
    );
    CREATE INDEX voters_by_email ON voters (email);
    -- Active votes: one per voter per idea (the primary key).
    CREATE TABLE votes (
        idea_id INTEGER NOT NULL REFERENCES ideas (id),
        voter TEXT NOT NULL REFERENCES voters (id),
        created REAL NOT NULL,
        PRIMARY KEY (idea_id, voter)
    ) WITHOUT ROWID;
    CREATE INDEX votes_by_voter ON votes (voter);
    -- Accepted writes, for limits checked in the write's transaction.
    CREATE TABLE events (
        kind TEXT NOT NULL,                  -- 'vote', 'voter', 'proposal', 'email'
        subject TEXT NOT NULL,               -- an address range or a voter
        created REAL NOT NULL
    );
    CREATE INDEX events_by_subject ON events (kind, subject, created);
    CREATE INDEX events_by_time ON events (created);
    -- Proof-of-work challenges already spent: each pays for one write.
    CREATE TABLE spent_challenges (
        signature TEXT PRIMARY KEY,
        expires REAL NOT NULL
    );
    """,
    # 2: each vote carries its voter's confirmed address (NULL if none), so
    # the counts come from the votes alone, without a join: the address is
    # set when the vote is cast, and on every vote of a voter who confirms.
    """
    ALTER TABLE votes ADD COLUMN email TEXT;
    UPDATE votes SET email = (
        SELECT r.email FROM voters r
        WHERE r.id = votes.voter AND r.confirmed IS NOT NULL
    );
    """,
    # 3: polls in posts (services/ideas/polls.py): one choice per voter per
    # poll (the primary key), moved when the voter chooses again.
    """
    CREATE TABLE poll_votes (
        poll TEXT NOT NULL,                  -- the poll's id (content/polls/<id>.toml)
        voter TEXT NOT NULL REFERENCES voters (id),
        option TEXT NOT NULL,                -- the option's key
        created REAL NOT NULL,               -- the first choice
        changed REAL NOT NULL,               -- the last one
        PRIMARY KEY (poll, voter)
    ) WITHOUT ROWID;
    CREATE INDEX poll_votes_by_option ON poll_votes (poll, option);
    """,
    # 4 (moderation): e-mail preferences of confirmed readers and editors:
    # the language their notifications are in, and an unsubscription
    # (RFC 8058 one-click), after which they get nothing more.
    """
    CREATE TABLE mail_preferences (
        email TEXT PRIMARY KEY,              -- lower case, as voters.email
        lang TEXT NOT NULL DEFAULT 'it' CHECK (lang IN ('it', 'en')),
        unsubscribed REAL                    -- when; NULL: subscribed
    );
    """,
]
VERSION = len(MIGRATIONS)


class SchemaError(Exception):
    """The database is newer than this code, or not an ideas database."""


def connect(path: str | os.PathLike[str], timeout: float = 15.0) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions only through
    :func:`immediate`), WAL, waiting up to ``timeout`` s for another writer."""
    db = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    db.execute("PRAGMA foreign_keys = ON")
    # WAL: readers never wait for the writer. NORMAL: a commit is durable
    # once the WAL is checkpointed, and never corrupts on power loss.
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def migrate(db: sqlite3.Connection) -> int:
    """Bring the schema to :data:`VERSION`; the version it was at."""
    with immediate(db):
        (version,) = db.execute("PRAGMA user_version").fetchone()
    if version > VERSION:
        raise SchemaError(
            f"database schema version {version} is newer than this code's "
            f"{VERSION}: update the code (git pull) before running it"
        )
    for number in range(version, VERSION):
        with immediate(db):
            (current,) = db.execute("PRAGMA user_version").fetchone()
            if current > number:  # another worker migrated meanwhile
                continue
            for statement in _statements(MIGRATIONS[number]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number + 1}")
    return version


def _statements(script: str) -> Iterator[str]:
    """A migration's statements, one by one (executescript would commit)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        raise SchemaError(f"incomplete SQL at the end of a migration: {buffer!r}")


class Database:
    """One connection per thread (and per process: gunicorn forks after
    loading the app), opened on first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def create(self) -> None:
        """Make the folder and bring the schema up to date."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SchemaError(
                f"{self.path.parent}: cannot create the database folder ({exc})"
            ) from None
        with contextlib.closing(connect(self.path)) as db:
            migrate(db)

    def connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.db = connect(self.path)
            local.pid = os.getpid()
        return local.db
