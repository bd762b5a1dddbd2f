"""The guard in front of Isso in production: spam, proof of work, limits, bans.

A WSGI layer (piazza/isso_wsgi.py composes it outermost) that judges every
write before Isso sees it, so a refused request leaves no row behind (Isso
itself creates a thread, with the sender's URI and title, before its own guard
refuses). Isso's guard stays on behind it as a second line (deploy/isso.cfg).

On ``POST /new``, in this order:

1. the thread must be one of the site's posts, when the build's list of
   threads is known (``PIAZZA_THREADS_FILE``, JSON ``{"threads": {uri:
   title}}``, written by plugins/commentthreads; re-read when it changes;
   unset or missing: every URI is allowed, with a warning). The title Isso
   stores comes from that list, never from the sender;
2. the commenter is not banned (:func:`piazza.commentstore.is_banned`: the
   e-mail, or the address Isso records, by range);
3. the name and e-mail Isso's guard requires are there;
4. the comment passes the blocklist (piazza/spamfilter.py; the file in
   ``PIAZZA_BLOCKLIST``, default deploy/comments-blocklist.toml, re-read
   within a second of a change);
5. the request carries an unspent proof of work (below), unless
   ``PIAZZA_PROOF_OF_WORK=off`` (development);
6. in ONE ``BEGIN IMMEDIATE`` transaction shared by every gunicorn worker:
   the proof is spent (piazza_spent_challenges) and the reader's posts of the
   last minute are counted (piazza_events, Isso's ``[guard] ratelimit``, when
   Isso's guard is enabled) and this one recorded. A burst cannot race past.

On an edit (``PUT /id/N``, the author's; ``POST /id/N/edit/KEY``, the
moderator's) the same bans (author's edit) and blocklist apply, and an edit
that gives a comment more links than it had (the empty comment edited into
spam, isso-comments/isso#1038) sends it back to moderation when moderation
is on.

Proof of work: self-hosted ALTCHA (PyPI ``altcha``, its v1 challenges:
SHA-256 over salt + number, signed with ``PIAZZA_ALTCHA_HMAC_KEY``).
``GET /pow/challenge`` gives a challenge; theme/static/js/comments-pow.js
solves it in the reader's browser and sends ``POST /pow/verify``
(``{"payload": <ALTCHA's base64 payload>}``); the answer sets a signed,
HttpOnly, SameSite=Strict cookie scoped to the comment server's path (Secure
over https) that lives as long as the challenge (10 minutes) and pays for
one comment.

Every refusal is ``403`` with a JSON body ``{"error": CODE, "reason": ...,
"message": ...}``; the codes (stable, the widget maps them to messages):

- ``thread``: the URI is not a post of the site;
- ``banned``: the commenter is banned;
- ``invalid``: a required field is missing (reason ``author-required`` or
  ``email-required``);
- ``spam``: the blocklist refuses it (reason: piazza/spamfilter.py's codes);
- ``pow``: no proof, a forged or expired one (reason ``missing``,
  ``invalid``), or one already spent (``spent``);
- ``rate-limit``: too many comments from this reader in the last minute.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from configparser import Error as ConfigError
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import altcha
from isso.utils import anonymize
from werkzeug.http import parse_cookie
from werkzeug.wrappers import Request

from piazza import commentstore, spamfilter

logger = logging.getLogger("piazza.isso.guard")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BLOCKLIST = ROOT / "deploy" / "comments-blocklist.toml"
COOKIE = "piazza-pow"
CHALLENGE_LIFETIME = 600  # seconds: to solve, then to post with the proof
DEFAULT_DIFFICULTY = 50_000  # ALTCHA's max number: ~25,000 hashes on average
MAX_BODY = 64 << 10  # nginx's client_max_body_size for /comments/
EDIT = re.compile(r"^/id/(\d+)$")
MODERATOR_EDIT = re.compile(r"^/id/(\d+)/edit/[^/]+$")


class GuardError(Exception):
    """A setting the guard cannot start with (the message says which)."""


class Refused(Exception):
    def __init__(self, error: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.body = {"error": error, "reason": reason, "message": message}


class WatchedFile:
    """A file parsed again when its size or modification time changes
    (checked at most once a second). A file broken at start raises; one
    broken or gone later is logged and the last good value kept."""

    def __init__(self, path: Path, parse: Callable[[str], Any], missing: Any) -> None:
        self.path, self.parse, self.missing = path, parse, missing
        self.lock = threading.Lock()
        self.stamp: tuple | None = None
        self.checked = 0.0
        self.value = self._load(self._stamp(), at_start=True)

    def _stamp(self) -> tuple | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _load(self, stamp: tuple | None, at_start: bool = False) -> Any:
        self.stamp = stamp
        if stamp is None:
            logger.warning("%s: no such file", self.path)
            return self.missing
        return self.parse(self.path.read_text(encoding="utf-8"))

    def get(self) -> Any:
        now = time.monotonic()
        if now - self.checked < 1.0:
            return self.value
        with self.lock:
            self.checked = now
            stamp = self._stamp()
            if stamp is None and self.stamp is not None:
                # Gone for now (a release being switched): keep what we know.
                logger.warning("%s: gone; keeping the version read before", self.path)
                self.stamp = None
            elif stamp != self.stamp:
                try:
                    self.value = self._load(stamp)
                    logger.info("%s: read again", self.path)
                except (
                    OSError,
                    UnicodeError,
                    GuardError,
                    spamfilter.BlocklistError,
                ) as error:
                    logger.error(
                        "%s: %s (keeping the previous version)", self.path, error
                    )
        return self.value


def parse_threads(text: str, source: str = "threads file") -> dict[str, str]:
    """``{uri: title}`` from the build's threads file."""
    try:
        data = json.loads(text)
        threads = data["threads"]
        if not all(
            isinstance(k, str) and isinstance(v, str) for k, v in threads.items()
        ):
            raise ValueError("uris and titles must be strings")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise GuardError(
            f'{source}: not a threads file ({{"threads": {{uri: title}}}}): {error}'
        ) from None
    return dict(threads)


