"""The ideas service's WSGI app: a JSON API behind nginx (at /idee-api/).

Reads that are the same for every reader (nginx caches them to the end of
the current second: ``X-Accel-Expires: @<second>``; ``Cache-Control:
public, max-age=0, s-maxage=1``: browsers revalidate, a CDN keeps it a second):

``GET /config``
    ``{"categories": {key: {"it", "en"}}, "statuses": [...], "budget": 10}``
``GET /ideas[?status=S][&category=C]``
    ``{"ideas": [idea, ...]}``, public ideas, newest first.
``GET /ideas/<id>``
    one idea; 404 for an unknown one or one still in the queue.
``GET /snapshot``
    ``{"generated", "budget", "recent_days", "ideas": [idea + "recent"]}``:
    every public idea, oldest first, with its whole history and ``recent``,
    the support it received in the last ``recent_days`` days (still
    active). What the build renders the board from (piazza/ideasnapshot.py).
``GET /counts?ids=1,2,3``
    ``{"counts": {"1": {"supporters": n, "confirmed": m}, ...}}`` for up to
    200 ideas in one request (the board's one request per page). An idea
    leaves the map if it is unknown or queued.

``GET /polls``
    ``{"generated", "polls": {id: poll}}``: every poll the build published
    (``IDEAS_POLLS_FILE``) with its totals; what the build renders the polls
    in posts from (plugins/polls/results.py).
``GET /polls/<id>``
    one poll: ``{"poll", "options": [keys], "closes", "closed", "totals":
    {key: n}, "voters"}``; 404 ``unknown_poll``.

An idea is ``{"id", "title", "description_html", "category", "lang",
"author", "status", "duplicate_of", "created", "published", "counts":
{"supporters", "confirmed"}, "history": [{"status", "answer": {"it", "en"},
"date"}]}`` (dates ISO 8601, UTC). ``confirmed`` counts supporters with a
confirmed e-mail address, each address once.

Answers for one reader (never cached: ``Cache-Control: private,
no-store``):

``GET /challenge``
    an ALTCHA v2 challenge; its solution goes in the ``altcha`` field of
    the next write, and pays for that one write only.
``POST /ideas`` ``{"title", "description" (Markdown), "category", "lang"
(it|en), "name"?, "email"?, "altcha"}``
    202 ``{"id", "status": "pending"}``: queued for the editors.
``POST /ideas/<id>/vote`` ``{"altcha"}``
    support an idea: ``{"idea", "supported": true, "changed", "counts",
    "budget": {"total", "used", "left"}}``. Voting twice changes nothing.
``DELETE /ideas/<id>/vote``
    withdraw the support (no proof of work: it frees, never adds); refused
    (409 ``closed``) once the idea is done, declined or merged: its count
    is final, and the vote was given back already.
``POST /polls/<id>/vote`` ``{"option", "altcha"}``
    choose an option: ``{"poll", "choice", "changed", "totals",
    "voters"}``. One choice per voter per poll: choosing again moves it
    (``changed``), never adds one. Refused with 404 ``unknown_poll``, 400
    ``unknown_option``, 409 ``closed`` once the poll's ``closes`` has passed
    (whatever the page says), and as a vote on an idea is (proof of work,
    cookie, the same limits).
``GET /polls/<id>/me``
    ``{"poll", "choice"}``: this voter's choice (null: none).
``GET /me``
    ``{"ideas": [ids supported], "budget", "email", "confirmed"}``.
``POST /me/email`` ``{"email", "lang", "altcha"}``
    202: a confirmation link is mailed (double opt-in).
``GET /confirm?token=T``
    the link in that e-mail: the voter's support counts as confirmed.

The editors' pages (HTML, never cached; services/ideas/moderation.py):

``GET /moderate/[?view=board][&lang=en]``
    the moderation page (a login form without a session); ``POST`` with
    ``csrf``, ``id``, ``action`` (accept, decline, status, merge), ``status``,
    ``into``, ``answer_it``, ``answer_en``. ``POST /moderate/login``
    (``password``), ``POST /moderate/logout`` (``csrf``).
``GET /unsubscribe?token=T``
    a page with one button; ``POST`` to the same URL (RFC 8058 one-click,
    the ``List-Unsubscribe`` of every notification) unsubscribes.

The first write from a browser gives it a voter id in a signed cookie
(HttpOnly, SameSite=Strict, Path=IDEAS_PUBLIC_PATH, Secure over https).
Errors are ``{"error": code, "message": text}`` with the HTTP status:
400 invalid input, 403 proof of work or cookie refused (``pow_missing``,
``pow_invalid``, ``pow_expired``, ``pow_replayed``, ``forged_cookie``,
``unknown_voter``; the last two also clear the cookie), 404
``unknown_idea`` (or ``no_voter``: a withdrawal from a browser that never
voted), 409 ``closed`` or ``budget_spent``, 413 ``too_large`` (a body over
IDEAS_MAX_BODY), 429 ``limit`` (with Retry-After), 400 ``invalid_token``
(a confirmation link forged or too old), 502 ``mail_failed``, 503
``unavailable`` (e-mail confirmation not configured). A refused request
changes nothing. The ``message`` is English, for developers and logs; the
board's script shows its own translated text for each ``error`` code.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from services.ideas import config as configuration
from services.ideas import mail, notify, polls, rules, store
from services.ideas.db import Database
from services.ideas.model import Ballot, Counts, Idea
from services.ideas.moderation import Moderation
from services.ideas.pow import Altcha, Verifier
from services.ideas.rules import Refused
from services.ideas.voters import COOKIE, VoterCookies
from services.ideas.votes import address_range, client_address, is_trusted

logger = logging.getLogger(__name__)
MAX_COUNT_IDS = 200
# Shared reads: browsers revalidate; a CDN (s-maxage) keeps one a second.
SHARED_CACHE_CONTROL = "public, max-age=0, s-maxage=1"
MAX_ID = 2**31 - 1  # SQLite's integers are 64-bit: anything larger is no idea

URLS = Map(
    [
        Rule("/config", endpoint="config", methods=["GET"]),
        Rule("/challenge", endpoint="challenge", methods=["GET"]),
        Rule("/ideas", endpoint="list", methods=["GET"]),
        Rule("/ideas", endpoint="propose", methods=["POST"]),
        Rule("/ideas/<int(max=2147483647):number>", endpoint="read", methods=["GET"]),
        Rule(
            "/ideas/<int(max=2147483647):number>/vote",
            endpoint="vote",
            methods=["POST"],
        ),
        Rule(
            "/ideas/<int(max=2147483647):number>/vote",
            endpoint="withdraw",
            methods=["DELETE"],
        ),
        Rule("/counts", endpoint="counts", methods=["GET"]),
        Rule("/snapshot", endpoint="snapshot", methods=["GET"]),
        Rule("/me", endpoint="me", methods=["GET"]),
        Rule("/me/email", endpoint="email", methods=["POST"]),
        Rule("/confirm", endpoint="confirm", methods=["GET"]),
        Rule("/polls", endpoint="polls", methods=["GET"]),
        Rule("/polls/<string(maxlength=60):poll>", endpoint="poll", methods=["GET"]),
        Rule(
            "/polls/<string(maxlength=60):poll>/vote",
            endpoint="poll_vote",
            methods=["POST"],
        ),
        Rule(
            "/polls/<string(maxlength=60):poll>/me",
            endpoint="poll_me",
            methods=["GET"],
        ),
        # The editors' page and the e-mails' unsubscribe (moderation.py).
        Rule("/moderate/", endpoint="moderate", methods=["GET", "POST"]),
        Rule("/moderate/login", endpoint="moderate_login", methods=["POST"]),
        Rule("/moderate/logout", endpoint="moderate_logout", methods=["POST"]),
        Rule(
            "/moderate/<any(moderation,ideas):name>.css",
            endpoint="moderate_css",
            methods=["GET"],
        ),
        Rule("/unsubscribe", endpoint="unsubscribe", methods=["GET", "POST"]),
    ],
    strict_slashes=False,
)


def _date(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def _counts(counts: Counts) -> dict:
    return {"supporters": counts.supporters, "confirmed": counts.confirmed}


def idea_json(idea: Idea) -> dict:
    """An idea as the public API shows it (never the author's e-mail)."""
    return {
        "id": idea.id,
        "title": idea.title,
        "description_html": idea.description_html,
        "category": idea.category,
        "lang": idea.lang,
        "author": idea.author_name,
        "status": idea.status,
        "duplicate_of": idea.duplicate_of,
        "created": _date(idea.created),
        "published": _date(idea.published),
        "counts": _counts(idea.counts),
        "history": [
            {
                "status": change.status,
                "answer": {"it": change.answer_it, "en": change.answer_en},
                "date": _date(change.created),
            }
            for change in idea.history
            if change.status != rules.PENDING
        ],
    }


def _budget(ballot: Ballot) -> dict:
    return {"total": ballot.budget, "used": ballot.active, "left": ballot.left}


class IdeasApp:
    """The WSGI app. ``verifier`` defaults to ALTCHA with the settings'."""

    def __init__(
        self, settings: configuration.Settings, verifier: Verifier | None = None
    ) -> None:
        self.settings = settings
        self.db = Database(settings.db)
        self.db.create()
        self.verifier = verifier or Altcha(
            settings.secret,
            algorithm=settings.pow_algorithm,
            cost=settings.pow_cost,
            max_number=settings.pow_max_number,
            expires=settings.pow_expires,
        )
        self.cookies = VoterCookies(settings.secret, settings.public_path)
        self.polls = polls.PollBook(settings.polls_file)
        self.moderation = Moderation(self, settings)

    # --- plumbing ---------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = self.settings.max_body
        second = int(time.time())
        try:
            adapter = URLS.bind_to_environ(environ)
            endpoint, args = adapter.match()
            response = getattr(self, f"on_{endpoint}")(request, **args)
        except Refused as exc:
            response = self._error(request, exc.code, str(exc), exc.status)
        except RequestEntityTooLarge:
            response = self._error(
                request,
                "too_large",
                f"the body is larger than {self.settings.max_body} bytes",
                413,
            )
        except HTTPException as exc:
            response = self._error(
                request, exc.name.lower().replace(" ", "_"), exc.description, exc.code
            )
        if response.status_code == 200 and response.headers.get("X-Shared"):
            del response.headers["X-Shared"]
            # nginx keeps a shared answer to the end of this second only.
            response.headers["X-Accel-Expires"] = f"@{second}"
            # Browsers ask again each time; a CDN may keep it a second.
            response.headers["Cache-Control"] = SHARED_CACHE_CONTROL
        elif "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response(environ, start_response)

    def _json(self, data, status: int = 200, *, shared: bool = False) -> Response:
        response = Response(
            json.dumps(data, ensure_ascii=False, separators=(",", ":")),
            status=status,
            mimetype="application/json",
        )
        if shared:
            response.headers["X-Shared"] = "1"
        return response

    def _error(self, request: Request, code: str, message: str, status: int):
        response = self._json({"error": code, "message": message}, status)
        if code == "limit":
            response.headers["Retry-After"] = "3600"
        if code in ("forged_cookie", "unknown_voter"):
            response.headers.add(
                "Set-Cookie", self.cookies.clearing(secure=self._secure(request))
            )
        if status == 413:
            # The rest of the body is not read: the connection can't be reused.
            response.headers["Connection"] = "close"
        return response

    def _trusted_peer(self, request: Request) -> bool:
        try:
            peer = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            return False
        return is_trusted(peer, self.settings.trusted_proxies)

    def _secure(self, request: Request) -> bool:
        if request.scheme == "https":
            return True
        return (
            self._trusted_peer(request)
            and request.headers.get("X-Forwarded-Proto", "") == "https"
        )

    def _range(self, request: Request) -> str:
        address = client_address(
            request.remote_addr or "0.0.0.0",  # a unix socket has no address
            request.headers.get("X-Forwarded-For"),
            self.settings.trusted_proxies,
        )
        return address_range(address)

    def _voter(self, request: Request) -> str | None:
        voter, forged = self.cookies.read(request.cookies.get(COOKIE))
        if forged:
            raise Refused(
                "forged_cookie",
                "this browser's voter cookie is not one we made (it has been "
                "cleared): try again",
                403,
            )
        return voter

    def _body(self, request: Request) -> dict:
        if request.content_length and request.content_length > self.settings.max_body:
            raise RequestEntityTooLarge()
        raw = request.get_data(cache=False)
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise Refused("invalid", "the body must be JSON") from None
        if not isinstance(data, dict):
            raise Refused("invalid", "the body must be a JSON object")
        return data

    def _with_cookie(self, response: Response, request, voter: str, new: bool):
        if new:
            response.headers.add(
                "Set-Cookie",
                self.cookies.header(voter, secure=self._secure(request)),
            )
        return response

    # --- shared reads -------------------------------------------------------

    def on_config(self, request: Request) -> Response:
        return self._json(
            {
                "categories": {
                    key: {"it": it, "en": en}
                    for key, (it, en) in rules.CATEGORIES.items()
                },
                "statuses": list(rules.STATUSES),
                "budget": self.settings.vote_budget,
            },
            shared=True,
        )

    def on_list(self, request: Request) -> Response:
        status = request.args.get("status") or None
        category = request.args.get("category") or None
        if status and status not in rules.STATUSES:
            raise Refused("invalid", f"status: one of {', '.join(rules.STATUSES)}")
        if category and category not in rules.CATEGORIES:
            raise Refused("invalid", f"category: one of {', '.join(rules.CATEGORIES)}")
        found = store.ideas(self.db.connection(), status=status, category=category)
        return self._json({"ideas": [idea_json(i) for i in found]}, shared=True)

    def on_read(self, request: Request, number: int) -> Response:
        found = store.idea(self.db.connection(), number)
        if found is None:
            raise Refused("unknown_idea", f"no idea number {number}", 404)
        return self._json(idea_json(found), shared=True)

    def on_counts(self, request: Request) -> Response:
        raw = request.args.get("ids", "")
        try:
            ids = [int(item) for item in raw.split(",") if item.strip()]
        except ValueError:
            raise Refused("invalid", "ids: numbers separated by commas") from None
        if any(not 0 < number <= MAX_ID for number in ids):
            raise Refused("invalid", f"ids: idea numbers go from 1 to {MAX_ID}")
        if len(ids) > MAX_COUNT_IDS:
            raise Refused("invalid", f"ids: at most {MAX_COUNT_IDS} in one request")
        found = store.counts(self.db.connection(), ids)
        return self._json(
            {"counts": {str(k): _counts(v) for k, v in found.items()}}, shared=True
        )

    # --- one reader's ---------------------------------------------------------

    def on_snapshot(self, request: Request) -> Response:
        now = time.time()
        found, recent = store.snapshot(self.db.connection(), now)
        return self._json(
            {
                "generated": _date(now),
                "budget": self.settings.vote_budget,
                "recent_days": store.RECENT_DAYS,
                "ideas": [
                    {**idea_json(idea), "recent": recent[idea.id]} for idea in found
                ],
            },
            shared=True,
        )

    def on_challenge(self, request: Request) -> Response:
        return self._json(self.verifier.challenge())

    def on_propose(self, request: Request) -> Response:
        voter = self._voter(request)
        data = self._body(request)
        proposal = rules.check_proposal(data)
        spent = self.verifier.verify(data.get("altcha"))
        number, voter, new = store.propose(
            self.db.connection(),
            proposal,
            store.Caller(voter, self._range(request)),
            challenge=(spent.signature, spent.expires),
            limits=self.settings.limits,
            now=time.time(),
        )
        logger.info("idea %d proposed, waiting in the queue", number)
        notifier = self.moderation.notifier
        if notifier is not None and self.settings.editors_email:  # committed
            queued = store.idea(self.db.connection(), number, queued=True)
            notifier.proposed(self.db.connection(), queued)
        response = self._json({"id": number, "status": rules.PENDING}, 202)
        return self._with_cookie(response, request, voter, new)

    def _outcome(self, number: int, outcome: store.Outcome) -> Response:
        return self._json(
            {
                "idea": number,
                "supported": number in outcome.ballot.ideas,
                "changed": outcome.changed,
                "counts": _counts(outcome.counts),
                "budget": _budget(outcome.ballot),
            }
        )

    def on_vote(self, request: Request, number: int) -> Response:
        voter = self._voter(request)
        data = self._body(request)
        spent = self.verifier.verify(data.get("altcha"))
        outcome = store.vote(
            self.db.connection(),
            number,
            store.Caller(voter, self._range(request)),
            challenge=(spent.signature, spent.expires),
            budget=self.settings.vote_budget,
            limits=self.settings.limits,
            now=time.time(),
        )
        response = self._outcome(number, outcome)
        return self._with_cookie(
            response, request, outcome.ballot.voter, outcome.new_voter
        )

    def on_withdraw(self, request: Request, number: int) -> Response:
        voter = self._voter(request)
        if voter is None:
            raise Refused("no_voter", "this browser supports no idea", 404)
        outcome = store.withdraw(
            self.db.connection(),
            number,
            voter,
            self._range(request),
            budget=self.settings.vote_budget,
            limits=self.settings.limits,
            now=time.time(),
        )
        return self._outcome(number, outcome)

    def on_me(self, request: Request) -> Response:
        voter = self._voter(request)
        if voter is None:
            held = Ballot("", (), 0, self.settings.vote_budget, None, False)
        else:
            held = store.ballot(self.db.connection(), voter, self.settings.vote_budget)
        return self._json(
            {
                "ideas": list(held.ideas),
                "budget": _budget(held),
                "email": held.email if held.confirmed else None,
                "confirmed": held.confirmed,
            }
        )

    def on_email(self, request: Request) -> Response:
        smtp = self.settings.smtp
        if smtp is None:
            raise Refused(
                "unavailable", "confirming an e-mail address is not set up here", 503
            )
        voter = self._voter(request)
        data = self._body(request)
        email = rules.check_email(str(data.get("email") or ""))
        lang = data.get("lang") if data.get("lang") in rules.LANGS else "it"
        spent = self.verifier.verify(data.get("altcha"))
        voter, new = store.ask_confirmation(
            self.db.connection(),
            store.Caller(voter, self._range(request)),
            challenge=(spent.signature, spent.expires),
            limits=self.settings.limits,
            now=time.time(),
        )
        token = self.cookies.confirmation(voter, email)
        # The language too: the reader's e-mails about ideas will be in it.
        query = urlencode({"lang": lang, "token": token})
        link = f"{self.settings.public_url}/confirm?{query}"
        try:
            mail.send(smtp, mail.confirmation_message(smtp, email, link, lang))
        except mail.MailError as exc:
            logger.error("confirmation e-mail not sent: %s", exc)
            raise Refused(
                "mail_failed", "the e-mail could not be sent: try again later", 502
            ) from None
        response = self._json({"sent": True}, 202)
        return self._with_cookie(response, request, voter, new)

    def on_confirm(self, request: Request) -> Response:
        found = self.cookies.confirmed(
            request.args.get("token", ""), self.settings.confirm_max_age
        )
        if found is None:
            raise Refused(
                "invalid_token",
                "this confirmation link is not valid or has expired: ask for a new one",
                400,
            )
        voter, email = found
        store.confirm(self.db.connection(), voter, email, time.time())
        notify.remember_language(
            self.db.connection(), email, request.args.get("lang", "it")
        )
        if self.settings.confirmed_url:
            response = Response(status=303)
            response.headers["Location"] = self.settings.confirmed_url
            return response
        return self._json({"confirmed": True, "email": email})

    # --- polls in posts (services/ideas/polls.py) ---------------------------

    def _poll_json(self, poll: polls.Known, totals: dict[str, int]) -> dict:
        return {
            "poll": poll.id,
            "options": list(poll.options),
            "closes": _date(poll.closes),
            "closed": poll.is_closed(time.time()),
            "totals": totals,
            "voters": sum(totals.values()),
        }

    def on_polls(self, request: Request) -> Response:
        now = time.time()
        known = self.polls.all()
        found = polls.every_total(self.db.connection(), known)
        return self._json(
            {
                "generated": _date(now),
                "polls": {
                    key: self._poll_json(known[key], totals)
                    for key, totals in sorted(found.items())
                },
            },
            shared=True,
        )

    def on_poll(self, request: Request, poll: str) -> Response:
        known = self.polls.get(poll)
        if known is None:
            raise Refused("unknown_poll", f"no poll {poll!r} here", 404)
        totals = polls.totals(self.db.connection(), known)
        return self._json(self._poll_json(known, totals), shared=True)

    def on_poll_vote(self, request: Request, poll: str) -> Response:
        known = self.polls.get(poll)
        voter = self._voter(request)
        data = self._body(request)
        option = polls.check(known, poll, data, time.time())
        spent = self.verifier.verify(data.get("altcha"))
        chosen = polls.choose(
            self.db.connection(),
            known,
            option,
            store.Caller(voter, self._range(request)),
            challenge=(spent.signature, spent.expires),
            limits=self.settings.limits,
            now=time.time(),
        )
        response = self._json(
            {
                "poll": known.id,
                "choice": chosen.choice,
                "changed": chosen.changed,
                "totals": chosen.totals,
                "voters": sum(chosen.totals.values()),
            }
        )
        return self._with_cookie(response, request, chosen.voter, chosen.new_voter)

    def on_poll_me(self, request: Request, poll: str) -> Response:
        known = self.polls.get(poll)
        if known is None:
            raise Refused("unknown_poll", f"no poll {poll!r} here", 404)
        voter = self._voter(request)
        choice = (
            None
            if voter is None
            else polls.choice_of(self.db.connection(), known, voter)
        )
        return self._json({"poll": known.id, "choice": choice})

    # --- the editors' page and unsubscribing (moderation.py) ----------------

    def on_moderate(self, request: Request) -> Response:
        return self.moderation.page(request)

    def on_moderate_login(self, request: Request) -> Response:
        return self.moderation.login(request)

    def on_moderate_logout(self, request: Request) -> Response:
        return self.moderation.logout(request)

    def on_moderate_css(self, request: Request, name: str) -> Response:
        return self.moderation.css(request, name)

    def on_unsubscribe(self, request: Request) -> Response:
        return self.moderation.unsubscribe(request)


def create_app(environ: Mapping[str, str] | None = None) -> IdeasApp:
    """The app configured from ``environ`` (default: os.environ)."""
    settings = configuration.from_environ(os.environ if environ is None else environ)
    return IdeasApp(settings)
