"""The edge: Isso's SQLite database, opened read-only.

The file is opened with a ``file:...?mode=ro`` URI, so the report can never
write to it (nor create an empty one where the path is wrong). Only
published comments (mode 1) are read. Staff replies are the ones proven by
``piazza_staff_comments`` (piazza/commentstore.py) whose ``created`` matches
the comment's own; a name or an e-mail address is never proof.

"People" are counted by an opaque key made here: the e-mail address when the
writer gave one, else the name together with the address range Isso stored
(Isso keeps only an anonymised address: IPv4 /24, IPv6 /48). Two people
without e-mail, with the same name on the same network, count as one; one
person typing two addresses counts as two. The key is a salted hash, fresh
at every run: no e-mail or address leaves this module.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from piazza.report import ReportError
from piazza.report.model import Comment

PUBLISHED = 1
NEEDED = {
    "comments": {"id", "tid", "parent", "created", "mode", "text", "author",
                 "email", "remote_addr", "likes"},
    "threads": {"id", "uri", "title"},
}  # fmt: skip


def lang_of(uri: str, languages: Iterable[str], default: str) -> str:
    """The language of a thread: its path's first segment if it is one."""
    first = uri.lstrip("/").split("/", 1)[0]
    return first if first in set(languages) and first != default else default


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    if not path.is_file():
        raise ReportError(
            f"{path}: no comment database there. Give Isso's database with "
            "--db (its dbpath in deploy/isso.cfg), or run Isso once to create it."
        )
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=timeout)


def _check(db: sqlite3.Connection, path: Path) -> bool:
    """Isso's tables are there; whether ours (staff proof) is."""
    tables = {
        name: {row[1] for row in db.execute(f"PRAGMA table_info({name})")}
        for name in ("comments", "threads", "piazza_staff_comments")
    }
    for table, columns in NEEDED.items():
        missing = columns - tables[table]
        if missing:
            what = (
                f"lacks {', '.join(sorted(missing))}" if tables[table] else "is missing"
            )
            raise ReportError(
                f"{path}: not Isso's comment database (table {table!r} {what}). "
                "Check --db: it should be the dbpath of deploy/isso.cfg."
            )
    return bool(tables["piazza_staff_comments"])


def person_key(
    salt: bytes, email: str | None, author: str | None, address: str | None
) -> str:
    """An opaque key for one writer (see the module's docstring)."""
    email = (email or "").strip().lower()
    basis = (
        f"e:{email}"
        if email
        else f"n:{(author or '').strip().casefold()}|{address or ''}"
    )
    return hashlib.blake2b(basis.encode(), key=salt, digest_size=12).hexdigest()


def read_comments(
    path: Path,
    *,
    languages: Iterable[str] = ("it", "en"),
    default_lang: str = "it",
    timeout: float = 2.0,
) -> tuple[tuple[Comment, ...], bool]:
    """Every published comment, oldest first, and whether the staff proof
    table exists (without it no reply can be proven to come from staff).

    ReportError says what is wrong: no file, a file that is not a database or
    not Isso's, a database another process holds locked."""
    languages = tuple(languages)
    salt = secrets.token_bytes(16)
    try:
        with _connect(path, timeout) as db:
            has_staff = _check(db, path)
            staff_join = (
                "LEFT JOIN piazza_staff_comments s"
                " ON s.comment_id = c.id AND s.created = c.created"
                if has_staff
                else "LEFT JOIN (SELECT NULL AS staff, NULL AS comment_id) s ON 0"
            )
            rows = db.execute(
                "SELECT c.id, t.uri, t.title, c.parent, c.created, c.text,"
                " c.author, c.email, c.remote_addr, c.likes, s.staff"
                " FROM comments c JOIN threads t ON t.id = c.tid "
                f"{staff_join} WHERE c.mode = ? ORDER BY c.created, c.id",
                (PUBLISHED,),
            ).fetchall()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise ReportError(
                f"{path}: the database is locked by another process (a backup, "
                "a restore, or a long write). Try again in a minute."
            ) from None
        raise ReportError(f"{path}: cannot read it ({exc}).") from None
    except sqlite3.DatabaseError as exc:
        raise ReportError(
            f"{path}: not an SQLite database ({exc}). Check --db: it should be "
            "the dbpath of deploy/isso.cfg."
        ) from None
    comments = tuple(
        Comment(
            id=row[0],
            uri=row[1] or "/",
            title=row[2] or row[1] or "",
            parent=row[3],
            created=datetime.fromtimestamp(row[4], UTC),
            text=row[5] or "",
            author=row[6] or "",
            person=person_key(salt, row[7], row[6], row[8]),
            lang=lang_of(row[1] or "/", languages, default_lang),
            likes=row[9] or 0,
            staff=row[10],
        )
        for row in rows
    )
    return comments, has_staff