@dataclass(frozen=True)
class Settings:
    """What the guard needs, from Isso's configuration and the environment."""

    dbpath: str
    blocklist: Path = DEFAULT_BLOCKLIST
    threads: Path | None = None
    proof_of_work: bool = True
    hmac_key: str = ""
    difficulty: int = DEFAULT_DIFFICULTY
    ratelimit: int | None = None  # posts a minute per reader; None: no limit
    require_author: bool = False
    require_email: bool = False
    moderated: bool = False
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def from_isso(cls, conf, environ=os.environ) -> Settings:
        guard = conf.getboolean("guard", "enabled")
        pow_setting = environ.get("PIAZZA_PROOF_OF_WORK", "on").strip().lower()
        if pow_setting not in ("on", "off"):
            raise GuardError(f"PIAZZA_PROOF_OF_WORK={pow_setting!r}: give on or off")
        key = environ.get("PIAZZA_ALTCHA_HMAC_KEY", "")
        if pow_setting == "on" and len(key) < 16:
            raise GuardError(
                "PIAZZA_ALTCHA_HMAC_KEY is unset or shorter than 16 characters: set "
                "it (e.g. `openssl rand -hex 32`) in the service's environment, or "
                "PIAZZA_PROOF_OF_WORK=off in development"
            )
        threads = environ.get("PIAZZA_THREADS_FILE")
        try:
            proxies = tuple(conf.getiter("server", "trusted-proxies"))
        except ConfigError:
            proxies = ()
        return cls(
            dbpath=conf.get("general", "dbpath"),
            blocklist=Path(environ.get("PIAZZA_BLOCKLIST") or DEFAULT_BLOCKLIST),
            threads=Path(threads) if threads else None,
            proof_of_work=pow_setting == "on",
            hmac_key=key,
            difficulty=int(environ.get("PIAZZA_POW_DIFFICULTY", DEFAULT_DIFFICULTY)),
            ratelimit=conf.getint("guard", "ratelimit") if guard else None,
            require_author=guard and conf.getboolean("guard", "require-author"),
            require_email=guard and conf.getboolean("guard", "require-email"),
            moderated=conf.getboolean("moderation", "enabled"),
            trusted_proxies=proxies,
        )


