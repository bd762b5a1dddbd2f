"""The rules of ideas: categories, statuses, what a proposal must be.

Pure functions and constants: no database, no HTTP.
"""

from __future__ import annotations

import re
import unicodedata

import markdown

from sanitize import plain_text, sanitize_html
from services.ideas.model import Proposal

LANGS = ("it", "en")
# A fixed list: the board groups by these (labels: it, en).
CATEGORIES: dict[str, tuple[str, str]] = {
    "moto": ("Moto", "Motorcycles"),
    "accessori": ("Accessori", "Accessories"),
    "abbigliamento": ("Abbigliamento", "Apparel"),
    "servizi": ("Servizi e officina", "Service and workshop"),
    "eventi": ("Eventi e raduni", "Events and rides"),
    "sito": ("Sito e comunità", "Site and community"),
}
PENDING = "pending"  # in the moderation queue, not public
STATUSES = (
    "proposed",
    "under-review",
    "planned",
    "in-progress",
    "done",
    "declined",
    "duplicate",
)
# A vote for an idea in one of these no longer uses up the voter's budget,
# and no new vote is taken for it.
CLOSED = frozenset({"done", "declined", "duplicate"})
# What an editor may set with `--status` (duplicate goes through merge).
SETTABLE = frozenset(STATUSES) - {"duplicate"}

MAX_TITLE = 140
MAX_DESCRIPTION = 8000
MAX_NAME = 80
MAX_EMAIL = 254
MAX_ANSWER = 2000
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


class Refused(Exception):
    """A request the rules refuse; ``code`` is stable, the message is for people."""

    status = 400

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        if status is not None:
            self.status = status


def _text(data: dict, field: str, limit: int, *, required: bool) -> str:
    value = data.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Refused("invalid", f"{field}: must be a string")
    value = value.strip()
    if required and not value:
        raise Refused("invalid", f"{field}: required")
    if len(value) > limit:
        raise Refused("invalid", f"{field}: at most {limit} characters")
    return value


def check_email(value: str, field: str = "email") -> str:
    value = value.strip()
    if len(value) > MAX_EMAIL or not _EMAIL.match(value):
        raise Refused("invalid", f"{field}: not an e-mail address")
    return value


def render_markdown(text: str) -> str:
    """A reader's Markdown as HTML the site can show: raw HTML in it is
    escaped by nothing here, so the one sanitiser removes what is unsafe."""
    return sanitize_html(markdown.markdown(text, extensions=["sane_lists"]))


def check_proposal(data: dict) -> Proposal:
    """A proposal from a request's JSON, or Refused naming the field."""
    if not isinstance(data, dict):
        raise Refused("invalid", "the body must be a JSON object")
    title = plain_text(_text(data, "title", MAX_TITLE, required=True))
    if not title:
        raise Refused("invalid", "title: required (text, not markup)")
    description = _text(data, "description", MAX_DESCRIPTION, required=True)
    category = _text(data, "category", 40, required=True)
    if category not in CATEGORIES:
        raise Refused(
            "invalid", f"category: one of {', '.join(CATEGORIES)} (not {category!r})"
        )
    lang = _text(data, "lang", 5, required=True)
    if lang not in LANGS:
        raise Refused("invalid", f"lang: it or en (not {lang!r})")
    name = plain_text(_text(data, "name", MAX_NAME, required=False))
    email = _text(data, "email", MAX_EMAIL, required=False)
    if email:
        email = check_email(email)
    html = render_markdown(description)
    if not plain_text(html):
        raise Refused("invalid", "description: nothing left once markup is removed")
    return Proposal(title, description, html, category, lang, name, email)


def check_answer(text: str | None, field: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_ANSWER:
        raise Refused("invalid", f"{field}: at most {MAX_ANSWER} characters")
    return text


def slugify(title: str) -> str:
    """An ASCII slug for a file name: "Più luce!" -> "piu-luce"."""
    ascii_text = (
        unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].rstrip("-") or "idea"
