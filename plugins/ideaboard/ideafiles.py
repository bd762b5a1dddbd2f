"""Pure logic: an accepted idea's file (``content/ideas/<slug>.<lang>.md``).

services/ideas/content.py writes them: Pelican-style metadata lines (Title,
Date, Category, Idea-Id, Lang, Slug, Proposed-By, Status, Status-Date,
Answer-It, Answer-En, Duplicate-Of), a blank line, then the body (the
description as HTML, which Markdown passes through; an editor's translation
may be Markdown). Editors may add ``Company-Pick: yes``. The body came from
a reader: it goes through plugins/sanitize again, whatever is in git.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

import lxml.html
import markdown

from ideaboard.model import IdeaText
from ideaboard.settings import STATUSES, BoardError
from sanitize import plain_text, sanitize_html

REQUIRED = ("title", "date", "idea-id", "lang")
KNOWN = frozenset(
    (*REQUIRED, "category", "slug", "proposed-by", "status", "status-date",
     "answer-it", "answer-en", "duplicate-of", "company-pick")
)  # fmt: skip
YES = frozenset(("yes", "true", "on", "1", "sì", "si"))
NO = frozenset(("", "no", "false", "off", "0"))
MAX_TITLE = 300


class IdeaFileError(BoardError):
    """An idea file the editor must fix: names the file, line and field."""


def _date(value: str, tz: tzinfo, source: str, line: int, field: str) -> datetime:
    try:
        found = datetime.fromisoformat(value.strip())
    except ValueError:
        raise IdeaFileError(
            f"{field}: {value!r} is not a date (write 2026-07-14 or 2026-07-14 09:30)",
            path=source,
            line=line,
        ) from None
    return found if found.tzinfo else found.replace(tzinfo=tz)


def render_body(body: str) -> str:
    """The body as sanitised HTML (Markdown allowed, HTML passed through).

    A link the sanitiser emptied (``javascript:``) keeps its words, not its
    ``<a>``: an ``<a rel>`` without ``href`` is invalid HTML."""
    # What the service wrote is HTML already (Markdown would pass it
    # through, slowly); an editor's translation may be Markdown.
    if body.lstrip().startswith("<"):
        rendered = body
    else:
        rendered = markdown.markdown(body, extensions=["extra"], output_format="html")
    clean = sanitize_html(rendered)
    if "<a " not in clean:
        return clean
    root = lxml.html.fragment_fromstring(clean, create_parent="div")
    for link in root.xpath("//a[not(@href)]"):
        link.drop_tag()
    lead = escape(root.text or "", quote=False)
    return lead + "".join(lxml.html.tostring(c, encoding="unicode") for c in root)


def parse(text: str, source: str, tz: tzinfo, languages: tuple[str, ...]) -> IdeaText:
    """One idea file; IdeaFileError says which line or field is wrong."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    fields: dict[str, tuple[str, int]] = {}
    for number, line in enumerate(head.splitlines(), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip() or " " in key.strip():
            raise IdeaFileError(
                f"not a metadata line ({line[:60]!r}): write 'Key: value', "
                "then a blank line before the text",
                path=source,
                line=number,
            )
        fields[key.strip().lower()] = (value.strip(), number)
    for key in REQUIRED:
        if not fields.get(key, ("",))[0]:
            raise IdeaFileError(
                f"no {key.title()}: every idea file needs one", path=source
            )

    def value(key: str) -> str:
        return fields.get(key, ("", 0))[0]

    def line(key: str) -> int:
        return fields.get(key, ("", 0))[1]

    raw_id = value("idea-id")
    if not raw_id.isdigit() or int(raw_id) < 1:
        raise IdeaFileError(
            f"Idea-Id: {raw_id!r} is not an idea number (the service's id)",
            path=source,
            line=line("idea-id"),
        )
    lang = value("lang")
    if lang not in languages:
        raise IdeaFileError(
            f"Lang: {lang!r} is not a language of the site ({', '.join(languages)})",
            path=source,
            line=line("lang"),
        )
    status = value("status") or "proposed"
    if status not in STATUSES:
        raise IdeaFileError(
            f"Status: {status!r} is not a status (one of {', '.join(STATUSES)})",
            path=source,
            line=line("status"),
        )
    duplicate = value("duplicate-of")
    if duplicate and (not duplicate.isdigit() or int(duplicate) < 1):
        raise IdeaFileError(
            f"Duplicate-Of: {duplicate!r} is not an idea number",
            path=source,
            line=line("duplicate-of"),
        )
    pick = value("company-pick").lower()
    if pick not in YES | NO:
        raise IdeaFileError(
            f"Company-Pick: {pick!r}: write yes or no",
            path=source,
            line=line("company-pick"),
        )
    slug = value("slug") or source.rsplit("/", 1)[-1].split(".", 1)[0]
    status_date = value("status-date")
    return IdeaText(
        number=int(raw_id),
        lang=lang,
        slug=slug,
        title=plain_text(value("title"))[:MAX_TITLE],
        body_html=render_body(body.strip()),
        category=value("category"),
        date=_date(value("date"), tz, source, line("date"), "Date"),
        source=source,
        proposed_by=plain_text(value("proposed-by"))[:120],
        status=status,
        status_date=_date(status_date, tz, source, line("status-date"), "Status-Date")
        if status_date
        else None,
        answer_it=plain_text(value("answer-it")),
        answer_en=plain_text(value("answer-en")),
        duplicate_of=int(duplicate) if duplicate else None,
        company_pick=pick in YES,
    )
