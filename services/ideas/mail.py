"""Sending the confirmation e-mail (smtplib; settings from IDEAS_SMTP_*).

The text is in the reader's language (it or en); the link is the only
thing in it that came from the request, and it is our own signed URL.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from services.ideas.config import Smtp

SUBJECT = {
    "it": "Conferma il tuo indirizzo per sostenere le idee",
    "en": "Confirm your address to support ideas",
}
BODY = {
    "it": (
        "Ciao,\n\nqualcuno (speriamo tu) ha chiesto di confermare questo indirizzo "
        "per contare il proprio sostegno alle idee come confermato.\n"
        "Per confermare, apri questo link entro due giorni:\n\n{link}\n\n"
        "Se non sei stato tu, ignora questo messaggio: non riceverai altro.\n"
    ),
    "en": (
        "Hello,\n\nsomeone (we hope you) asked to confirm this address so that "
        "their support for ideas counts as confirmed.\n"
        "To confirm, open this link within two days:\n\n{link}\n\n"
        "If it wasn't you, ignore this message: you will get nothing else.\n"
    ),
}


class MailError(Exception):
    """The SMTP server could not take the message (the message says why)."""


def confirmation_message(smtp: Smtp, to: str, link: str, lang: str) -> EmailMessage:
    lang = lang if lang in SUBJECT else "it"
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = SUBJECT[lang]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2].strip(">"))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(BODY[lang].format(link=link))
    message["Content-Language"] = lang  # after set_content, which clears Content-*
    return message


def send(smtp: Smtp, message: EmailMessage, timeout: float = 15.0) -> None:
    send_all(smtp, [message], timeout)


def send_all(
    smtp: Smtp, messages: list[EmailMessage], timeout: float = 15.0
) -> list[str]:
    """Send ``messages`` over one connection: the recipients the server
    refused (logged by the caller). MailError if it took none of them."""
    refused = []
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.username:
                server.login(smtp.username, smtp.password)
            for message in messages:
                try:
                    server.send_message(message)
                except smtplib.SMTPRecipientsRefused:
                    refused.append(str(message["To"]))
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from None
    if messages and len(refused) == len(messages) and len(messages) == 1:
        raise MailError(f"SMTP {smtp.host}:{smtp.port} refused {refused[0]}")
    return refused
