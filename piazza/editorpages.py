"""What the editors' pages share: the comments' moderation
(piazza/isso_moderation.py) and the ideas' (services/ideas/moderation.py).

Both are plain forms under the site's strict CSP, behind one password:

* :func:`attempt`: the password checked with a lockout per address range,
  the failures counted and recorded in one BEGIN IMMEDIATE transaction (so
  concurrent guesses in several workers cannot race past the limit), in a
  table of ``(kind, subject, created)`` events the service already has;
* :func:`csrf_token`, :func:`same_origin`: a POST must carry a token tied to
  the session and come from one of the site's own pages;
* :func:`session_cookie`: HttpOnly, SameSite=Strict, scoped to a path,
  Secure under https;
* :func:`environments`: Jinja2 with the theme's gettext catalogs, one per
  language, the templates of the caller first and the shared ones
  (piazza/templates/moderation/: base, login, refused, the stylesheet)
  after them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from werkzeug.http import dump_cookie
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Request, Response

from piazza.commentstore import immediate
from piazza.templating import translated_environment

ROOT = Path(__file__).resolve().parents[1]
SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates" / "moderation"
TRANSLATIONS = ROOT / "theme" / "translations"
LANGUAGES = ("it", "en")

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = 15 * 60
# The tables of (kind, subject, created) events a lockout may be kept in.
_EVENT_TABLES = ("piazza_events", "events")


@dataclass(frozen=True)
class Lockout:
    """The outcome of one login attempt."""

    allowed: bool  # the password was right and the range not locked
    locked_for: float = 0  # seconds left, when locked
    left: int = 0  # failures left before the lockout, after a wrong password


def password_matches(given: str, expected: str) -> bool:
    """``given`` against the configured password: a Werkzeug hash
    (``scrypt:…`` or ``pbkdf2:…``, from ``werkzeug.security.
    generate_password_hash``) or the secret itself. No password: never."""
    if not expected:
        return False
    if expected.startswith(("scrypt:", "pbkdf2:")):
        try:
            return check_password_hash(expected, given)
        except ValueError:  # a hash this Werkzeug can't read
            return False
    return hmac.compare_digest(given.encode(), expected.encode())


def attempt(
    db: sqlite3.Connection,
    table: str,
    subject: str,
    right: bool,
    *,
    failures: int = LOCKOUT_FAILURES,
    window: float = LOCKOUT_WINDOW,
    now: float | None = None,
) -> Lockout:
    """One login from ``subject`` (an address range) whose password was
    ``right`` or not: allowed unless ``failures`` failures happened within
    ``window`` seconds. Counted and recorded in one transaction."""
    if table not in _EVENT_TABLES:
        raise ValueError(f"no lockout table {table!r}")
    now = time.time() if now is None else now
    with immediate(db):
        db.execute(  # failures that no longer count are forgotten
            f"DELETE FROM {table} WHERE kind = 'login-failure' AND created <= ?",
            (now - window,),
        )
        recent = [
            created
            for (created,) in db.execute(
                f"SELECT created FROM {table} WHERE kind = 'login-failure'"
                " AND subject = ? AND created > ? ORDER BY created DESC LIMIT ?",
                (subject, now - window, failures),
            )
        ]
        if len(recent) >= failures:
            return Lockout(False, locked_for=recent[-1] + window - now)
        if right:
            db.execute(
                f"DELETE FROM {table} WHERE kind = 'login-failure' AND subject = ?",
                (subject,),
            )
            return Lockout(True)
        db.execute(
            f"INSERT INTO {table} (kind, subject, created)"
            " VALUES ('login-failure', ?, ?)",
            (subject, now),
        )
    return Lockout(False, left=failures - len(recent) - 1)


def login_answer(
    outcome: Lockout,
    subject: str,
    *,
    log: logging.Logger,
    who: str,
    render: Callable[..., Response],
    success: Callable[[], Response],
) -> Response:
    """The answer to a login :func:`attempt`: ``success()``, or the login
    page again (``render(template, status, **context)``) saying how many
    tries are left (403) or for how long the range is locked out (429)."""
    if outcome.allowed:
        log.info("%s login from %s", who, subject)
        return success()
    if outcome.locked_for:
        minutes = max(1, round(outcome.locked_for / 60))
        log.warning(
            "%s login refused: %s is locked out for %d more minutes",
            who,
            subject,
            minutes,
        )
        response = render("login.html", 429, locked=minutes)
        response.headers["Retry-After"] = str(int(outcome.locked_for) + 1)
        return response
    log.warning(
        "%s login failure from %s (%d left before the lockout)",
        who,
        subject,
        outcome.left,
    )
    return render("login.html", 403, wrong=True, left=outcome.left)


def csrf_token(key: bytes, purpose: str, session: str) -> str:
    """The token a page's forms carry: tied to the session it was shown in."""
    return hmac.new(key, f"{purpose}|{session}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(key: bytes, purpose: str, session: str, given: str) -> bool:
    return hmac.compare_digest(given, csrf_token(key, purpose, session))


def same_origin(request: Request, origins: Iterable[str]) -> bool:
    """A POST from one of our own pages (the browser says so): its Origin is
    one of ``origins``; without one, Sec-Fetch-Site must not say otherwise."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin in set(origins)
    return request.headers.get("Sec-Fetch-Site", "same-origin") in (
        "same-origin",
        "none",
    )


def session_cookie(
    name: str, value: str, *, max_age: int, path: str, secure: bool
) -> str:
    """A Set-Cookie value for an editor's session (empty, max_age 0: gone)."""
    return dump_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=secure,
        httponly=True,
        samesite="Strict",
    )


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def utc(timestamp: float) -> str:
    """A date and time to read: 2026-11-29 10:32 UTC."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def environments(
    templates: Iterable[Path], filters: dict[str, Callable] | None = None
) -> dict[str, jinja2.Environment]:
    """One Jinja2 environment per language, with the theme's catalogs (read
    from the .po sources, as the build does): ``templates`` first, then the
    shared pages."""
    folders = [*templates, SHARED_TEMPLATES]
    environments = {}
    for lang in LANGUAGES:
        env = translated_environment(
            folders,
            lang,
            # HTML escaped (pages, an e-mail's HTML part); a .txt is plain text.
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), disabled_extensions=("txt",)
            ),
        )
        env.filters["iso"] = iso
        env.filters["utc"] = utc
        env.filters.update(filters or {})
        environments[lang] = env
    return environments
