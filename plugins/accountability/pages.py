"""Which idea has a page: content/ideas/<slug>.<lang>.md (the board's files).

A page names its idea in its metadata (``Idea: 12``) and may set ``Slug:``;
without a Slug the file name's first part is the slug. Only the header
lines are read (up to the first blank line), as Pelican's Markdown reader
reads metadata.
"""

from __future__ import annotations

import re
from pathlib import Path

_FIELD = re.compile(r"^(?P<key>[A-Za-z_]+)\s*:\s*(?P<value>.*?)\s*$")


def header(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if not line.strip():
            break
        match = _FIELD.match(line)
        if match:
            found[match["key"].lower()] = match["value"]
    return found


def idea_slugs(folder: Path) -> dict[int, str]:
    """Idea number -> the slug of its page (both languages share it)."""
    slugs: dict[int, str] = {}
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
        try:
            fields = header(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        number = fields.get("idea", "").lstrip("#")
        if number.isdigit():
            slugs.setdefault(int(number), fields.get("slug") or path.name.split(".")[0])
    return slugs
