"""Piazza's own tables beside Isso's, in Isso's SQLite database.

Isso stays an unmodified dependency; what it lacks (bans, proof that a
comment comes from staff, flags for the moderator, limits that hold across
gunicorn's workers) is kept here, in tables named ``piazza_*`` inside the
same database file. One file means one backup, one restore, and one
``PRAGMA data_version`` that moves on any write (the thread-read cache in
piazza/isso_wsgi.py relies on it). Isso ignores tables it did not create.

Every module of the production layer opens the database through
:func:`connect` and creates its tables through :func:`ensure_schema`, so the
whole schema is read in one place.

Bans live here because both the server (refusing a banned commenter) and the
terminal (``invoke comments-moderate``) use them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike

SCHEMA = """
CREATE TABLE IF NOT EXISTS piazza_bans (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'range')),
    value TEXT NOT NULL,           -- a lower-case e-mail, or a CIDR network
    reason TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    UNIQUE (kind, value)
);
-- A comment proven to come from a staff member (posted in an authenticated
-- moderator session): the only source of the author badge.
CREATE TABLE IF NOT EXISTS piazza_staff_comments (
    comment_id INTEGER PRIMARY KEY,
    staff TEXT NOT NULL,           -- the staff member's key (content/staff.toml)
    created REAL NOT NULL          -- the comment's own (comments.created): SQLite
                                   -- may reuse a deleted comment's id, and the
                                   -- new comment must not inherit the badge
);
-- Why a comment needs the moderator's eye (e.g. it claims a staff name).
CREATE TABLE IF NOT EXISTS piazza_flags (
    comment_id INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (comment_id, reason)
);
-- Accepted writes per reader, for limits checked and recorded in one
-- transaction (a burst across workers cannot race past them).
CREATE TABLE IF NOT EXISTS piazza_events (
    kind TEXT NOT NULL,            -- 'post', 'login-failure', ...
    subject TEXT NOT NULL,         -- an address range, an e-mail, ...
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS piazza_events_by_subject
    ON piazza_events (kind, subject, created);
-- Proof-of-work challenges already spent (each solves one post).
CREATE TABLE IF NOT EXISTS piazza_spent_challenges (
    signature TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
"""


class StoreError(Exception):
    """A value the operator gave that cannot be stored (the message says why)."""


def connect(dbpath: str | PathLike[str], timeout: float = 10.0) -> sqlite3.Connection:
    """A connection to Isso's database for our tables: autocommit mode (each
    write is its own transaction unless :func:`immediate` opens one), waiting
    up to ``timeout`` seconds for another writer."""
    db = sqlite3.connect(
        dbpath, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    return db


def ensure_schema(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)


@contextlib.contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction taken at its start (BEGIN IMMEDIATE): a check
    and the write that depends on it cannot interleave with another
    process's."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@dataclass(frozen=True)
class Ban:
    id: int
    kind: str  # 'email' or 'range'
    value: str
    reason: str
    created: float


def normalise_ban(kind: str, value: str) -> str:
    """The stored form of a ban's value; StoreError for one that can't be."""
    value = value.strip()
    if kind == "email":
        if "@" not in value or any(c.isspace() for c in value):
            raise StoreError(f"ban: {value!r} is not an e-mail address")
        return value.lower()
    if kind == "range":
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise StoreError(
                f"ban: {value!r} is not an address or range (e.g. 203.0.113.0/24)"
            ) from None
    raise StoreError(f"ban {value!r}: unknown kind {kind!r} (email or range)")


def ban(db: sqlite3.Connection, kind: str, value: str, reason: str = "") -> Ban:
    """Ban an e-mail address or an address range (idempotent)."""
    value = normalise_ban(kind, value)
    ensure_schema(db)
    db.execute(
        "INSERT OR IGNORE INTO piazza_bans (kind, value, reason, created)"
        " VALUES (?, ?, ?, ?)",
        (kind, value, reason, time.time()),
    )
    row = db.execute(
        "SELECT id, kind, value, reason, created FROM piazza_bans"
        " WHERE kind = ? AND value = ?",
        (kind, value),
    ).fetchone()
    return Ban(*row)


def unban(db: sqlite3.Connection, ban_id: int) -> bool:
    ensure_schema(db)
    return db.execute("DELETE FROM piazza_bans WHERE id = ?", (ban_id,)).rowcount > 0


def bans(db: sqlite3.Connection) -> list[Ban]:
    ensure_schema(db)
    rows = db.execute(
        "SELECT id, kind, value, reason, created FROM piazza_bans ORDER BY id"
    )
    return [Ban(*row) for row in rows]


def is_banned(db: sqlite3.Connection, email: str | None, address: str | None) -> bool:
    """Whether a commenter with this e-mail or from this address (as Isso
    records it, or a full one) is banned."""
    if (
        email
        and db.execute(
            "SELECT 1 FROM piazza_bans WHERE kind = 'email' AND value = ?",
            (email.strip().lower(),),
        ).fetchone()
    ):
        return True
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for (value,) in db.execute("SELECT value FROM piazza_bans WHERE kind = 'range'"):
        network = ipaddress.ip_network(value)
        if network.version == ip.version and ip in network:
            return True
    return False
