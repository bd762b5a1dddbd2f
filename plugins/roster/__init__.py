"""``content/staff.toml``, read and checked once for the build and the server.

The company's people who answer readers: ``[[staff]]`` tables with ``key``
(a slug: their comments are marked ``staff-<key>``), ``name``, ``emails`` and
``authors`` (Pelican AUTHOR names whose posts are theirs). The comments
plugin (plugins/comments/staff.py) and the comment server's staff layer
(piazza/staff.py) both read the file through :func:`parse_staff`, so a file
one of them accepts the other cannot refuse. Each keeps its own exception
type (passed as ``error``, as with plugins/configuration) and its own rule
for a missing file.

Also here, because the checks need them: how a name and an address are
compared (:func:`skeleton`, :func:`email_key`). Two members may not share an
address as compared, and a name must keep a letter once reduced.

Pure: text in, values out. Not a Pelican plugin (it registers nothing):
plugins import it, as they import ``configuration``, and so does piazza/.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configuration import ConfigError, array_of_tables, parse_toml, read_text

KNOWN_KEYS = ("key", "name", "emails", "authors")
KEY_LENGTH = 40
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HEADER = re.compile(r"^\s*\[\[\s*staff\s*\]\]\s*(?:#.*)?$")

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


class StaffError(ConfigError):
    """content/staff.toml cannot be used (the message names the file and line)."""


@dataclass(frozen=True)
class StaffMember:
    """One person who answers readers for the company."""

    key: str  # a slug: the server marks their comments with "staff-<key>"
    name: str
    emails: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()  # Pelican AUTHOR names whose posts are theirs
    line: int | None = None  # where the table starts in staff.toml


def skeleton(text: str) -> str:
    """``text`` reduced to what a reader sees: NFKC, case-folded, accents and
    punctuation dropped, look-alikes (:data:`LOOKALIKES`, ``rn`` for ``m``)
    mapped to one letter. Isso stores names HTML-escaped, so entities are
    decoded first."""
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


def read_staff(
    path: Path, error: type[ConfigError] = StaffError
) -> tuple[StaffMember, ...] | None:
    """The staff in the file at ``path``; None if it does not exist (each
    caller decides what that means)."""
    text = read_text(path, error)
    return None if text is None else parse_staff(text, path, error)


def parse_staff(
    text: str, path: Path | str, error: type[ConfigError] = StaffError
) -> tuple[StaffMember, ...]:
    """Parse and check staff.toml ``text``; ``path`` is for messages only."""
    data = parse_toml(text, path, error)
    tables = array_of_tables(data, "staff", "person", path, error)
    headers = [n for n, line in enumerate(text.splitlines(), 1) if _HEADER.match(line)]
    members: list[StaffMember] = []
    keys: dict[str, StaffMember] = {}
    addresses: dict[str, StaffMember] = {}
    for index, table in enumerate(tables):
        # Only trust positions when every table was found as a header.
        line = headers[index] if len(headers) == len(tables) else None
        label = "" if line else f"[[staff]] table #{index + 1}: "

        def fail(message: str, line: int | None = line, label: str = label):
            return error(label + message, path=path, line=line)

        member = _member(table, line, fail)
        if first := keys.get(member.key):
            raise fail(
                f"staff key {member.key!r} is used twice (first {_at(first)}): "
                "each person needs their own key"
            )
        for email in member.emails:
            owner = addresses.setdefault(email_key(email), member)
            if owner is not member:
                raise fail(
                    f"{email} is already {owner.key!r}'s address ({_at(owner)}): "
                    "give each address to one person"
                )
        keys[member.key] = member
        members.append(member)
    return tuple(members)


def _at(member: StaffMember) -> str:
    return f"at line {member.line}" if member.line else "in an earlier table"


def _member(
    table: dict[str, Any], line: int | None, fail: Callable[[str], ConfigError]
) -> StaffMember:
    unknown = [k for k in table if k not in KNOWN_KEYS]
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} (known keys: {', '.join(KNOWN_KEYS)})")
    key = table.get("key")
    if not isinstance(key, str) or not _KEY.match(key) or len(key) > KEY_LENGTH:
        raise fail(
            f"key must be a short slug (at most {KEY_LENGTH} characters) of "
            "lower-case letters, digits and single dashes "
            f'(e.g. key = "chiara"), not {key!r}'
        )
    name = table.get("name")
    if not isinstance(name, str) or not skeleton(name):
        raise fail(f"name must be the name shown on comments, not {name!r}")
    emails = _strings(table, "emails", fail)
    for email in emails:
        local, _, domain = email.partition("@")
        if not local or "." not in domain or any(c.isspace() for c in email):
            raise fail(f"emails: {email!r} is not an e-mail address")
    return StaffMember(
        key=key,
        name=name.strip(),
        emails=emails,
        authors=_strings(table, "authors", fail),
        line=line,
    )


def _strings(
    table: dict[str, Any], key: str, fail: Callable[[str], ConfigError]
) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise fail(f'{key} must be a list of strings ({key} = ["..."]), not {value!r}')
    return tuple(v.strip() for v in value)
