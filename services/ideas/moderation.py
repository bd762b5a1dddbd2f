"""The editors' moderation page, served by the ideas service under its
public path (``/idee-api/moderate/``) and the unsubscribe page of its
e-mails (``/idee-api/unsubscribe``).

Plain forms, no script, one stylesheet: it works under the site's CSP. The
door is the comments' (piazza/editorpages.py): IDEAS_EDITOR_PASSWORD (the
secret or a Werkzeug hash), a lockout per address range counted in one
BEGIN IMMEDIATE transaction (the service's ``events`` table), a session
cookie (HttpOnly, SameSite=Strict, ``Path=<public path>moderate/``, Secure
over https) signed with IDEAS_SECRET and tied to the password (changing it
logs every editor out), and every POST needs the session's CSRF token and
an Origin that is the site's.

The page shows the queue (accept, decline, merge into a public idea) and
the board (a new status with the company's answer in Italian and English,
merge). Each action is the terminal's (services/ideas/cli.py): accepting
writes the idea into IDEAS_CONTENT_DIR and the page shows the file and the
``git`` command that publishes it; without that folder it says to accept
from the terminal. Supporters are told by e-mail (services/ideas/notify.py)
once the decision is committed. Italian by default, English by the
browser's Accept-Language or ``?lang=en``.
"""

from __future__ import annotations

import hashlib
import logging
import shlex
import time
from pathlib import Path
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Request, Response

from piazza import editorpages
from services.ideas import cli, notify, rules, store
from services.ideas.config import Settings

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "piazza_editor"
SESSION_AGE = 12 * 3600
ACTIONS = ("accept", "decline", "status", "merge")
_CSRF_PURPOSE = "piazza-ideas-moderation"


def _lang(request: Request) -> str:
    asked = request.args.get("lang")
    if asked in editorpages.LANGUAGES:
        return asked
    return request.accept_languages.best_match(
        editorpages.LANGUAGES, default=editorpages.LANGUAGES[0]
    )