class Proofs:
    """ALTCHA challenges and the cookie that carries a solved one."""

    def __init__(self, key: str, difficulty: int) -> None:
        self.key = key
        self.difficulty = difficulty
        # The cookie's MAC uses its own key, derived from the one ALTCHA signs with.
        self.cookie_key = hashlib.sha256(b"piazza-pow-cookie\0" + key.encode()).digest()

    def challenge(self) -> dict:
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(
            seconds=CHALLENGE_LIFETIME
        )
        made = altcha.create_challenge_v1(
            hmac_key=self.key, max_number=self.difficulty, expires=expires
        )
        return made.to_dict()

    def verify(self, payload: str) -> tuple[str, int]:
        """The solved challenge's signature and expiry; Refused if not solved."""
        ok, _error = altcha.verify_solution_v1(payload, self.key, check_expires=True)
        if not ok:
            raise Refused("pow", "invalid", "the proof of work is not valid")
        data = json.loads(base64.b64decode(payload))
        expires = altcha.extract_params_v1(data).get("expires", ["0"])[0]
        return str(data["signature"]), int(expires)

    def _mac(self, signature: str, expires: int) -> str:
        message = f"{signature}.{expires}".encode()
        return hmac.new(self.cookie_key, message, hashlib.sha256).hexdigest()

    def cookie(self, signature: str, expires: int) -> str:
        return f"{signature}.{expires}.{self._mac(signature, expires)}"

    def check(self, value: str | None) -> tuple[str, int]:
        """The signature and expiry a cookie proves; Refused if it proves none."""
        if not value:
            raise Refused("pow", "missing", "solve the proof of work before posting")
        try:
            signature, expires_text, mac = value.split(".")
            expires = int(expires_text)
        except ValueError:
            raise Refused("pow", "invalid", "the proof of work is not valid") from None
        if not hmac.compare_digest(mac, self._mac(signature, expires)):
            raise Refused("pow", "invalid", "the proof of work is not valid")
        if expires < time.time():
            raise Refused("pow", "invalid", "the proof of work has expired")
        return signature, expires


def reader_address(environ, trusted: tuple[str, ...]) -> str:
    """The reader's address as Isso takes it (isso/views/comments.py,
    _remote_addr), not yet anonymised."""
    request = Request(environ)
    address = request.remote_addr or ""
    if trusted:
        route = [*request.access_route, address]
        address = next((a for a in reversed(route) if a not in trusted), address)
    return address


