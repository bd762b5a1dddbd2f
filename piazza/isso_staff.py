"""The staff badge, earned only by proof: a WSGI layer around Isso's app.

A comment is by staff only when it was posted with a valid Isso admin
session (the ``admin-session`` cookie Isso signs at ``POST /login/``, checked
with Isso's own signer and the same 24-hour limit as its admin page). Then:

- the staff member is the one whose e-mail (or, failing that, whose name) the
  comment uses (content/staff.toml, see piazza/staff.py). A moderator writing
  under a name and address that are no staff member's gets no badge (a
  warning is logged): the comment is an ordinary one;
- the comment is stored hidden, then in one transaction recorded in
  ``piazza_staff_comments`` and published (mode 1), whatever the moderation
  setting: no reader ever sees it without its badge;
- in every JSON answer that carries it (the thread ``GET /?uri=`` with its
  nested replies, ``GET /latest``, ``GET /id/N``, and the answers to
  ``POST /new`` and ``PUT /id/N``) its ``hash`` is ``"staff-<key>"``. Isso's
  own hashes are 12 hex digits, so no reader can produce one. Isso gives no
  hash in /latest and /id/N: there staff comments get one, others none.

Without the proof, a comment whose name or e-mail claims a staff member
(piazza/staff.py says when) gets no badge, is stored pending (mode 2, before
anyone can read it, even with moderation off or an address Isso would
approve by ``approve-if-email-previously-approved``) and is flagged
``claims-staff`` in ``piazza_flags``. A reader who edits their comment's name
into a staff one within Isso's edit window gets the same. A staff address is
never auto-approved by ``approve-if-email-previously-approved``.

Isso stays unmodified: the decisions are taken in wrappers around three
methods of the app's own comments store (``add``, ``update``,
``is_previously_approved_author``), which read what this layer learnt from
the request (a context variable, one per request thread).

A staff row is bound to its comment by the comment's ``created`` time too:
SQLite may give a deleted comment's id to the next one, which must not
inherit the badge.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass

from isso import Isso
from itsdangerous import BadData
from werkzeug.http import parse_cookie
from werkzeug.test import run_wsgi_app

from piazza.commentstore import connect, ensure_schema, immediate
from piazza.staff import StaffDirectory, load_staff, staff_file

logger = logging.getLogger("piazza.isso.staff")

ADMIN_COOKIE = "admin-session"
ADMIN_MAX_AGE = 60 * 60 * 24  # as Isso's admin page (views/comments.py, admin())
CLAIMS_STAFF = "claims-staff"

# The endpoints whose JSON answers carry comments, by how they carry them.
THREAD, LIST, ONE = "thread", "list", "one"
COMMENT_URL = re.compile(r"^/id/\d+$")

STAFF_KEYS = """
    SELECT s.comment_id, s.staff FROM piazza_staff_comments AS s
    JOIN comments AS c ON c.id = s.comment_id AND c.created = s.created
    WHERE s.comment_id IN (SELECT value FROM json_each(?))
