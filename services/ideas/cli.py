"""The editors' terminal: `invoke ideas` lists the queue and the board,
accepts, declines, moves and merges ideas (tasks.py only calls these).

Each action is one transaction on the service's database (the service may
be running: SQLite takes turns). Accepting also writes the idea into
content/ideas/ for the editor to commit.
"""

from __future__ import annotations

import contextlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from services.ideas import config as configuration
from services.ideas import content, notify, store
from services.ideas.db import Database, connect
from services.ideas.model import Idea
from services.ideas.notify import Notifier
from services.ideas.rules import Refused, check_answer


class EditorError(Exception):
    """What an editor asked for can't be done (the message says why)."""


def _answers(answer_it: str | None, answer_en: str | None) -> tuple[str, str]:
    try:
        return check_answer(answer_it, "--answer-it"), check_answer(
            answer_en, "--answer-en"
        )
    except Refused as exc:
        raise EditorError(str(exc)) from None


@contextlib.contextmanager
def _opened(db: Path):
    database = Database(db)
    try:
        database.create()
    except Exception as exc:  # noqa: BLE001 - SchemaError, sqlite3.Error
        raise EditorError(f"{db}: {exc}") from None
    connection = connect(db)
    try:
        yield connection
    except (Refused, content.ContentError) as exc:
        raise EditorError(str(exc)) from None
    finally:
        connection.close()


def table(found: list[Idea], title: str) -> Table:
    grid = Table(title=title)
    for column in ("id", "status", "supporters", "confirmed", "category", "lang"):
        grid.add_column(column, justify="right" if column == "id" else "left")
    grid.add_column("title")
    grid.add_column("proposed")
    for idea in found:
        grid.add_row(
            str(idea.id),
            idea.status + (f" of {idea.duplicate_of}" if idea.duplicate_of else ""),
            str(idea.counts.supporters),
            str(idea.counts.confirmed),
            idea.category,
            idea.lang,
            idea.title,
            datetime.fromtimestamp(idea.created, UTC).strftime("%Y-%m-%d %H:%M"),
        )
    return grid


def show(db: Path, console: Console | None = None) -> None:
    """Print the moderation queue, then the public ideas."""
    console = console or Console()
    with _opened(db) as connection:
        queue = store.ideas(connection, queue=True)
        public = store.ideas(connection)
    console.print(table(queue, f"Waiting for an editor ({len(queue)})"))
    console.print(table(public, f"On the board ({len(public)})"))


def accept(
    db: Path,
    number: int,
    folder: Path,
    *,
    answer_it: str | None = None,
    answer_en: str | None = None,
) -> tuple[Idea, Path]:
    """Publish idea ``number`` and write its content file (to commit)."""
    answers = _answers(answer_it, answer_en)
    with _opened(db) as connection:
        queued = store.idea(connection, number, queued=True)
        if queued is None:
            raise EditorError(f"no idea number {number}")
        if queued.status != "pending":
            raise EditorError(
                f"idea {number} is not in the queue (it is {queued.status})"
            )
        # A name that can't be written stops the accept before anything
        # changes in the database.
        content.free_name(queued, folder)
        idea = store.accept(connection, number, answers, time.time())
        path = content.write(idea, folder)
    return idea, path


def decline(
    db: Path,
    number: int,
    folder: Path | None,
    *,
    answer_it=None,
    answer_en=None,
    notifier: Notifier | None = None,
) -> tuple[Idea, list[Path]]:
    """Decline idea ``number`` (from the queue or the board); the content
    files that record it, to commit."""
    return set_status(
        db,
        number,
        "declined",
        folder,
        answer_it=answer_it,
        answer_en=answer_en,
        notifier=notifier,
    )


def set_status(
    db: Path,
    number: int,
    status: str,
    folder: Path | None,
    *,
    answer_it=None,
    answer_en=None,
    notifier: Notifier | None = None,
) -> tuple[Idea, list[Path]]:
    """Move idea ``number`` to ``status`` with the company's answer; its
    supporters with a confirmed address are told once it is committed."""
    answers = _answers(answer_it, answer_en)
    with _opened(db) as connection:
        idea = store.set_status(connection, number, status, answers, time.time())
        if notifier is not None and idea.published is not None:
            notifier.status_changed(idea, notify.supporters(connection, number))
        return idea, content.update(idea, folder) if folder else []


def merge(
    db: Path,
    number: int,
    into: int,
    folder: Path | None,
    *,
    answer_it=None,
    answer_en=None,
    notifier: Notifier | None = None,
) -> tuple[Idea, list[Path]]:
    """Make idea ``number`` a duplicate of ``into`` (its supporters move,
    and are told once it is committed)."""
    answers = _answers(answer_it, answer_en)
    with _opened(db) as connection:
        # Who supported the duplicate: after the merge their votes are the
        # original's, mixed with its own supporters'.
        told = notify.supporters(connection, number) if notifier else []
        original = store.merge(connection, number, into, answers, time.time())
        duplicate = store.idea(connection, number, queued=True)
        if notifier is not None:
            notifier.status_changed(duplicate, told)
        return original, content.update(duplicate, folder) if folder else []


def serve(host: str = "127.0.0.1", port: int = 8090) -> None:
    """Run the service for development (Werkzeug, threaded) until Ctrl-C.

    Development settings unless the environment says otherwise: a secret
    made up for this run, the cookie's path at the root, links to here.
    """
    from werkzeug.serving import run_simple  # noqa: PLC0415 - only this task

    from services.ideas.app import create_app  # noqa: PLC0415
    from services.ideas.config import ConfigError  # noqa: PLC0415

    env = {
        "IDEAS_ENV": "development",
        "IDEAS_PUBLIC_PATH": "/",
        "IDEAS_PUBLIC_URL": f"http://{host}:{port}",
        # The polls of the last `invoke build` (plugins/polls writes it).
        "IDEAS_POLLS_FILE": str(configuration.ROOT / "output" / "polls.json"),
        **os.environ,
    }
    try:
        app = create_app(env)
    except ConfigError as exc:
        raise EditorError(str(exc)) from None
    Console().print(
        f"Ideas service at http://{host}:{port}/ (database {app.settings.db}; "
        "Ctrl-C stops)"
    )
    run_simple(host, port, app, threaded=True, use_reloader=False)
