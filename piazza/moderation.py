"""The moderator's work on Isso's database: the queue, and what to do with
a comment (approve, delete, ban its writer).

Two doors lead here: the moderation page (piazza/isso_moderation.py, which
reads the queue here and has Isso itself approve and delete, so its
notifications go out) and the terminal (`invoke comments-moderate`, which
works on the database directly, as `comments-backup` does).

The terminal does what Isso does, with Isso's own database classes
(isso/db/comments.py): approving sets mode 1 on a pending comment; deleting
is ``Comments.delete``, which keeps a deleted comment that has replies as an
empty placeholder (mode 4). It holds Isso's write lock meanwhile: the flock
on ``<dbpath>.lock`` every gunicorn worker takes (piazza/isso_wsgi.py).

A comment is known by its id, the number Isso gives it (``#isso-<id>`` in
its link): an id never changes, while a position in the queue shifts as new
comments arrive.
"""

from __future__ import annotations

import ipaddress
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from isso import config
from isso.db import SQLite3

from piazza import commentstore
from piazza.comments import CommentsError, check_database
from piazza.processes import ProcessLock

PENDING, PUBLISHED, DELETED = 2, 1, 4

_SELECT = """
    SELECT comments.id, threads.uri, threads.title, comments.parent,
           comments.created, comments.mode, comments.author, comments.email,
           comments.website, comments.remote_addr, comments.text
    FROM comments JOIN threads ON threads.id = comments.tid
"""


class ModerationError(Exception):
    """Something the moderator asked cannot be done (the message says why)."""


@dataclass(frozen=True)
class Comment:
    """A comment as the moderator sees it (text as written, not rendered)."""

    id: int
    uri: str
    title: str
    parent: int | None
    created: float
    mode: int
    author: str | None
    email: str | None
    website: str | None
    remote_addr: str
    text: str
    flags: tuple[str, ...] = ()

    def first_words(self, words: int = 12) -> str:
        split = self.text.split()
        more = "…" if len(split) > words else ""
        return " ".join(split[:words]) + more


def _comments(db: sqlite3.Connection, where: str, args: tuple) -> list[Comment]:
    rows = db.execute(f"{_SELECT} {where}", args).fetchall()
    flags = flags_of(db, [row[0] for row in rows])
    return [Comment(*row, flags=flags.get(row[0], ())) for row in rows]