"""


@dataclass(frozen=True)
class Writing:
    """What this layer learnt about the request Isso is answering."""

    admin: bool = False  # a valid admin session came with it
    reader_edit: bool = False  # PUT /id/N: a reader editing their comment


NOBODY = Writing()  # outside a request (e.g. the warm-up): no proof
_writing: ContextVar[Writing | None] = ContextVar("piazza_staff_writing", default=None)


def isso_core(app) -> Isso:
    """The Isso instance inside the app ``make_app`` built (through its
    middlewares' ``app`` attributes and werkzeug's closure)."""
    seen = set()
    todo = [app]
    while todo:
        obj = todo.pop()
        if isinstance(obj, Isso):
            return obj
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if (inner := getattr(obj, "app", None)) is not None:
            todo.append(inner)
        for cell in getattr(obj, "__closure__", None) or ():
            with contextlib.suppress(ValueError):  # an empty cell
                todo.append(cell.cell_contents)
    raise RuntimeError("piazza.isso_staff: no Isso instance inside the app given")


def answer_kind(method: str, path: str) -> str | None:
    """How the answer to this request carries comments (None: it does not)."""
    if method == "GET" and path == "/":
        return THREAD
    if method == "GET" and path == "/latest":
        return LIST
    if (method == "POST" and path == "/new") or (
        method in ("GET", "PUT") and COMMENT_URL.match(path)
    ):
        return ONE
    return None


def comments_in(kind: str, data: object) -> list[dict]:
    """The comments (dicts with an ``id``) an answer of ``kind`` holds."""
    if kind == THREAD and isinstance(data, dict):
        found, todo = [], list(data.get("replies") or ())
        while todo:
            comment = todo.pop()
            if isinstance(comment, dict) and "id" in comment:
                found.append(comment)
                todo.extend(comment.get("replies") or ())
        return found
    if kind == LIST and isinstance(data, list):
        return [c for c in data if isinstance(c, dict) and "id" in c]
    if kind == ONE and isinstance(data, dict) and "id" in data:
        return [data]
    return []


class StaffBadges:
    """The layer (see the module's docstring) around Isso's WSGI ``app``."""

    def __init__(self, app, dbpath: str, staff: StaffDirectory) -> None:
        self.app, self.dbpath, self.staff = app, dbpath, staff
        self.core = isso_core(app)
        with contextlib.closing(connect(dbpath)) as db:
            ensure_schema(db)
        comments = self.core.db.comments
        add, update = comments.add, comments.update
        approved = comments.is_previously_approved_author
        comments.add = lambda uri, c: self._add(add, uri, c)
        comments.update = lambda id, data: self._update(update, id, data)
        comments.is_previously_approved_author = lambda email: (
            not staff.is_staff_email(email) and approved(email)
        )

    @classmethod
    def from_environment(cls, app, dbpath: str) -> StaffBadges:
        """The layer with the staff of $PIAZZA_STAFF_FILE (default: the
        repository's content/staff.toml); StaffError if it is missing or wrong."""
        path = staff_file()
        staff = load_staff(path)
        logger.info("%d staff member(s) from %s", len(staff.members), path)
        return cls(app, dbpath, staff)

    # --- the request --------------------------------------------------------

    def admin_session(self, environ) -> bool:
        """Whether the request carries a valid Isso admin session."""
        value = parse_cookie(environ).get(ADMIN_COOKIE)
        if not value or not self.core.conf.getboolean("admin", "enabled"):
            return False
        try:
            data = self.core.unsign(value, max_age=ADMIN_MAX_AGE)
        except BadData:  # forged, expired, or signed with another key
            return False
        return isinstance(data, dict) and data.get("logged") is True

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        writing = Writing(
            admin=method == "POST" and path == "/new" and self.admin_session(environ),
            reader_edit=method == "PUT" and bool(COMMENT_URL.match(path)),
        )
        kind = answer_kind(method, path)
        token = _writing.set(writing)
        try:
            if kind is None:
                return self.app(environ, start_response)
            result, status, answered = run_wsgi_app(self.app, environ, buffered=True)
            body = b"".join(result)
        finally:
            _writing.reset(token)
        headers = answered.to_wsgi_list()
        if status[:3] in ("200", "201", "202"):
            new = self.rewrite(kind, body)
            if new is not body:
                body = new
                headers = [
                    (k, str(len(body)) if k.lower() == "content-length" else v)
                    for k, v in headers
                ]
        start_response(status, headers)
        return [body]

    # --- the answers --------------------------------------------------------

    def rewrite(self, kind: str, body: bytes) -> bytes:
        """``body`` with the hash of each staff comment in it made
        ``staff-<key>`` (the same object when there is none)."""
        try:
            data = json.loads(body)
        except ValueError:
            return body
        comments = comments_in(kind, data)
        if not comments:
            return body
        with contextlib.closing(connect(self.dbpath)) as db:
            ids = json.dumps([c["id"] for c in comments])
            keys = dict(db.execute(STAFF_KEYS, (ids,)).fetchall())
        if not keys:
            return body
        for comment in comments:
            if comment["id"] in keys:
                comment["hash"] = f"staff-{keys[comment['id']]}"
        return json.dumps(data).encode()

    # --- the writes (wrappers of Isso's comments store) ----------------------

    def _add(self, add, uri: str, c: dict) -> dict:
        writing = _writing.get() or NOBODY
        author, email = c.get("author"), c.get("email")
        member = self.staff.member_for(author, email) if writing.admin else None
        claimed = self.staff.claimed_by(author, email)
        if writing.admin and member is None:
            logger.warning(
                "a moderator posted as %r <%s>, which is no single staff member "
                "of the staff file: no badge",
                author,
                email,
            )
        if member or claimed:
            c["mode"] = 2  # hidden until published with its badge, or approved
        rv = add(uri, c)
        if not (member or claimed):
            return rv
        with contextlib.closing(connect(self.dbpath)) as db, immediate(db):
            if member:
                db.execute(
                    "INSERT OR REPLACE INTO piazza_staff_comments"
                    " (comment_id, staff, created) VALUES (?, ?, ?)",
                    (rv["id"], member.key, rv["created"]),
                )
                db.execute("UPDATE comments SET mode = 1 WHERE id = ?", (rv["id"],))
                rv["mode"] = 1
            elif claimed:
                self._flag(db, rv["id"], author, email)
        return rv

    def _update(self, update, id: int, data: dict) -> dict:
        claims = (
            (_writing.get() or NOBODY).reader_edit
            and data.get("author")
            and self.staff.claimed_by(data["author"], None)
            and not self._is_staff(id)
        )
        if claims:
            data = {**data, "mode": 2}
        rv = update(id, data)
        if claims:
            with contextlib.closing(connect(self.dbpath)) as db, immediate(db):
                self._flag(db, id, data["author"], None)
        return rv

    def _is_staff(self, comment_id: int) -> bool:
        with contextlib.closing(connect(self.dbpath)) as db:
            ids = json.dumps([comment_id])
            return bool(db.execute(STAFF_KEYS, (ids,)).fetchone())

    @staticmethod
    def _flag(db, comment_id: int, author: str | None, email: str | None) -> None:
        logger.warning(
            "comment %d claims a staff identity (%r <%s>) without a moderator "
            "session: held for moderation, flagged %s",
            comment_id,
            author,
            email,
            CLAIMS_STAFF,
        )
        db.execute(
            "INSERT OR IGNORE INTO piazza_flags (comment_id, reason, created)"
            " VALUES (?, ?, ?)",
            (comment_id, CLAIMS_STAFF, time.time()),
        )
