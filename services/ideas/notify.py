"""E-mail about ideas: supporters hear when an idea they support changes
status, editors hear of each new proposal.

Sent after the decision's transaction has committed, by whoever made it
(the moderation page, `invoke ideas`, a reader's proposal): a send that
fails is logged and changes nothing already decided.

Each message is in its reader's language (a supporter's: the one their
browser asked for when they confirmed the address; editors':
IDEAS_EDITORS_LANG), with a plain text and an HTML part rendered from
services/ideas/templates/mail/ (the HTML autoescaped: a proposal's title
and text arrive as inert text), the company's answer, a link to the
idea's page, and RFC 8058 one-click unsubscription: ``List-Unsubscribe``
with the service's ``/unsubscribe?token=…`` (a signed token naming the
address, no login) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``.
An address that unsubscribed gets nothing more.
"""

from __future__ import annotations

import email.policy
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeSerializer

from piazza import editorpages
from services.ideas import config as configuration
from services.ideas import content, mail
from services.ideas.config import Settings, Smtp
from services.ideas.db import immediate
from services.ideas.mail import MailError
from services.ideas.model import Idea
from services.ideas.rules import LANGS, slugify

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Headers are folded at SMTP's hard limit, not at 78: List-Unsubscribe's
# long URL must stay one <https://…> for mail clients (RFC 2369), never
# an encoded word.
_POLICY = email.policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Recipient:
    email: str
    lang: str


# --- who reads what (the service's database) ---------------------------------


def remember_language(db: sqlite3.Connection, email: str, lang: str) -> None:
    """The language a confirmed reader's mail will be in."""
    if lang not in LANGS:
        return
    with immediate(db):
        db.execute(
            "INSERT INTO mail_preferences (email, lang) VALUES (?, ?) "
            "ON CONFLICT (email) DO UPDATE SET lang = excluded.lang",
            (email.lower(), lang),
        )


def unsubscribe(db: sqlite3.Connection, email: str, now: float) -> None:
    """No more e-mail to ``email`` (a one-click unsubscription)."""
    with immediate(db):
        db.execute(
            "INSERT INTO mail_preferences (email, unsubscribed) VALUES (?, ?) "
            "ON CONFLICT (email) DO UPDATE SET "
            "unsubscribed = COALESCE(unsubscribed, excluded.unsubscribed)",
            (email.lower(), now),
        )


def unsubscribed(db: sqlite3.Connection, email: str) -> bool:
    row = db.execute(
        "SELECT unsubscribed FROM mail_preferences WHERE email = ?", (email.lower(),)
    ).fetchone()
    return bool(row and row[0] is not None)


def supporters(db: sqlite3.Connection, number: int) -> list[Recipient]:
    """The confirmed addresses supporting idea ``number`` (each once), in
    their language, without those who unsubscribed."""
    return [
        Recipient(email, lang or "it")
        for email, lang in db.execute(
            """SELECT DISTINCT v.email, p.lang FROM votes v
               LEFT JOIN mail_preferences p ON p.email = v.email
               WHERE v.idea_id = ? AND v.email IS NOT NULL
                 AND p.unsubscribed IS NULL
               ORDER BY v.email""",
            (number,),
        )
    ]


# --- the messages ----------------------------------------------------------------


