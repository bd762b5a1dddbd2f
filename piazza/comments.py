"""The operator's side of comments: running Isso, backing up its database.

`invoke comments` and `invoke dev` run Isso with ``deploy/isso.dev.cfg``;
`invoke comments-backup` and `comments-restore` copy its SQLite database
with SQLite's own backup API, which gives a consistent copy even while Isso
is writing (a plain file copy can catch a half-written page).
"""

from __future__ import annotations

import collections
import configparser
import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from piazza.processes import stop

ROOT = Path(__file__).resolve().parents[1]
DEV_CONFIG = ROOT / "deploy" / "isso.dev.cfg"
# What makes a database an Isso database (isso/db/__init__.py creates them).
ISSO_TABLES = frozenset({"comments", "threads", "preferences"})
SQLITE_MAGIC = b"SQLite format 3\x00"


class CommentsError(Exception):
    """A problem the operator can fix; the message names the file."""


def _isso_executable() -> str:
    local = Path(sys.executable).parent / "isso"
    return str(local) if local.exists() else "isso"


def _config(config: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        if not parser.read(config, encoding="utf-8"):
            raise CommentsError(f"{config}: no such Isso configuration")
    except configparser.Error as exc:
        raise CommentsError(
            f"{config}: not a valid Isso configuration: {exc}"
        ) from None
    return parser


def database_path(db: str | None, root: Path = ROOT) -> Path:
    """The database to back up or restore: ``db``, or the dev config's dbpath.

    A relative ``db`` is relative to the current folder (as typed); the dev
    config's dbpath is relative to ``root``, where Isso runs.
    """
    if db:
        return Path(db).expanduser().resolve()
    config = root / DEV_CONFIG.relative_to(ROOT)
    path = Path(_config(config).get("general", "dbpath"))
    return path if path.is_absolute() else (root / path).resolve()


def listen_url(config: Path) -> str:
    return _config(config).get("server", "listen", fallback="http://127.0.0.1:8080")


def public_url(config: Path) -> str:
    """Where browsers reach Isso: its public-endpoint, else where it listens."""
    parser = _config(config)
    return parser.get("server", "public-endpoint", fallback="") or listen_url(config)


def _command(config: Path) -> list[str]:
    """Isso's command line; its database folder is made first (Isso runs in
    the project root, so a relative dbpath is relative to it)."""
    dbpath = _config(config).get("general", "dbpath", fallback="")
    if not dbpath:
        raise CommentsError(f"{config}: no dbpath in its [general] section")
    db = Path(dbpath)
    folder = (db if db.is_absolute() else ROOT / db).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommentsError(
            f"{folder}: cannot create the database folder ({exc})"
        ) from None
    return [_isso_executable(), "-c", str(config), "run"]


def _environment() -> dict[str, str]:
    """Our environment without ISSO_SETTINGS, which would win over ``-c``."""
    return {k: v for k, v in os.environ.items() if k != "ISSO_SETTINGS"}


def serve(config: Path) -> None:
    """Run Isso in the foreground until Ctrl-C."""
    command = _command(config)
    print(f"Isso at {listen_url(config)} (Ctrl-C stops)", flush=True)  # noqa: T201
    try:
        done = subprocess.run(command, cwd=ROOT, env=_environment(), check=False)
    except KeyboardInterrupt:
        return
    if done.returncode not in (0, -2):  # -2: stopped by the same Ctrl-C
        raise CommentsError(
            f"Isso ({config}) exited with status {done.returncode}: "
            "see its messages above"
        )


def _forward(stream, tail: collections.deque) -> None:
    """Pass Isso's log on to our stderr, keeping its last lines for errors.

    Reading it all the time matters: a full pipe would block Isso.
    """
    for line in stream:
        tail.append(line)
        sys.stderr.write(line)


@contextlib.contextmanager
def running(config: Path, timeout: float = 20.0) -> Iterator[str]:
    """Isso in the background for the duration; yields its URL.

    Waits until it answers, and stops it on the way out, Ctrl-C included.
    """
    url = listen_url(config).rstrip("/")
    process = subprocess.Popen(
        _command(config),
        cwd=ROOT,
        env=_environment(),
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    tail: collections.deque[str] = collections.deque(maxlen=30)
    reader = threading.Thread(target=_forward, args=(process.stderr, tail), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                reader.join(timeout=2)
                raise CommentsError(
                    f"Isso ({config}) stopped with status {process.returncode}:"
                    f"\n{''.join(tail)}"
                )
            try:
                with urllib.request.urlopen(f"{url}/config", timeout=1):
                    break
            except OSError as exc:  # refused, reset, timed out, HTTP error
                if time.monotonic() > deadline:
                    raise CommentsError(
                        f"Isso ({config}) did not answer at {url} "
                        f"in {timeout:g} s: {exc}"
                    ) from None
                time.sleep(0.1)
        print(f"Isso is running at {url}/", flush=True)  # noqa: T201
        yield url
    finally:
        stop(process)


def check_database(path: Path) -> None:
    """Raise CommentsError unless ``path`` is a sound Isso database."""
    if not path.exists():
        raise CommentsError(f"{path}: no such file")
    if not path.is_file():
        raise CommentsError(f"{path}: not a file")
    with path.open("rb") as file:
        if file.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise CommentsError(f"{path}: not an SQLite database (wrong header)")
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
        raise CommentsError(f"{path}: not an SQLite database ({exc})") from None
    if verdict != "ok":
        raise CommentsError(f"{path}: damaged database ({verdict})")
    missing = ISSO_TABLES - tables
    if missing:
        raise CommentsError(
            f"{path}: not an Isso database (no {', '.join(sorted(missing))} table)"
        )


def read_only(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """A read-only connection to the SQLite database ``path``, closed on exit."""
    return contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


def _copy(source: Path, partial: Path) -> None:
    """SQLite's online backup of ``source`` into a new file ``partial``."""
    with (
        read_only(source) as src,
        contextlib.closing(sqlite3.connect(partial)) as dst,
    ):
        src.backup(dst)


def _publish(partial: Path, dest_dir: Path, stamp: str) -> Path:
    """Give ``partial`` its final name, atomically, never over another file.

    A hard link fails if the name is taken (a rename would replace it), so
    two backups in the same second get ``-2``, ``-3``... suffixes.
    """
    for number in range(1, 1000):
        suffix = "" if number == 1 else f"-{number}"
        target = dest_dir / f"comments-{stamp}{suffix}.db"
        try:
            os.link(partial, target)
        except FileExistsError:
            continue
        return target
    raise CommentsError(f"{dest_dir}: too many backups named comments-{stamp}*.db")


def backup(db: Path, dest_dir: Path, now: datetime | None = None) -> Path:
    """A consistent copy of ``db``: ``dest_dir/comments-<UTC time>.db``.

    Made with SQLite's backup API (a consistent snapshot even while Isso
    writes), under a temporary name first, and never over an existing file.
    """
    check_database(db)
    if dest_dir.exists() and not dest_dir.is_dir():
        raise CommentsError(f"{dest_dir}: exists and is not a folder")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommentsError(f"{dest_dir}: cannot create the folder ({exc})") from None
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    partial = dest_dir / f".comments-{stamp}.{os.getpid()}.partial"
    try:
        _copy(db, partial)
        return _publish(partial, dest_dir, stamp)
    except (sqlite3.Error, OSError) as exc:
        raise CommentsError(f"{db}: backup into {dest_dir} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def restore(
    file: Path, db: Path, force: bool = False, backups: Path | None = None
) -> Path | None:
    """Replace ``db`` with the backup ``file``, after checking ``file``.

    An existing ``db`` is replaced only with ``force``, and is backed up first
    into ``backups`` (default: the folder ``file`` is in, next to the other
    backups); that copy's path is returned. The restore goes through SQLite's
    backup API, which Isso's own connections respect: safe while Isso runs.
    """
    file, db = file.resolve(), db.resolve()
    check_database(file)
    if file == db:
        raise CommentsError(f"{file}: is the database itself; restore another file")
    if db.exists() and not db.is_file():
        raise CommentsError(f"{db}: exists and is not a file")
    previous = None
    if db.exists():
        if not force:
            raise CommentsError(
                f"{db}: exists; add --force to replace it (it is backed up first)"
            )
        previous = _set_aside(db, backups or file.parent)
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        with (
            read_only(file) as src,
            contextlib.closing(sqlite3.connect(db, timeout=30)) as dst,
        ):
            src.backup(dst)
    except (sqlite3.Error, OSError) as exc:
        raise CommentsError(f"{db}: restore from {file} failed: {exc}") from None
    return previous


def _set_aside(db: Path, backups: Path) -> Path:
    """Keep the database a restore replaces: a backup if it is sound, else
    the damaged file itself, renamed (SQLite could not copy it)."""
    try:
        check_database(db)
    except CommentsError:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        damaged = db.with_name(f"{db.name}.damaged-{stamp}")
        os.replace(db, damaged)
        return damaged
    return backup(db, backups)