class Moderation:
    """The pages; ``app`` is the IdeasApp (its database, its address rules)."""

    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.prefix = settings.public_path.rstrip("/")
        self.key = settings.secret.encode()
        self.signer = URLSafeTimedSerializer(
            settings.secret, salt="piazza-ideas-editor"
        )
        # Sessions carry a fingerprint of the password: a new one ends them.
        self.fingerprint = hashlib.sha256(
            b"piazza-ideas-editor|" + settings.editor_password.encode()
        ).hexdigest()[:16]
        self.notifier = notify.Notifier(settings) if settings.smtp else None
        if self.notifier and not settings.public_url.startswith("https://"):
            logger.warning(
                "IDEAS_PUBLIC_URL=%s is not https: e-mails carry no one-click "
                "unsubscribe (RFC 8058 wants https), only the link",
                settings.public_url,
            )
        self.templates = editorpages.environments([TEMPLATES])

    # --- helpers ---------------------------------------------------------------

    def render(
        self, request: Request, template: str, status: int = 200, **context
    ) -> Response:
        lang = _lang(request)
        body = (
            self.templates[lang]
            .get_template(template)
            .render(
                lang=lang,
                prefix=self.prefix,
                service="ideas",
                login_action=f"{self.prefix}/moderate/login",
                **context,
            )
        )
        response = Response(body, status, content_type="text/html; charset=utf-8")
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    def _origins(self, request: Request) -> set[str]:
        scheme = "https" if self.app._secure(request) else request.scheme
        origins = {f"{scheme}://{request.host}"}
        if self.settings.public_url:
            parts = urlsplit(self.settings.public_url)
            origins.add(f"{parts.scheme}://{parts.netloc}")
        return origins

    def _session(self, request: Request) -> str | None:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        try:
            data = self.signer.loads(cookie, max_age=SESSION_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("p") != self.fingerprint:
            return None
        return cookie

    def _cookie(self, request: Request, value: str, max_age: int) -> str:
        return editorpages.session_cookie(
            SESSION_COOKIE,
            value,
            max_age=max_age,
            path=f"{self.prefix}/moderate/",
            secure=self.app._secure(request),
        )

    def _redirect(self, location: str) -> Response:
        return Response("", 303, headers={"Location": location})

    def _allowed_post(self, request: Request, session: str) -> bool:
        return editorpages.same_origin(
            request, self._origins(request)
        ) and editorpages.csrf_matches(
            self.key, _CSRF_PURPOSE, session, request.form.get("csrf", "")
        )

    # --- login and logout ----------------------------------------------------------

    def login(self, request: Request) -> Response:
        if not self.settings.editor_password:
            return self.render(request, "login.html", 503, not_set_up=True)
        if not editorpages.same_origin(request, self._origins(request)):
            return self.render(request, "refused.html", 403)
        subject = self.app._range(request)
        right = editorpages.password_matches(
            request.form.get("password", ""), self.settings.editor_password
        )
        outcome = editorpages.attempt(
            self.app.db.connection(), "events", subject, right
        )

        def logged_in() -> Response:
            response = self._redirect(f"{self.prefix}/moderate/")
            value = self.signer.dumps({"p": self.fingerprint})
            response.headers.add(
                "Set-Cookie", self._cookie(request, value, SESSION_AGE)
            )
            return response

        return editorpages.login_answer(
            outcome,
            subject,
            log=logger,
            who="editor",
            render=lambda *args, **context: self.render(request, *args, **context),
            success=logged_in,
        )

    def logout(self, request: Request) -> Response:
        session = self._session(request)
        if session and self._allowed_post(request, session):
            response = self._redirect(f"{self.prefix}/moderate/")
            response.headers.add("Set-Cookie", self._cookie(request, "", 0))
            return response
        return self.render(request, "refused.html", 403)

    def css(self, request: Request, name: str) -> Response:
        folder = TEMPLATES if name == "ideas" else editorpages.SHARED_TEMPLATES
        response = Response(
            (folder / f"{name}.css").read_bytes(),
            content_type="text/css; charset=utf-8",
        )
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    # --- the page ------------------------------------------------------------------

    def page(self, request: Request) -> Response:
        if not self.settings.editor_password:
            return self.render(request, "login.html", 503, not_set_up=True)
        session = self._session(request)
        if session is None:
            return self.render(request, "login.html")
        if request.method == "POST":
            return self._act(request, session)
        view = "board" if request.args.get("view") == "board" else "queue"
        db = self.app.db.connection()
        public = [i for i in store.ideas(db) if i.status != "duplicate"]
        return self.render(
            request,
            "moderate.html",
            view=view,
            ideas=store.ideas(db, queue=True) if view == "queue" else public,
            originals=public,
            statuses=sorted(rules.SETTABLE, key=rules.STATUSES.index),
            categories=rules.CATEGORIES,
            csrf=editorpages.csrf_token(self.key, _CSRF_PURPOSE, session),
            content_dir=self.settings.content_dir,
        )

    def _act(self, request: Request, session: str) -> Response:
        if not self._allowed_post(request, session):
            logger.warning("ideas moderation POST refused (origin or CSRF token)")
            return self.render(request, "refused.html", 403)
        form = request.form
        action = form.get("action", "")
        try:
            number = int(form.get("id", ""))
        except ValueError:
            number = 0
        answers = {
            "answer_it": form.get("answer_it"),
            "answer_en": form.get("answer_en"),
        }
        db = self.settings.db
        folder = self.settings.content_dir
        context = {"action": action, "number": number, "files": []}
        try:
            if action not in ACTIONS or not 0 < number <= 2**31 - 1:
                raise cli.EditorError(f"no such action: {action!r} on idea {number}")
            if action == "accept":
                if folder is None:
                    raise cli.EditorError(
                        "accepting writes the idea into git, and this service has "
                        "no IDEAS_CONTENT_DIR: accept it from the terminal "
                        f"(invoke ideas --accept {number})"
                    )
                idea, path = cli.accept(db, number, folder, **answers)
                context["files"] = [path]
            elif action == "merge":
                into = form.get("into", "")
                if not into.isdigit():
                    raise cli.EditorError("choose the idea to merge it into")
                _original, files = cli.merge(
                    db, number, int(into), folder, notifier=self.notifier, **answers
                )
                idea = store.idea(self.app.db.connection(), number, queued=True)
                context.update(files=files, into=int(into))
            else:
                status = "declined" if action == "decline" else form.get("status", "")
                idea, files = cli.set_status(
                    db, number, status, folder, notifier=self.notifier, **answers
                )
                context["files"] = files
        except cli.EditorError as exc:
            logger.warning("ideas moderation: %s", exc)
            return self.render(request, "result.html", 400, error=str(exc), **context)
        logger.info("ideas moderation: %s idea %d (%s)", action, number, idea.status)
        context["idea"] = idea
        context["git"] = self._git(context["files"], action, number)
        return self.render(request, "result.html", **context)

    def _git(self, files: list[Path], action: str, number: int) -> str:
        """The command that publishes the decision, run in the checkout the
        content folder belongs to."""
        if not files:
            return ""
        message = {
            "accept": f"Accept idea {number}",
            "decline": f"Decline idea {number}",
            "merge": f"Merge idea {number}",
        }.get(action, f"Idea {number}: new status")
        folder = files[0].parent
        checkout = next(
            (p for p in (folder, *folder.parents) if (p / ".git").exists()), None
        )
        names = " ".join(
            shlex.quote(str(f.relative_to(checkout) if checkout else f)) for f in files
        )
        where = f"cd {shlex.quote(str(checkout))} && " if checkout else ""
        return f"{where}git add {names} && git commit -m {shlex.quote(message)}"

    # --- unsubscribing (RFC 8058) ----------------------------------------------------

    def unsubscribe(self, request: Request) -> Response:
        """GET: a page with one button; POST (that button, or a mail
        client's one-click ``List-Unsubscribe=One-Click``): done."""
        token = request.args.get("token", "")
        address = self.notifier.address(token) if self.notifier else None
        if address is None:
            return self.render(request, "unsubscribe.html", 400, invalid=True)
        if request.method == "POST":
            notify.unsubscribe(self.app.db.connection(), address, time.time())
            logger.info("%s unsubscribed from the ideas' e-mails", address)
            return self.render(request, "unsubscribe.html", done=True, email=address)
        return self.render(
            request,
            "unsubscribe.html",
            email=address,
            action=self.notifier.unsubscribe_url(address),
        )
