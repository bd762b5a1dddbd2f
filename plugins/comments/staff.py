"""Reading ``content/staff.toml``: who answers readers for the company.

A missing file means no staff (no comment gets a badge). A malformed one
stops the build with a :class:`CommentsError` naming the file and the line,
because a badge rule silently dropped would be worse than a failed build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from configuration import array_of_tables, parse_toml, read_text

from comments.errors import CommentsError
from comments.model import StaffMember

KNOWN_KEYS = ("key", "name", "emails", "authors")
_HEADER = re.compile(r"^\s*\[\[\s*staff\s*\]\]\s*(?:#.*)?$")
_KEY = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def load_staff(path: Path) -> tuple[StaffMember, ...]:
    """The staff in ``path``; none if the file does not exist."""
    text = read_text(path, CommentsError)
    return () if text is None else parse_staff(text, path)


def parse_staff(text: str, path: Path | str) -> tuple[StaffMember, ...]:
    """Parse and validate staff.toml text; ``path`` is for messages only."""
    data = parse_toml(text, path, CommentsError)
    tables = array_of_tables(data, "staff", "person", path, CommentsError)
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines, 1) if _HEADER.match(line)]
    members: list[StaffMember] = []
    seen: dict[str, StaffMember] = {}
    for index, table in enumerate(tables):
        # Only trust positions when every table was found as a header.
        line = headers[index] if len(headers) == len(tables) else None
        member = _member(table, index, line, path)
        if member.key in seen:
            raise CommentsError(
                f"staff key {member.key!r} is used twice (first at line "
                f"{seen[member.key].line}): each person needs their own key",
                path=path,
                line=line,
            )
        seen[member.key] = member
        members.append(member)
    return tuple(members)


def _member(
    table: dict[str, Any], index: int, line: int | None, path: Path | str
) -> StaffMember:
    label = "[[staff]]" if line else f"[[staff]] table #{index + 1}"

    def fail(message: str) -> CommentsError:
        return CommentsError(f"{label}: {message}", path=path, line=line)

    unknown = [k for k in table if k not in KNOWN_KEYS]
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} (known keys: {', '.join(KNOWN_KEYS)})")
    key = table.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise fail(
            f"key must be a short slug of lower-case letters, digits and dashes "
            f'(e.g. key = "chiara"), not {key!r}'
        )
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail(f"name must be the name shown on comments, not {name!r}")
    return StaffMember(
        key=key,
        name=name.strip(),
        emails=_strings(table, "emails", fail),
        authors=_strings(table, "authors", fail),
        line=line,
    )


def _strings(table: dict[str, Any], key: str, fail: Any) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise fail(f'{key} must be a list of strings ({key} = ["..."]), not {value!r}')
    return tuple(v.strip() for v in value)
