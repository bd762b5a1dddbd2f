"""Backups and restores of a service's SQLite database (comments, ideas).

A backup goes through SQLite's own backup API, which gives a consistent
copy even while the service writes (a plain file copy can catch a
half-written page), under a temporary name first and never over an
existing file. A restore checks the file it is given (an SQLite database,
sound, with the tables of its kind) and keeps the database it replaces.

Each family of databases is a :class:`Kind`: the prefix of its backups'
names, the tables that prove a file is one, and the error its operator
sees (CommentsError, IdeasBackupError...).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Kind:
    name: str  # backups are <name>-<UTC time>.db
    label: str  # "an Isso database": for "<file>: not an Isso database"
    tables: frozenset[str]  # what a database of this kind has
    error: type[Exception]  # raised for anything the operator can fix


def read_only(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """A read-only connection to the SQLite database ``path``, closed on exit."""
    return contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


def check_database(path: Path, kind: Kind) -> None:
    """Raise ``kind.error`` unless ``path`` is a sound database of ``kind``."""
    if not path.exists():
        raise kind.error(f"{path}: no such file")
    if not path.is_file():
        raise kind.error(f"{path}: not a file")
    with path.open("rb") as file:
        if file.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise kind.error(f"{path}: not an SQLite database (wrong header)")
    try:
        with read_only(path) as db:
            (verdict,) = db.execute("PRAGMA integrity_check").fetchone()
            tables = {
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                )
            }
    except sqlite3.DatabaseError as exc:
        raise kind.error(f"{path}: not an SQLite database ({exc})") from None
    if verdict != "ok":
        raise kind.error(f"{path}: damaged database ({verdict})")
    missing = kind.tables - tables
    if missing:
        raise kind.error(
            f"{path}: not {kind.label} (no {', '.join(sorted(missing))} table)"
        )


def _copy(source: Path, partial: Path) -> None:
    """SQLite's online backup of ``source`` into a new file ``partial``."""
    with (
        read_only(source) as src,
        contextlib.closing(sqlite3.connect(partial)) as dst,
    ):
        src.backup(dst)


def _publish(partial: Path, dest_dir: Path, stamp: str, kind: Kind) -> Path:
    """Give ``partial`` its final name, atomically, never over another file.

    A hard link fails if the name is taken (a rename would replace it), so
    two backups in the same second get ``-2``, ``-3``... suffixes.
    """
    for number in range(1, 1000):
        suffix = "" if number == 1 else f"-{number}"
        target = dest_dir / f"{kind.name}-{stamp}{suffix}.db"
        try:
            os.link(partial, target)
        except FileExistsError:
            continue
        return target
    raise kind.error(f"{dest_dir}: too many backups named {kind.name}-{stamp}*.db")


def backup(db: Path, dest_dir: Path, kind: Kind, now: datetime | None = None) -> Path:
    """A consistent copy of ``db``: ``dest_dir/<kind.name>-<UTC time>.db``."""
    check_database(db, kind)
    if dest_dir.exists() and not dest_dir.is_dir():
        raise kind.error(f"{dest_dir}: exists and is not a folder")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise kind.error(f"{dest_dir}: cannot create the folder ({exc})") from None
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    partial = dest_dir / f".{kind.name}-{stamp}.{os.getpid()}.partial"
    try:
        _copy(db, partial)
        return _publish(partial, dest_dir, stamp, kind)
    except (sqlite3.Error, OSError) as exc:
        raise kind.error(f"{db}: backup into {dest_dir} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def restore(
    file: Path,
    db: Path,
    kind: Kind,
    *,
    force: bool = False,
    backups: Path | None = None,
) -> Path | None:
    """Replace ``db`` with the backup ``file``, after checking ``file``.

    An existing ``db`` is replaced only with ``force``, and is backed up first
    into ``backups`` (default: the folder ``file`` is in, next to the other
    backups); that copy's path is returned. The restore goes through SQLite's
    backup API, which the service's own connections respect: safe while it
    runs.
    """
    file, db = file.resolve(), db.resolve()
    check_database(file, kind)
    if file == db:
        raise kind.error(f"{file}: is the database itself; restore another file")
    if db.exists() and not db.is_file():
        raise kind.error(f"{db}: exists and is not a file")
    previous = None
    if db.exists():
        if not force:
            raise kind.error(
                f"{db}: exists; add --force to replace it (it is backed up first)"
            )
        previous = _set_aside(db, backups or file.parent, kind)
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        with (
            read_only(file) as src,
            contextlib.closing(sqlite3.connect(db, timeout=30)) as dst,
        ):
            src.backup(dst)
    except (sqlite3.Error, OSError) as exc:
        raise kind.error(f"{db}: restore from {file} failed: {exc}") from None
    return previous


def _set_aside(db: Path, backups: Path, kind: Kind) -> Path:
    """Keep the database a restore replaces: a backup if it is sound, else
    the damaged file itself, renamed (SQLite could not copy it)."""
    try:
        check_database(db, kind)
    except kind.error:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        damaged = db.with_name(f"{db.name}.damaged-{stamp}")
        os.replace(db, damaged)
        return damaged
    return backup(db, backups, kind)
