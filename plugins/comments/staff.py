"""Reading ``content/staff.toml``: who answers readers for the company.

The file is parsed and checked by ``roster``, the one reader the comment
server uses too; this module only says what the build makes of it. A
missing file means no staff (no comment gets a badge). A malformed one stops
the build with a :class:`CommentsError` naming the file and the line,
because a badge rule silently dropped would be worse than a failed build.
"""

from __future__ import annotations

from pathlib import Path

import roster
from comments.errors import CommentsError
from comments.model import StaffMember


def load_staff(path: Path) -> tuple[StaffMember, ...]:
    """The staff in ``path``; none if the file does not exist."""
    return roster.read_staff(path, CommentsError) or ()


def parse_staff(text: str, path: Path | str) -> tuple[StaffMember, ...]:
    """Parse and validate staff.toml text; ``path`` is for messages only."""
    return roster.parse_staff(text, path, CommentsError)
