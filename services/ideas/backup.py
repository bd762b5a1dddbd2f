"""Backups of the ideas database for its operator (`invoke ideas-backup`,
`invoke ideas-restore`): the shape of the comments' backups, through the
same helper (piazza/sqlitebackup.py): SQLite's backup API, safe while the
service runs; a restore checks the file and keeps what it replaces.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from piazza import sqlitebackup
from services.ideas.config import DEFAULTS


class IdeasBackupError(Exception):
    """A backup or restore that can't be done; the message names the file."""


IDEAS = sqlitebackup.Kind(
    name="ideas",
    label="an ideas database",
    tables=frozenset({"ideas", "history", "voters", "votes"}),
    error=IdeasBackupError,
)


def database_path(db: str | None) -> Path:
    """``db``, or IDEAS_DB from the environment, or the development default."""
    chosen = db or os.environ.get("IDEAS_DB") or DEFAULTS["IDEAS_DB"]
    return Path(chosen).expanduser().resolve()


def backup(db: Path, dest_dir: Path, now: datetime | None = None) -> Path:
    """A consistent copy of ``db``: ``dest_dir/ideas-<UTC time>.db``."""
    return sqlitebackup.backup(db, dest_dir, IDEAS, now)


def restore(
    file: Path, db: Path, force: bool = False, backups: Path | None = None
) -> Path | None:
    """Replace ``db`` with the checked backup ``file``; the replaced copy."""
    return sqlitebackup.restore(file, db, IDEAS, force=force, backups=backups)