def _comment_fields(body: bytes) -> dict:
    """A new comment's or an edit's JSON object, with its text. What the
    guard cannot read exactly as sent is refused, never passed on: Isso
    decodes bytes that are not UTF-8 leniently, so a body this guard would
    not judge would reach Isso unjudged (spam, links, bans, the proof)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise Refused(
            "invalid", "body", "send a JSON object with a text, encoded in UTF-8"
        )
    return data


def _json(start_response, status: str, body: dict, headers=()) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
            *headers,
        ],
    )
    return [data]


class Guard:
    """The WSGI layer (see the module's docstring)."""

    def __init__(self, app, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.blocklist = WatchedFile(
            settings.blocklist,
            lambda text: spamfilter.parse_blocklist(text, str(settings.blocklist)),
            spamfilter.Blocklist(),
        )
        if settings.threads is None:
            logger.warning(
                "PIAZZA_THREADS_FILE is unset: comments may open a thread at any URI"
            )
            self.threads = None
        else:
            self.threads = WatchedFile(
                settings.threads,
                lambda text: parse_threads(text, str(settings.threads)),
                None,
            )
        self.proofs = Proofs(settings.hmac_key, settings.difficulty)
        self.local = threading.local()
        with commentstore.connect(settings.dbpath) as db:
            commentstore.ensure_schema(db)
        db.close()

    # -- plumbing ---------------------------------------------------------
    def db(self):
        """This thread's connection (opened after gunicorn's fork)."""
        db = getattr(self.local, "db", None)
        if db is None or self.local.pid != os.getpid():
            db = self.local.db = commentstore.connect(self.settings.dbpath)
            self.local.pid = os.getpid()
        return db

    @staticmethod
    def _path(environ) -> str:
        path = environ.get("PATH_INFO", "/") or "/"
        script = environ.get("HTTP_X_SCRIPT_NAME", "")
        if script and path.startswith(script):
            path = path[len(script) :] or "/"
        return path

    @staticmethod
    def _body(environ) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        return environ["wsgi.input"].read(min(max(length, 0), MAX_BODY))

    @staticmethod
    def _replace_body(environ, body: bytes) -> None:
        environ["wsgi.input"] = BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

    def _cookie_attributes(self, environ, max_age: int) -> str:
        path = environ.get("HTTP_X_SCRIPT_NAME", "").rstrip("/") + "/"
        https = (
            environ.get("HTTP_X_FORWARDED_PROTO", environ.get("wsgi.url_scheme"))
            == "https"
        )
        secure = "; Secure" if https else ""
        return f"Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"

    # -- the door -----------------------------------------------------------
    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = self._path(environ)
        try:
            if method == "GET" and path == "/pow/challenge":
                return self.challenge(environ, start_response)
            if method == "POST" and path == "/pow/verify":
                return self.verify(environ, start_response)
            if method == "POST" and path == "/new":
                return self.new(environ, start_response)
            if method == "PUT" and (match := EDIT.match(path)):
                return self.edit(environ, start_response, int(match[1]), author=True)
            if method == "POST" and (match := MODERATOR_EDIT.match(path)):
                return self.edit(environ, start_response, int(match[1]), author=False)
        except Refused as refused:
            return _json(start_response, "403 FORBIDDEN", refused.body)
        return self.app(environ, start_response)

    def challenge(self, environ, start_response):
        if not self.settings.proof_of_work:
            return _json(start_response, "404 NOT FOUND", {"error": "pow-off"})
        return _json(start_response, "200 OK", self.proofs.challenge())

    def verify(self, environ, start_response):
        if not self.settings.proof_of_work:
            return _json(start_response, "404 NOT FOUND", {"error": "pow-off"})
        try:
            payload = json.loads(self._body(environ))["payload"]
            if not isinstance(payload, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise Refused(
                "pow", "invalid", 'send {"payload": <the solved challenge>}'
            ) from None
        signature, expires = self.proofs.verify(payload)
        spent = (
            self.db()
            .execute(
                "SELECT 1 FROM piazza_spent_challenges WHERE signature = ?",
                (signature,),
            )
            .fetchone()
        )
        if spent:
            raise Refused("pow", "spent", "this proof of work was already used")
        value = self.proofs.cookie(signature, expires)
        max_age = max(0, expires - int(time.time()))
        cookie = f"{COOKIE}={value}; {self._cookie_attributes(environ, max_age)}"
        return _json(
            start_response,
            "200 OK",
            {"ok": True, "expires": expires},
            [("Set-Cookie", cookie)],
        )

    def _judge(self, *, text, author, email, website) -> None:
        refusal = spamfilter.judge(
            self.blocklist.get(), text=text, author=author, email=email, website=website
        )
        if refusal:
            raise Refused("spam", refusal.reason, refusal.message)

    def _banned(self, email: str | None, address: str) -> None:
        if commentstore.is_banned(self.db(), email, address):
            raise Refused("banned", "banned", "this commenter may not comment")

    def new(self, environ, start_response):
        body = self._body(environ)
        data = _comment_fields(body)
        strings = {
            key: (data.get(key) if isinstance(data.get(key), str) else None)
            for key in ("author", "email", "website")
        }
        uri = next(
            (v for k, v in parse_qsl(environ.get("QUERY_STRING", "")) if k == "uri"),
            None,
        )
        if self.threads is not None and uri is not None:
            known = self.threads.get()
            if known is not None:
                if uri not in known:
                    raise Refused(
                        "thread", "unknown", f"{uri} is not a post of the site"
                    )
                data["title"] = known[uri]
        address = reader_address(environ, self.settings.trusted_proxies)
        self._banned(strings["email"], address)
        if self.settings.require_author and not (strings["author"] or "").strip():
            raise Refused("invalid", "author-required", "give your name")
        if self.settings.require_email and not (strings["email"] or "").strip():
            raise Refused("invalid", "email-required", "give your e-mail address")
        self._judge(text=data["text"], **strings)
        proof = None
        if self.settings.proof_of_work:
            proof = self.proofs.check(parse_cookie(environ).get(COOKIE))
        self._record(anonymize(address), proof)
        self._replace_body(environ, json.dumps(data).encode())
        if proof is None:
            return self.app(environ, start_response)
        spent = f"{COOKIE}=; {self._cookie_attributes(environ, 0)}"

        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("Set-Cookie", spent)], exc_info)

        return self.app(environ, start)

    def _record(self, subject: str, proof: tuple[str, int] | None) -> None:
        """Spend the proof and count the post, in one write transaction."""
        now = time.time()
        with commentstore.immediate(self.db()) as db:
            if proof is not None:
                db.execute(
                    "DELETE FROM piazza_spent_challenges WHERE expires < ?", (now,)
                )
                inserted = db.execute(
                    "INSERT OR IGNORE INTO piazza_spent_challenges (signature, expires)"
                    " VALUES (?, ?)",
                    proof,
                ).rowcount
                if not inserted:
                    raise Refused("pow", "spent", "this proof of work was already used")
            if self.settings.ratelimit is not None:
                db.execute(
                    "DELETE FROM piazza_events WHERE kind = 'post' AND created < ?",
                    (now - 3600,),
                )
                (recent,) = db.execute(
                    "SELECT COUNT(*) FROM piazza_events"
                    " WHERE kind = 'post' AND subject = ? AND created > ?",
                    (subject, now - 60),
                ).fetchone()
                if recent >= self.settings.ratelimit:
                    raise Refused(
                        "rate-limit",
                        "per-minute",
                        f"at most {self.settings.ratelimit} comments a minute: "
                        "wait a little",
                    )
                db.execute(
                    "INSERT INTO piazza_events (kind, subject, created)"
                    " VALUES ('post', ?, ?)",
                    (subject, now),
                )

    def edit(self, environ, start_response, comment_id: int, *, author: bool):
        body = self._body(environ)
        self._replace_body(environ, body)
        form = environ.get("CONTENT_TYPE", "").startswith(
            "application/x-www-form-urlencoded"
        )
        if not author and form:
            # The e-mailed edit link's form, without JavaScript: the
            # moderation layer inside checks the link's signed key, then asks
            # Isso with JSON (piazza/isso_moderation.py).
            return self.app(environ, start_response)
        data = _comment_fields(body)
        row = (
            self.db()
            .execute("SELECT text, email FROM comments WHERE id = ?", (comment_id,))
            .fetchone()
        )
        if row is None:
            return self.app(environ, start_response)
        before, email = row
        if author:
            self._banned(email, reader_address(environ, self.settings.trusted_proxies))
        website = data.get("website") if isinstance(data.get("website"), str) else None
        name = data.get("author") if isinstance(data.get("author"), str) else None
        self._judge(text=data["text"], author=name, email=email, website=website)
        if not (author and self.settings.moderated):
            return self.app(environ, start_response)
        if not spamfilter.adds_links(before, data["text"]):
            return self.app(environ, start_response)
        answered: list[str] = []

        def start(status, headers, exc_info=None):
            answered.append(status)
            return start_response(status, headers, exc_info)

        result = self.app(environ, start)
        if answered and answered[0].startswith("200"):
            # Links added after approval: the moderator sees it again.
            with commentstore.immediate(self.db()) as db:
                db.execute(
                    "UPDATE comments SET mode = 2 WHERE id = ? AND mode = 1",
                    (comment_id,),
                )
            logger.info(
                "comment %d: links added by an edit, back to moderation", comment_id
            )
        return result


def from_isso(app, conf, environ=os.environ) -> Guard:
    """The guard around ``app`` with Isso's configuration and the environment;
    GuardError or spamfilter.BlocklistError (naming the line) if it cannot."""
    return Guard(app, Settings.from_isso(conf, environ))
