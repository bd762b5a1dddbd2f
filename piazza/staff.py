"""The company's people who answer readers (content/staff.toml), and the rules
that tell whether a comment's name or e-mail claims to be one of them.

Pure: text in, answers out (no Isso, no database). The server layer
(piazza/isso_staff.py) uses it to decide which comments may carry a staff
badge (only those written in an authenticated moderator session) and which
ones claim a staff identity without that proof (held for moderation).

A name claims a staff member when every word of that member's name appears
in it once both are reduced to a *skeleton*: NFKC, case-folded, accents and
punctuation dropped, and the usual look-alikes (Cyrillic and Greek letters
that look Latin, ``0``/``1``/``l``/``|``, ``rn`` for ``m``) mapped to one
letter. "CHIARA VALSECCHI", "Chiàra  Valsecchi", "Valsecchi, Chiara",
"Сhiara Valsecchi" (a Cyrillic С) and "Chiara Valsecchi (CEO)" all claim
Chiara Valsecchi. An e-mail claims a member when it is one of theirs,
ignoring case and a ``+tag``.
"""

from __future__ import annotations

import html
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

STAFF_FILE = Path(__file__).resolve().parents[1] / "content" / "staff.toml"
KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FIELDS = frozenset({"key", "name", "emails", "authors"})

# Letters of other scripts that look like Latin ones, digits and signs used
# for letters, each mapped to the Latin letter it passes for (lower case: the
# text is case-folded first). "l", "1" and "|" all become "i", so "I" and
# "l" (alike in many fonts) compare equal.
LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h",
        "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i",
        "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h",
        "ɡ": "g",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "c",
        # Digits and signs
        "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
        "@": "a", "$": "s", "!": "i", "|": "i", "l": "i",
    }
)  # fmt: skip


class StaffError(Exception):
    """content/staff.toml cannot be used (the message names the file and line)."""


@dataclass(frozen=True)
class StaffMember:
    key: str  # slug: the badge reads "staff-<key>"
    name: str
    emails: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()  # Pelican AUTHOR names whose posts are theirs


def skeleton(text: str) -> str:
    """``text`` reduced to what a reader sees: see the module's docstring.
    Isso stores names HTML-escaped, so entities are decoded first."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.translate(LOOKALIKES)
    text = "".join(c for c in text if c.isalnum())
    return text.replace("rn", "m").replace("vv", "w")


def email_key(email: str) -> str:
    """An address as compared: NFKC, case-folded, without a ``+tag``."""
    email = unicodedata.normalize("NFKC", html.unescape(email)).strip().casefold()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    return f"{local.split('+', 1)[0]}@{domain}"


class StaffDirectory:
    """The staff members, with their names and addresses ready to compare."""

    def __init__(self, members: Iterable[StaffMember]) -> None:
        self.members = tuple(members)
        self._words = {
            m.key: [w for w in map(skeleton, m.name.split()) if w] for m in self.members
        }
        self._emails = {
            email_key(e): m for m in self.members for e in m.emails
        }  # fmt: skip

    def __bool__(self) -> bool:
        return bool(self.members)

    def is_staff_email(self, email: str | None) -> bool:
        return bool(email) and email_key(email) in self._emails

    def claimed_by(self, author: str | None, email: str | None) -> list[StaffMember]:
        """The members whose name or e-mail this (author, e-mail) uses."""
        found = []
        if email and (by_email := self._emails.get(email_key(email))):
            found.append(by_email)
        if author:
            shown = skeleton(author)
            for member in self.members:
                words = self._words[member.key]
                if words and all(w in shown for w in words) and member not in found:
                    found.append(member)
        return found

    def member_for(self, author: str | None, email: str | None) -> StaffMember | None:
        """Who a moderator writing as (author, e-mail) is: the owner of the
        e-mail if it is a staff one, else the one member the name claims;
        None when nobody (or more than one) matches."""
        if email and (by_email := self._emails.get(email_key(email))):
            return by_email
        claimed = self.claimed_by(author, None)
        return claimed[0] if len(claimed) == 1 else None


def parse_staff(text: str, source: str) -> StaffDirectory:
    """The staff of a staff.toml's ``text``; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StaffError(f"{source}: not valid TOML: {exc}") from None
    unknown = set(data) - {"staff"}
    if unknown:
        raise StaffError(
            f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}; "
            "only [[staff]] tables belong here"
        )
    entries = data.get("staff", [])
    if not isinstance(entries, list):
        raise StaffError(f"{source}: 'staff' must be [[staff]] tables")
    lines = [
        n
        for n, line in enumerate(text.splitlines(), 1)
        if re.match(r"\s*\[\[\s*staff\s*\]\]", line)
    ]
    members: list[StaffMember] = []
    seen_emails: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"{source}:{lines[index] if index < len(lines) else '?'}"
        member = _member(entry, where)
        if any(m.key == member.key for m in members):
            raise StaffError(f"{where}: key {member.key!r} is used twice")
        for email in member.emails:
            other = seen_emails.setdefault(email_key(email), member.key)
            if other != member.key:
                raise StaffError(f"{where}: {email} is already {other!r}'s address")
        members.append(member)
    return StaffDirectory(members)


def _member(entry: object, where: str) -> StaffMember:
    if not isinstance(entry, dict):
        raise StaffError(f"{where}: a [[staff]] entry must be a table")
    unknown = set(entry) - FIELDS
    if unknown:
        raise StaffError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(FIELDS))})"
        )
    key, name = entry.get("key"), entry.get("name")
    if not isinstance(key, str) or not KEY.match(key):
        raise StaffError(
            f"{where}: key = {key!r}: give a slug of lower-case letters, digits "
            'and single dashes (e.g. key = "chiara")'
        )
    if not isinstance(name, str) or not skeleton(name):
        raise StaffError(f"{where}: name = {name!r}: give the name shown on comments")
    emails = _strings(entry, "emails", where)
    for email in emails:
        local, _, domain = email.partition("@")
        if not local or "." not in domain or any(c.isspace() for c in email):
            raise StaffError(f"{where}: emails: {email!r} is not an e-mail address")
    return StaffMember(key, name.strip(), emails, _strings(entry, "authors", where))


def _strings(entry: dict, field: str, where: str) -> tuple[str, ...]:
    value = entry.get(field, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise StaffError(
            f'{where}: {field} must be a list of non-empty strings (e.g. ["..."])'
        )
    return tuple(v.strip() for v in value)


def staff_file() -> Path:
    """$PIAZZA_STAFF_FILE, or the repository's content/staff.toml."""
    return Path(os.environ.get("PIAZZA_STAFF_FILE") or STAFF_FILE)


def load_staff(path: Path) -> StaffDirectory:
    """The staff in the file at ``path``; StaffError if it is missing or wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StaffError(
            f"{path}: cannot read the staff file ({exc.strerror}); "
            "set PIAZZA_STAFF_FILE to its path"
        ) from None
    return parse_staff(text, str(path))
