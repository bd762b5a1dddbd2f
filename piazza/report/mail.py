"""The weekly digest: the report by SMTP, HTML with a plain-text part.

Settings from the environment, named as the ideas service's IDEAS_SMTP_*:
REPORT_SMTP_HOST, REPORT_SMTP_PORT (25), REPORT_SMTP_USERNAME,
REPORT_SMTP_PASSWORD, REPORT_SMTP_STARTTLS (true/false), REPORT_SMTP_FROM and
REPORT_MAIL_TO (addresses separated by commas). Sending is the ideas
service's own (services/ideas/mail.py): one SMTP client in the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from piazza.report import ReportError
from services.ideas.config import Smtp
from services.ideas.mail import MailError
from services.ideas.mail import send as send_smtp

TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


def settings_from(env: Mapping[str, str]) -> tuple[Smtp, tuple[str, ...]]:
    """The SMTP settings and the recipients; ReportError names the variable
    that is wrong."""
    host = env.get("REPORT_SMTP_HOST", "").strip()
    sender = env.get("REPORT_SMTP_FROM", "").strip()
    to = tuple(a.strip() for a in env.get("REPORT_MAIL_TO", "").split(",") if a.strip())
    for name, value in (
        ("REPORT_SMTP_HOST", host),
        ("REPORT_SMTP_FROM", sender),
        ("REPORT_MAIL_TO", to),
    ):
        if not value:
            raise ReportError(
                f"--mail: set {name} in the environment (see the README, "
                '"The leader\'s report").'
            )
    bad = [a for a in to if "@" not in a]
    if bad:
        raise ReportError(f"REPORT_MAIL_TO: {', '.join(bad)} is not an e-mail address")
    port = env.get("REPORT_SMTP_PORT", "25").strip() or "25"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ReportError(f"REPORT_SMTP_PORT: {port!r} is not a port number")
    starttls = env.get("REPORT_SMTP_STARTTLS", "false").strip().lower()
    if starttls not in TRUE + FALSE:
        raise ReportError(f"REPORT_SMTP_STARTTLS: {starttls!r} is not true or false")
    smtp = Smtp(
        host=host,
        port=int(port),
        username=env.get("REPORT_SMTP_USERNAME", ""),
        password=env.get("REPORT_SMTP_PASSWORD", ""),
        starttls=starttls in TRUE,
        sender=sender,
    )
    return smtp, to


def digest(
    smtp: Smtp, to: tuple[str, ...], subject: str, text: str, html: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2].strip(">"))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(smtp: Smtp, message: EmailMessage) -> None:
    try:
        send_smtp(smtp, message, timeout=30.0)
    except MailError as exc:
        raise ReportError(
            f"--mail: the digest was not sent ({exc}); the report file is written."
        ) from None
