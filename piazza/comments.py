"""The operator's side of comments: running Isso, backing up its database.

`invoke comments` and `invoke dev` run Isso with ``deploy/isso.dev.cfg`` the
way production runs it (gunicorn with deploy/gunicorn.conf.py, so Isso behind
our layers in piazza/isso_wsgi.py), with one worker;
`invoke comments-backup` and `comments-restore` copy its SQLite database
with SQLite's own backup API (piazza/sqlitebackup.py, shared with the ideas
service), which gives a consistent copy even while Isso is writing.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import secrets
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from piazza import sqlitebackup
from piazza.processes import LoggedServer, gunicorn_executable
from piazza.sqlitebackup import read_only  # noqa: F401 - piazza.isso_wsgi imports it from here

ROOT = Path(__file__).resolve().parents[1]
DEV_CONFIG = ROOT / "deploy" / "isso.dev.cfg"
# What makes a database an Isso database (isso/db/__init__.py creates them).
ISSO_TABLES = frozenset({"comments", "threads", "preferences"})


class CommentsError(Exception):
    """A problem the operator can fix; the message names the file."""


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
    return [
        gunicorn_executable(),
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--access-logfile",
        "/dev/null",
    ]


def _environment(config: Path, proof_of_work: bool) -> dict[str, str]:
    """The production app (piazza/isso_wsgi.py: Isso with our layers, the
    staff badge, moderation, the guard) on ``config``'s address, one worker:
    development runs the code production runs. The proof of work needs the
    widget on the site's origin (`invoke dev` passes /comments/ on, as nginx
    does); its key is made up for the run unless the environment has one."""
    host_port = urllib.parse.urlsplit(listen_url(config)).netloc
    environment = {
        **os.environ,
        "ISSO_SETTINGS": str(config),
        "ISSO_BIND": host_port,
        "ISSO_WORKERS": os.environ.get("ISSO_WORKERS", "1"),
    }
    if not proof_of_work:
        environment.setdefault("PIAZZA_PROOF_OF_WORK", "off")
    elif not environment.get("PIAZZA_ALTCHA_HMAC_KEY"):
        environment["PIAZZA_ALTCHA_HMAC_KEY"] = secrets.token_hex(32)
    return environment


def serve(config: Path) -> None:
    """Run Isso in the foreground until Ctrl-C."""
    command = _command(config)
    print(f"Isso at {listen_url(config)} (Ctrl-C stops)", flush=True)  # noqa: T201
    try:
        done = subprocess.run(command, cwd=ROOT, env=_environment(config), check=False)
    except KeyboardInterrupt:
        return
    if done.returncode not in (0, -2):  # -2: stopped by the same Ctrl-C
        raise CommentsError(
            f"Isso ({config}) exited with status {done.returncode}: "
            "see its messages above"
        )


@contextlib.contextmanager
def running(
    config: Path, timeout: float = 20.0, *, proof_of_work: bool = True
) -> Iterator[str]:
    """Isso in the background for the duration; yields its URL (where the
    site server passes /comments/ on to: see :func:`_environment`).

    Waits until it answers, and stops it on the way out, Ctrl-C included.
    """
    url = listen_url(config).rstrip("/")
    server = LoggedServer(
        _command(config), cwd=ROOT, env=_environment(config, proof_of_work)
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.exited() is not None:
                raise CommentsError(
                    f"Isso ({config}) stopped with status {server.exited()}:"
                    f"\n{server.last_words()}"
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
        server.stop()


ISSO = sqlitebackup.Kind(
    name="comments", label="an Isso database", tables=ISSO_TABLES, error=CommentsError
)


def check_database(path: Path) -> None:
    """Raise CommentsError unless ``path`` is a sound Isso database."""
    sqlitebackup.check_database(path, ISSO)


def backup(db: Path, dest_dir: Path, now: datetime | None = None) -> Path:
    """A consistent copy of ``db``: ``dest_dir/comments-<UTC time>.db``
    (see piazza.sqlitebackup.backup)."""
    return sqlitebackup.backup(db, dest_dir, ISSO, now)


def restore(
    file: Path, db: Path, force: bool = False, backups: Path | None = None
) -> Path | None:
    """Replace ``db`` with the backup ``file``, after checking it (see
    piazza.sqlitebackup.restore); the copy of the replaced one, if any."""
    return sqlitebackup.restore(file, db, ISSO, force=force, backups=backups)
