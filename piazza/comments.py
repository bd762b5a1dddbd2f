"""The operator's side of comments: running Isso, backing up its database.

`invoke comments` and `invoke dev` run Isso with ``deploy/isso.dev.cfg``;
`invoke comments-backup` and `comments-restore` copy its SQLite database
with SQLite's own backup API, which gives a consistent copy even while Isso
is writing (a plain file copy can catch a half-written page).
"""

from __future__ import annotations

import configparser
import contextlib
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_CONFIG = ROOT / "deploy" / "isso.dev.cfg"
# What makes a database an Isso database (isso/db/__init__.py creates them).
ISSO_TABLES = frozenset({"comments", "threads", "preferences"})


class CommentsError(Exception):
    """A problem the operator can fix; the message names the file."""


def _isso_executable() -> str:
    local = Path(sys.executable).parent / "isso"
    return str(local) if local.exists() else "isso"


def _config(config: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    if not parser.read(config):
        raise CommentsError(f"{config}: no such Isso configuration")
    return parser


def database_path(db: str | None, root: Path = ROOT) -> Path:
    """The database to back up or restore: ``db``, or the dev config's dbpath."""
    if db:
        return Path(db).expanduser().resolve()
    path = Path(_config(DEV_CONFIG).get("general", "dbpath"))
    return path if path.is_absolute() else (root / path).resolve()


def listen_url(config: Path) -> str:
    return _config(config).get("server", "listen", fallback="http://127.0.0.1:8080")


def _command(config: Path) -> list[str]:
    """Isso's command line; its database folder is made first (Isso runs in
    the project root, so a relative dbpath is relative to it)."""
    db = Path(_config(config).get("general", "dbpath"))
    (db if db.is_absolute() else ROOT / db).parent.mkdir(parents=True, exist_ok=True)
    return [_isso_executable(), "-c", str(config), "run"]


def serve(config: Path) -> None:
    """Run Isso in the foreground until Ctrl-C."""
    print(f"Isso at {listen_url(config)} (Ctrl-C stops)", flush=True)  # noqa: T201
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(_command(config), cwd=ROOT, check=False)


@contextlib.contextmanager
def running(config: Path, timeout: float = 20.0) -> Iterator[str]:
    """Isso in the background for the duration; yields its URL.

    Waits until it answers, and stops it on the way out, Ctrl-C included.
    """
    url = listen_url(config).rstrip("/")
    process = subprocess.Popen(
        _command(config), cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/config", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError) as exc:
                if process.poll() is not None:
                    raise CommentsError(
                        f"Isso ({config}) stopped: {process.stderr.read()[-2000:]}"
                    ) from None
                if time.monotonic() > deadline:
                    raise CommentsError(
                        f"Isso ({config}) did not answer at {url} "
                        f"in {timeout:g} s: {exc}"
                    ) from None
                time.sleep(0.2)
        print(f"Isso is running at {url}/", flush=True)  # noqa: T201
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def check_database(path: Path) -> None:
    """Raise CommentsError unless ``path`` is a sound Isso database."""
    if not path.is_file():
        raise CommentsError(f"{path}: no such file")
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        ) as db:
            (verdict,) = db.execute("PRAGMA quick_check").fetchone()
            tables = {
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                )
            }
    except sqlite3.DatabaseError as exc:
        raise CommentsError(f"{path}: not an SQLite database ({exc})") from None
    if verdict != "ok":
        raise CommentsError(f"{path}: damaged database ({verdict})")
    missing = ISSO_TABLES - tables
    if missing:
        raise CommentsError(
            f"{path}: not an Isso database (no {', '.join(sorted(missing))} table)"
        )


def _read_only(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup from ``source`` into a new file ``target``."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            _read_only(source) as src,
            contextlib.closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def backup(db: Path, dest_dir: Path, now: datetime | None = None) -> Path:
    """A consistent, timestamped copy of ``db`` in ``dest_dir``; never overwrites."""
    check_database(db)
    if dest_dir.exists() and not dest_dir.is_dir():
        raise CommentsError(f"{dest_dir}: exists and is not a folder")
    dest_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = dest_dir / f"comments-{stamp}.db"
    number = 2
    while target.exists():
        target = dest_dir / f"comments-{stamp}-{number}.db"
        number += 1
    try:
        _copy(db, target)
    except sqlite3.Error as exc:
        raise CommentsError(f"{db}: backup to {target} failed: {exc}") from None
    return target


def restore(
    file: Path, db: Path, force: bool = False, backups: Path | None = None
) -> Path | None:
    """Replace ``db`` with the backup ``file`` (checked first).

    An existing database is replaced only with ``force``, and is backed up
    first (returned, and printed by the task). Safe while Isso runs: the
    restore goes through SQLite, which Isso's connections respect.
    """
    check_database(file.resolve())
    previous = None
    if db.exists():
        if not force:
            raise CommentsError(
                f"{db} exists: add --force to replace it (it is backed up first)"
            )
        previous = backup(db, backups or db.parent / "backups")
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            _read_only(file) as src,
            contextlib.closing(sqlite3.connect(db)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as exc:
        raise CommentsError(f"{db}: restore from {file} failed: {exc}") from None
    return previous
