"""Moderation that works under the site's CSP (``script-src 'self'``), and
the admin door hardened: a layer around Isso's app in piazza/isso_wsgi.py.

Isso 0.14's moderation pages run inline scripts, which the CSP blocks: the
e-mailed link ``GET /id/N/activate/KEY`` answers a page whose script would
ask "Are you sure?" and POST; its admin page's buttons are ``onclick``
handlers. This layer answers instead, with pages that need no script at all
(plain forms), in Italian or English (the browser's Accept-Language):

* ``GET /id/N/(activate|delete|edit)/KEY``: the comment and one button, a
  form that POSTs to the same URL; Isso does the work (the key is its own
  proof), and a result page links to the comment.
* ``/moderate/``: the pending queue (newest first, flags from piazza_flags)
  and the published comments (searchable, by pages), each with approve,
  edit, delete and ban forms. Approving and deleting are handed to Isso (as
  its e-mailed links are), so its notifications go out as usual. Every POST
  needs the admin session, a CSRF token tied to it, and an Origin (when the
  browser sends one) that is the site's.
* ``/admin/`` (Isso's page) redirects here: its buttons cannot work under
  the CSP, and one page is enough to keep right.
* ``POST /login/`` (Isso's path, so there is no other door): the password is
  checked here, with a lockout: after ``LOCKOUT_FAILURES`` failures from one
  address range within ``LOCKOUT_WINDOW`` seconds, the range gets 429 until
  the oldest of them is that old, even with the right password. Failures are
  counted and recorded in piazza_events in one BEGIN IMMEDIATE transaction,
  so concurrent guesses in several workers cannot race past the limit.
  The session cookie is Isso's (``admin-session``, signed with Isso's key,
  so Isso accepts it too) but HttpOnly, SameSite=Strict, scoped to the
  comments path, and Secure under https; Isso's script-readable
  ``X-Set-Cookie`` copy is not sent.
* ``/demo/`` and ``/info`` answer 404: a demo page and the server's version
  have no business in production.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import jinja2
from isso.db import SQLite3
from isso.utils import anonymize
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException
from werkzeug.http import dump_cookie
from werkzeug.routing import Map, Rule
from werkzeug.test import run_wsgi_app
from werkzeug.wrappers import Request, Response

from piazza import commentstore, moderation
from piazza.templating import translated_environment

logger = logging.getLogger("piazza.isso.moderation")

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "templates" / "moderation"
LANGUAGES = ("it", "en")

SESSION_COOKIE = "admin-session"  # Isso's name: its /admin/ reads it too
SESSION_AGE = 24 * 3600  # as Isso's admin
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = 15 * 60
PAGE_SIZE = 25
ACTIONS = ("approve", "delete", "edit", "ban-email", "ban-range")

_routes = Map(
    [
        Rule(
            "/id/<int:comment_id>/<any(activate,delete,edit):action>/<key>",
            endpoint="link",
        ),
        Rule("/moderate/", endpoint="page"),
        Rule("/moderate/logout", endpoint="logout", methods=["POST"]),
        Rule("/moderate/moderation.css", endpoint="css"),
        Rule("/admin/", endpoint="admin"),
        Rule("/login/", endpoint="login"),
        Rule("/demo", endpoint="closed"),
        Rule("/demo/<path:rest>", endpoint="closed"),
        Rule("/info", endpoint="closed"),
    ],
    strict_slashes=False,
)  # fmt: skip
# The paths above start so; every other request goes to Isso untouched.
_OURS = ("/id/", "/moderate", "/admin", "/login", "/demo", "/info")


def _environments() -> dict[str, jinja2.Environment]:
    environments = {}
    for lang in LANGUAGES:
        env = translated_environment(TEMPLATES, lang)
        env.filters["age"] = moderation.age
        env.filters["iso"] = _iso
        environments[lang] = env
    return environments


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Lockout:
    """The outcome of one login attempt."""

    allowed: bool  # the password was right and the range not locked
    locked_for: float = 0  # seconds left, when locked
    left: int = 0  # failures left before the lockout, after a wrong password


class Moderation:
    """The WSGI layer (see the module's docstring) around ``app``."""

    def __init__(self, app, settings) -> None:
        self.app = app
        self.settings = settings
        self.dbpath = settings.get("general", "dbpath")
        self.enabled = settings.getboolean("admin", "enabled")
        self.password = settings.get("admin", "password")
        self.public = settings.get("server", "public-endpoint") or ""
        # Isso's database classes, and its signing key (a preference Isso
        # stores in the database): our signatures are Isso's.
        key = SQLite3(self.dbpath, settings).preferences.get("session-key")
        self.signer = URLSafeTimedSerializer(key)
        self.key = key.encode()
        with self._db() as db:
            commentstore.ensure_schema(db)
        self.templates = _environments()

    def _db(self):
        return contextlib.closing(commentstore.connect(self.dbpath))

    # --- WSGI ------------------------------------------------------------

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if not path.startswith(_OURS):  # thread reads, new comments...: at once
            return self.app(environ, start_response)
        try:
            endpoint, values = _routes.bind_to_environ(environ).match(
                path, method=environ["REQUEST_METHOD"]
            )
        except HTTPException:  # no route of ours: Isso answers
            return self.app(environ, start_response)
        if endpoint == "closed":
            response = Response("Not Found", 404, content_type="text/plain")
        elif endpoint == "link" and not self._is_form(environ):
            if environ["REQUEST_METHOD"] != "GET":
                return self.app(environ, start_response)  # Isso's API, as it is
            response = self.link(Request(environ), **values)
        elif not self.enabled and endpoint != "link":
            response = Response("Not Found", 404, content_type="text/plain")
        else:
            response = getattr(self, endpoint)(Request(environ), **values)
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
            response.headers["Vary"] = "Accept-Language, Cookie"
        return response(environ, start_response)

    @staticmethod
    def _is_form(environ) -> bool:
        return environ["REQUEST_METHOD"] == "POST" and environ.get(
            "CONTENT_TYPE", ""
        ).startswith(("application/x-www-form-urlencoded", "multipart/form-data"))

    # --- Helpers -----------------------------------------------------------

    def _lang(self, request: Request) -> str:
        return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])

    def _prefix(self, request: Request) -> str:
        """The public path Isso is served under (nginx's X-Script-Name)."""
        return request.headers.get("X-Script-Name", "").rstrip("/")

    def _https(self, request: Request) -> bool:
        return request.headers.get(
            "X-Forwarded-Proto", request.scheme
        ) == "https" or self.public.startswith("https://")

    def _origins(self, request: Request) -> set[str]:
        scheme = request.headers.get("X-Forwarded-Proto", request.scheme)
        origins = {f"{scheme}://{request.host}"}
        if self.public:
            parts = urlsplit(self.public)
            origins.add(f"{parts.scheme}://{parts.netloc}")
        return origins

    def _same_origin(self, request: Request) -> bool:
        """A POST from one of our own pages (the browser says so)."""
        origin = request.headers.get("Origin")
        if origin is not None:
            return origin in self._origins(request)
        return request.headers.get("Sec-Fetch-Site", "same-origin") in (
            "same-origin",
            "none",
        )

    @staticmethod
    def _address(request: Request) -> str:
        """The client's address range, as Isso records it: the last
        X-Forwarded-For entry (nginx sets it to the address it saw, and
        Isso's ProxyFix reads the same), anonymised to /24 or /48."""
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        return anonymize(forwarded or request.remote_addr or "")

    def _session(self, request: Request) -> str | None:
        """The admin session cookie, if it is a valid one."""
        cookie = request.cookies.get(SESSION_COOKIE, "")
        try:
            data = self.signer.loads(cookie, max_age=SESSION_AGE)
        except BadSignature:
            return None
        return cookie if isinstance(data, dict) and data.get("logged") else None

    def is_moderator(self, environ) -> bool:
        """Whether a request carries a valid admin session (for other
        layers, e.g. one that marks a comment posted by staff)."""
        return self._session(Request(environ)) is not None

    def _csrf(self, session: str) -> str:
        return hmac.new(
            self.key, b"piazza-moderation|" + session.encode(), hashlib.sha256
        ).hexdigest()

    def _cookie(self, request: Request, value: str, max_age: int) -> str:
        return dump_cookie(
            SESSION_COOKIE,
            value,
            max_age=max_age,
            path=self._prefix(request) + "/",
            secure=self._https(request),
            httponly=True,
            samesite="Strict",
        )

    def _render(
        self, request: Request, template: str, status: int = 200, **context
    ) -> Response:
        lang = self._lang(request)
        body = (
            self.templates[lang]
            .get_template(template)
            .render(
                lang=lang,
                prefix=self._prefix(request),
                **context,
            )
        )
        return Response(body, status, content_type="text/html; charset=utf-8")

    def _isso(self, request: Request, method: str, path: str, data=None):
        """Ask Isso itself (the moderation it does on its e-mailed links):
        (status code, body)."""
        body = b"" if data is None else json.dumps(data).encode()
        environ = {
            **request.environ,
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        result, status, _headers = run_wsgi_app(self.app, environ, buffered=True)
        return int(status.split()[0]), b"".join(result)

    def _moderate(self, request: Request, comment_id: int, action: str, data=None):
        key = self.signer.dumps(comment_id)
        return self._isso(request, "POST", f"/id/{comment_id}/{action}/{key}", data)

    # --- The e-mailed links --------------------------------------------------

    def link(self, request: Request, comment_id: int, action: str, key: str):
        try:
            signed = self.signer.loads(key, max_age=2**32)
        except BadSignature:
            signed = None
        with self._db() as db:
            found = moderation.comment(db, comment_id)
        if signed != comment_id or found is None:
            return self._render(request, "gone.html", 404 if signed else 403)
        context = {"comment": found, "action": action, "link": found.uri}
        if request.method == "GET":
            return self._render(request, "confirm.html", **context)
        if not self._same_origin(request):
            return self._render(request, "refused.html", 403)
        if action == "edit":
            data = {
                field: request.form.get(field, "")
                for field in ("text", "author", "website")
            }
            status, _ = self._moderate(request, comment_id, action, data)
        else:
            status, _ = self._isso(request, "POST", request.environ["PATH_INFO"])
        context["result"] = status
        return self._render(request, "done.html", status, **context)

    # --- Login, logout, Isso's admin ---------------------------------------------

    def attempt(self, subject: str, password: str) -> Lockout:
        """Check ``password`` for ``subject`` (an address range), counting and
        recording a failure in one transaction."""
        now = time.time()
        right = bool(self.password) and hmac.compare_digest(
            password.encode(), self.password.encode()
        )
        with self._db() as db, commentstore.immediate(db):
            db.execute(  # failures that no longer count are forgotten
                "DELETE FROM piazza_events WHERE kind = 'login-failure'"
                " AND created <= ?",
                (now - LOCKOUT_WINDOW,),
            )
            recent = [
                created
                for (created,) in db.execute(
                    "SELECT created FROM piazza_events WHERE kind = 'login-failure'"
                    " AND subject = ? AND created > ? ORDER BY created DESC LIMIT ?",
                    (subject, now - LOCKOUT_WINDOW, LOCKOUT_FAILURES),
                )
            ]
            if len(recent) >= LOCKOUT_FAILURES:
                return Lockout(False, locked_for=recent[-1] + LOCKOUT_WINDOW - now)
            if right:
                db.execute(
                    "DELETE FROM piazza_events WHERE kind = 'login-failure'"
                    " AND subject = ?",
                    (subject,),
                )
                return Lockout(True)
            db.execute(
                "INSERT INTO piazza_events (kind, subject, created)"
                " VALUES ('login-failure', ?, ?)",
                (subject, now),
            )
        return Lockout(False, left=LOCKOUT_FAILURES - len(recent) - 1)

    def login(self, request: Request):
        if request.method != "POST":
            return self._redirect(request, "/moderate/")
        if not self._same_origin(request):
            return self._render(request, "refused.html", 403)
        subject = self._address(request)
        outcome = self.attempt(subject, request.form.get("password", ""))
        if outcome.allowed:
            logger.info("admin login from %s", subject)
            response = self._redirect(request, "/moderate/")
            response.headers.add(
                "Set-Cookie",
                self._cookie(request, self.signer.dumps({"logged": True}), SESSION_AGE),
            )
            return response
        if outcome.locked_for:
            minutes = max(1, round(outcome.locked_for / 60))
            logger.warning(
                "admin login refused: %s is locked out for %d more minutes",
                subject,
                minutes,
            )
            response = self._render(request, "login.html", 429, locked=minutes)
            response.headers["Retry-After"] = str(int(outcome.locked_for) + 1)
            return response
        logger.warning(
            "admin login failure from %s (%d left before the lockout)",
            subject,
            outcome.left,
        )
        return self._render(request, "login.html", 403, wrong=True, left=outcome.left)

    def logout(self, request: Request):
        session = self._session(request)
        if (
            session
            and self._same_origin(request)
            and hmac.compare_digest(request.form.get("csrf", ""), self._csrf(session))
        ):
            response = self._redirect(request, "/moderate/")
            response.headers.add("Set-Cookie", self._cookie(request, "", 0))
            return response
        return self._render(request, "refused.html", 403)

    def admin(self, request: Request):
        return self._redirect(request, "/moderate/")

    def _redirect(self, request: Request, path: str, query: dict | None = None):
        location = self._prefix(request) + path
        if query:
            location += "?" + urlencode(query)
        return Response("", HTTPStatus.SEE_OTHER, headers={"Location": location})

    def css(self, request: Request):
        return Response(
            (TEMPLATES / "moderation.css").read_bytes(),
            content_type="text/css; charset=utf-8",
        )

    def closed(self, request: Request, **_):
        return Response("Not Found", 404, content_type="text/plain")

    # --- The moderation page ---------------------------------------------------

    def page(self, request: Request):
        session = self._session(request)
        if session is None:
            return self._render(request, "login.html")
        if request.method == "POST":
            return self._act(request, session)
        view = "published" if request.args.get("view") == "published" else "pending"
        search = request.args.get("q", "")[:200]
        try:
            number = max(0, int(request.args.get("page", "0")))
        except ValueError:
            number = 0
        with self._db() as db:
            if view == "pending":
                comments, total = moderation.pending(db), None
            else:
                comments, total = moderation.published(db, search, number, PAGE_SIZE)
        pages = 0 if total is None else (total + PAGE_SIZE - 1) // PAGE_SIZE
        return self._render(
            request,
            "page.html",
            comments=comments,
            view=view,
            search=search,
            page=number,
            pages=pages,
            total=total,
            csrf=self._csrf(session),
            here=self._here(request),
            done=request.args.get("done", ""),
            done_id=request.args.get("id", ""),
        )

    def _act(self, request: Request, session: str):
        form = request.form
        token = form.get("csrf", "")
        if not self._same_origin(request) or not hmac.compare_digest(
            token, self._csrf(session)
        ):
            logger.warning("moderation POST refused (origin or CSRF token)")
            return self._render(request, "refused.html", 403)
        action = form.get("action", "")
        try:
            comment_id = int(form.get("id", ""))
        except ValueError:
            comment_id = -1
        with self._db() as db:
            found = moderation.comment(db, comment_id)
            if action not in ACTIONS or found is None:
                return self._render(request, "gone.html", 404)
            if action.startswith("ban-"):
                try:
                    moderation.ban_writer(db, found, action.removeprefix("ban-"))
                except moderation.ModerationError:
                    return self._render(request, "gone.html", 400)
        if action == "approve":
            status, _ = self._moderate(request, comment_id, "activate")
        elif action == "edit":
            data = {f: form.get(f, "") for f in ("text", "author", "website")}
            status, _ = self._moderate(request, comment_id, "edit", data)
        else:  # delete, and a ban deletes the comment too
            status, _ = self._moderate(request, comment_id, "delete")
        if status != 200:
            return self._render(request, "gone.html", status)
        logger.info("moderation: %s comment %d", action, comment_id)
        return self._redirect(
            request,
            "/moderate/",
            {**self._view(request), "done": action, "id": comment_id},
        )

    @staticmethod
    def _view(request: Request) -> dict[str, str]:
        """The view's arguments (which list, search, page), without the rest."""
        return {k: v for k, v in request.args.items() if k in ("view", "q", "page")}

    def _here(self, request: Request) -> str:
        view = self._view(request)
        return (
            self._prefix(request)
            + "/moderate/"
            + ("?" + urlencode(view) if view else "")
        )
