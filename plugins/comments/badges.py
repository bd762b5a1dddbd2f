"""Pure rules: which comments carry a staff badge (no Pelican, no network).

The comment server, not the build, knows who wrote a comment: it marks a
comment posted in an authenticated staff session by answering its ``hash`` as
``"staff-<key>"`` (Isso's own hashes are 12 hex digits, so no reader can
produce one). Everything here follows from that string and
``content/staff.toml``; a name or an e-mail address is never proof.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from comments.model import Comment, LatestComment, StaffMember, Thread

STAFF_PREFIX = "staff-"


def staff_key(comment_hash: object) -> str | None:
    """The staff member's key in a hash the server answered, or None for a
    reader's hash (or none at all)."""
    if not isinstance(comment_hash, str) or not comment_hash.startswith(STAFF_PREFIX):
        return None
    return comment_hash[len(STAFF_PREFIX) :] or None


def staff_hash(key: str) -> str:
    """What the comment server answers as the hash of this member's comments."""
    return STAFF_PREFIX + key


def owners(staff: Sequence[StaffMember], authors: Iterable[str]) -> frozenset[str]:
    """The keys of the staff members whose ``authors`` hold one of these
    Pelican author names (the people a post "belongs" to)."""
    names = {str(a) for a in authors}
    return frozenset(m.key for m in staff if names.intersection(m.authors))


def page_author_hashes(keys: Iterable[str]) -> tuple[str, ...]:
    """The hashes the live widget marks as the page author's, sorted."""
    return tuple(sorted(staff_hash(k) for k in keys))


def mark(comment: Comment, page_owners: frozenset[str]) -> Comment:
    """The comment (and its replies) with ``by_page_author`` set by the rule:
    written by a staff member who owns the page."""
    return replace(
        comment,
        by_page_author=comment.staff is not None and comment.staff in page_owners,
        replies=tuple(mark(r, page_owners) for r in comment.replies),
    )


def mark_thread(thread: Thread, page_owners: frozenset[str]) -> Thread:
    return replace(
        thread, comments=tuple(mark(c, page_owners) for c in thread.comments)
    )


def mark_latest(
    item: LatestComment, thread: Thread | None, page_owners: frozenset[str]
) -> Comment:
    """A latest comment as its thread shows it (already marked), else marked
    from what the latest answer carried."""
    found = thread.find(item.comment.id) if thread is not None else None
    return found or mark(item.comment, page_owners)