class Notifier:
    """Renders and sends the service's notifications (``smtp`` set)."""

    def __init__(self, settings: Settings) -> None:
        if settings.smtp is None:
            raise ValueError("notifications need IDEAS_SMTP_HOST")
        self.settings = settings
        self.smtp: Smtp = settings.smtp
        self.tokens = URLSafeSerializer(
            settings.secret, salt="piazza-ideas-unsubscribe"
        )
        self.templates = editorpages.environments([TEMPLATES])

    # tokens

    def token(self, email: str) -> str:
        return self.tokens.dumps(email.lower())

    def address(self, token: str) -> str | None:
        """The address a token was made for, or None if forged."""
        try:
            email = self.tokens.loads(token)
        except BadSignature:
            return None
        return email if isinstance(email, str) else None

    def unsubscribe_url(self, email: str) -> str:
        return f"{self.settings.public_url}/unsubscribe?" + urlencode(
            {"token": self.token(email)}
        )

    # links

    def idea_url(self, idea: Idea, lang: str) -> str:
        pattern = self.settings.idea_url.get(lang, "")
        if not pattern:
            return ""
        slug = slugify(idea.title)
        if self.settings.content_dir is not None:  # the slug the board uses
            for path in content.find(idea.id, self.settings.content_dir):
                head = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
                for line in head.splitlines():
                    key, _, value = line.partition(":")
                    if key.strip() == "Slug" and value.strip():
                        slug = value.strip()
        return pattern.format(slug=slug, id=idea.id)

    # rendering

    def _message(
        self, to: Recipient, name: str, *, list_id: str, **context
    ) -> EmailMessage:
        env = self.templates[to.lang]
        context = {"lang": to.lang, **context}
        subject = env.get_template(f"mail/{name}.subject.txt").render(context)
        message = EmailMessage(policy=_POLICY)
        message["From"] = self.smtp.sender
        message["To"] = to.email
        # One line: a title with CR/LF in it can't add a header.
        message["Subject"] = " ".join(subject.split())
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._domain())
        message["Auto-Submitted"] = "auto-generated"
        message["List-Id"] = f"<{list_id}.{self._domain()}>"
        unsubscribe = self.unsubscribe_url(to.email)
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        if unsubscribe.startswith("https://"):  # RFC 8058 asks for https
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        context["unsubscribe"] = unsubscribe
        message.set_content(
            env.get_template(f"mail/{name}.txt").render(context),
            cte="quoted-printable",
        )
        message.add_alternative(
            env.get_template(f"mail/{name}.html").render(context),
            subtype="html",
            cte="quoted-printable",
        )
        message["Content-Language"] = to.lang
        return message

    def _domain(self) -> str:
        return self.smtp.sender.rpartition("@")[2].strip(" >") or "localhost"

    def status_message(
        self, to: Recipient, idea: Idea, link: str | None = None
    ) -> EmailMessage:
        latest = idea.history[-1] if idea.history else None
        answer = ""
        if latest is not None:
            other = "en" if to.lang == "it" else "it"
            answers = {"it": latest.answer_it, "en": latest.answer_en}
            answer = answers[to.lang] or answers[other]
        return self._message(
            to,
            "status",
            list_id="ideas-status",
            idea=idea,
            answer=answer,
            link=self.idea_url(idea, to.lang) if link is None else link,
        )

    def proposal_message(self, to: Recipient, idea: Idea) -> EmailMessage:
        return self._message(
            to,
            "proposal",
            list_id="ideas-proposals",
            idea=idea,
            moderate=f"{self.settings.public_url}/moderate/",
        )

    # sending

    def _send(self, messages: list[EmailMessage]) -> int:
        """Send ``messages`` over one connection; how many went. A failure
        is logged, never raised: the decision stands."""
        if not messages:
            return 0
        try:
            refused = mail.send_all(self.smtp, messages)
        except MailError as exc:
            logger.error("notifications not sent (%d): %s", len(messages), exc)
            return 0
        for address in refused:
            logger.error("notification to %s refused by the SMTP server", address)
        return len(messages) - len(refused)

    def status_changed(self, idea: Idea, recipients: list[Recipient]) -> int:
        """Tell ``recipients`` (read with :func:`supporters`) that ``idea``
        changed status; how many e-mails went."""
        try:
            links = {lang: self.idea_url(idea, lang) for lang in LANGS}
            messages = [
                self.status_message(to, idea, links[to.lang]) for to in recipients
            ]
        except Exception:  # a bug here must not look like a refused decision
            logger.exception("idea %d: notifications not written", idea.id)
            return 0
        sent = self._send(messages)
        logger.info(
            "idea %d is %s: %d of %d supporters notified",
            idea.id,
            idea.status,
            sent,
            len(recipients),
        )
        return sent

    def proposed(self, db: sqlite3.Connection, idea: Idea) -> int:
        """Tell the editors (IDEAS_EDITORS_EMAIL) of a new proposal."""
        editors = [
            Recipient(address, self.settings.editors_lang)
            for address in self.settings.editors_email
            if not unsubscribed(db, address)
        ]
        try:
            messages = [self.proposal_message(to, idea) for to in editors]
        except Exception:  # the proposal is taken: never answer it with a 500
            logger.exception("idea %d: the editors' e-mail not written", idea.id)
            return 0
        return self._send(messages)


def from_environ(environ: Mapping[str, str]) -> tuple[Notifier | None, str]:
    """A notifier for the terminal (`invoke ideas`), or None and why not:
    it needs the service's own IDEAS_SECRET (the unsubscribe links are
    signed with it) and IDEAS_SMTP_*, from the service's environment."""
    if not environ.get("IDEAS_SMTP_HOST", "").strip():
        return None, "IDEAS_SMTP_HOST is not set in this terminal"
    if not environ.get("IDEAS_SECRET", "").strip():
        return None, "IDEAS_SECRET is not set in this terminal"
    try:
        settings = configuration.from_environ(environ)
    except configuration.ConfigError as exc:
        return None, str(exc)
    return Notifier(settings), ""
