"""The company's people who answer readers (content/staff.toml), and the rules
that tell whether a comment's name or e-mail claims to be one of them.

The file is parsed and checked by plugins/roster, the one reader the build
uses too (so a file one accepts the other cannot refuse); :func:`skeleton`
and :func:`email_key` live there because its checks need them. This module
adds what only the server needs: where the file is ($PIAZZA_STAFF_FILE), that
it must exist, and the claims. Pure besides reading the file (no Isso, no
database). The server layer
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

import os
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAFF_FILE = ROOT / "content" / "staff.toml"
# The file is parsed and checked by plugins/roster, which the build uses too
# (one reader, so the build and the server accept the same files).
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))

import roster  # noqa: E402 (sys.path)
from roster import StaffError, StaffMember, email_key, skeleton  # noqa: E402

__all__ = [
    "StaffDirectory",
    "StaffError",
    "StaffMember",
    "email_key",
    "load_staff",
    "parse_staff",
    "skeleton",
    "staff_file",
]


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
    return StaffDirectory(roster.parse_staff(text, source))


def staff_file() -> Path:
    """$PIAZZA_STAFF_FILE, or the repository's content/staff.toml."""
    return Path(os.environ.get("PIAZZA_STAFF_FILE") or STAFF_FILE)


def load_staff(path: Path) -> StaffDirectory:
    """The staff in the file at ``path``; StaffError if it is missing or wrong
    (the server does not start without it: a wrong path would lose every
    badge and let anyone claim a staff name)."""
    members = roster.read_staff(path)
    if members is None:
        raise StaffError(
            "no staff file here; set PIAZZA_STAFF_FILE to its path", path=path
        )
    return StaffDirectory(members)