def flags_of(db: sqlite3.Connection, ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """Why each comment of ``ids`` needs the moderator's eye (piazza_flags)."""
    ids = list(ids)
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    found: dict[int, tuple[str, ...]] = {}
    for comment_id, reason in db.execute(
        f"SELECT comment_id, reason FROM piazza_flags WHERE comment_id IN ({marks})"
        " ORDER BY created",
        ids,
    ):
        found[comment_id] = (*found.get(comment_id, ()), reason)
    return found


def pending(db: sqlite3.Connection) -> list[Comment]:
    """The comments waiting for moderation, newest first."""
    return _comments(
        db, "WHERE comments.mode = ? ORDER BY comments.created DESC", (PENDING,)
    )


def published(
    db: sqlite3.Connection, search: str = "", page: int = 0, size: int = 25
) -> tuple[list[Comment], int]:
    """One page of the published comments, newest first, and how many match
    ``search`` (in the text, author, e-mail or page address) in all."""
    where = "WHERE comments.mode = ?"
    args: tuple = (PUBLISHED,)
    if search.strip():
        like = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%") + "%"
        like = like.replace("_", "\\_")
        where += (
            " AND (comments.text LIKE ? ESCAPE '\\' OR comments.author LIKE ?"
            " ESCAPE '\\' OR comments.email LIKE ? ESCAPE '\\'"
            " OR threads.uri LIKE ? ESCAPE '\\')"
        )
        args += (like,) * 4
    (total,) = db.execute(
        f"SELECT COUNT(*) FROM comments JOIN threads ON threads.id = comments.tid"
        f" {where}",
        args,
    ).fetchone()
    found = _comments(
        db,
        f"{where} ORDER BY comments.created DESC LIMIT ? OFFSET ?",
        (*args, size, max(page, 0) * size),
    )
    return found, total


def comment(db: sqlite3.Connection, comment_id: int) -> Comment | None:
    found = _comments(db, "WHERE comments.id = ?", (comment_id,))
    return found[0] if found else None


def writer_range(remote_addr: str) -> str:
    """The address range Isso recorded a comment from (it keeps /24 of an
    IPv4 address, /48 of an IPv6 one), as a network to ban."""
    address = ipaddress.ip_address(remote_addr)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def ban_writer(db: sqlite3.Connection, found: Comment, kind: str) -> commentstore.Ban:
    """Ban the writer of ``found`` by e-mail or by address range."""
    if kind == "email":
        if not found.email:
            raise ModerationError(
                f"comment #{found.id} has no e-mail address: ban its address range"
            )
        value = found.email
    elif kind == "range":
        value = writer_range(found.remote_addr)
    else:
        raise ModerationError(f"ban: unknown kind {kind!r} (email or range)")
    return commentstore.ban(db, kind, value, reason=f"comment #{found.id}")


def age(created: float, now: float | None = None) -> str:
    """How long ago, in the largest unit that fits: 5m, 3h, 2d."""
    seconds = max(0, (now or time.time()) - created)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


# --- The terminal: the database directly, under Isso's write lock ----------


@dataclass(frozen=True)
class Done:
    """What one action did, for the moderator to read."""

    comment_id: int
    action: str  # 'approved', 'deleted', 'banned'
    detail: str = ""


class Queue:
    """Isso's database, for `invoke comments-moderate`."""

    def __init__(self, dbpath: str | PathLike[str]) -> None:
        self.path = Path(dbpath)
        try:  # never let Isso's classes create tables in a wrong file
            check_database(self.path)
        except CommentsError as exc:
            raise ModerationError(str(exc)) from None
        self.lock = ProcessLock(f"{self.path}.lock")
        # Isso's classes: the same statements the server runs.
        self.isso = SQLite3(str(self.path), config.load(config.default_file()))
        self.db = commentstore.connect(self.path)
        commentstore.ensure_schema(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Queue:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def pending(self) -> list[Comment]:
        return pending(self.db)

    def _get(self, comment_id: int) -> Comment:
        found = comment(self.db, comment_id)
        if found is None or found.mode == DELETED:
            raise ModerationError(
                f"no comment #{comment_id} in {self.path} (the queue shows the ids)"
            )
        return found

    def approve(self, comment_id: int) -> Done:
        with self.lock:
            found = self._get(comment_id)
            if found.mode != PENDING:
                raise ModerationError(f"comment #{comment_id} is already published")
            self.isso.comments.activate(comment_id)
        return Done(comment_id, "approved")

    def delete(self, comment_id: int) -> Done:
        with self.lock:
            self._get(comment_id)
            kept = self.isso.comments.delete(comment_id)
        return Done(comment_id, "deleted", "kept as a placeholder" if kept else "")

    def ban(self, comment_id: int) -> Done:
        """Ban the writer (by e-mail if they gave one, else by address
        range) and delete the comment."""
        with self.lock:
            found = self._get(comment_id)
            kind = "email" if found.email else "range"
            banned = ban_writer(self.db, found, kind)
            self.isso.comments.delete(comment_id)
        return Done(comment_id, "banned", f"{banned.kind} {banned.value}")

    def unlock(self) -> int:
        """Forget the failed admin logins (piazza/isso_moderation.py's
        lockout): how many were forgotten."""
        return self.db.execute(
            "DELETE FROM piazza_events WHERE kind = 'login-failure'"
        ).rowcount

    def apply(
        self,
        approve: Iterable[int] = (),
        delete: Iterable[int] = (),
        ban: Iterable[int] = (),
    ) -> Iterator[Done]:
        """Approve, then delete, then ban; each id is checked as it comes."""
        for action, ids in ((self.approve, approve), (self.delete, delete)):
            for comment_id in ids:
                yield action(comment_id)
        for comment_id in ban:
            yield self.ban(comment_id)


# --- The terminal's display and dialogue -------------------------------------


def queue_table(comments: list[Comment], now: float | None = None):
    """The pending queue as a rich table."""
    from rich.table import Table  # noqa: PLC0415 (the web layer needs no rich)

    table = Table(title=f"{len(comments)} waiting for moderation", title_justify="left")
    for column in ("#", "age", "thread", "author", "e-mail", "text", "flags"):
        table.add_column(column, overflow="fold")
    for found in comments:
        table.add_row(
            str(found.id),
            age(found.created, now),
            found.uri,
            found.author or "",
            found.email or "",
            found.first_words(),
            ", ".join(found.flags),
            style="bold red" if found.flags else None,
        )
    return table


ANSWERS = {"a": "approve", "d": "delete", "b": "ban", "s": "skip", "q": "quit"}


def ask(queue: Queue, console, prompt=None) -> list[Done]:
    """Go through the queue at a terminal: approve, delete, ban or skip
    each comment in turn (q stops)."""
    from rich.prompt import Prompt  # noqa: PLC0415

    prompt = prompt or Prompt.ask
    done = []
    for found in queue.pending():
        console.rule(f"#{found.id} · {found.uri}")
        console.print(f"{found.author or 'Anonymous'} <{found.email or '-'}>")
        console.print(found.text, markup=False, highlight=False)
        if found.flags:
            console.print(f"[bold red]flagged:[/] {', '.join(found.flags)}")
        answer = prompt(
            "[a]pprove, [d]elete, [b]an, [s]kip, [q]uit",
            choices=list(ANSWERS),
            default="s",
        )
        action = ANSWERS[answer]
        if action == "quit":
            break
        if action != "skip":
            done.append(getattr(queue, action)(found.id))
            console.print(describe(done[-1]))
    return done


def describe(done: Done) -> str:
    detail = f" ({done.detail})" if done.detail else ""
    return f"#{done.comment_id} {done.action}{detail}"
