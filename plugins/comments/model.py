"""The data that flows through the comments plugin, as frozen dataclasses.

Isso's answers become :class:`Comment` and :class:`Thread` values at the edge
(``isso.py``); ``content/staff.toml`` becomes :class:`StaffMember` values;
the badge rules (``badges.py``) and the home page's lists (``ranking.py``)
turn them into new values, never changing one in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

# content/staff.toml's people, read and checked once, for the server too.
from roster import StaffMember  # noqa: F401 (one of the plugin's values)
from sanitize import plain_text


@dataclass(frozen=True)
class Comment:
    """One published comment, sanitised, with its replies."""

    id: int
    author: str | None  # plain text: templates escape it
    website: str | None  # a safe absolute URL, or None
    created: datetime
    text_html: str  # sanitised
    likes: int
    dislikes: int
    # The staff member's key when the comment server proved it is theirs
    # (its hash is "staff-<key>"); None for every reader's comment.
    staff: str | None = None
    # Whether that staff member owns the post the comment is under.
    by_page_author: bool = False
    replies: tuple[Comment, ...] = ()

    @property
    def by_staff(self) -> bool:
        return self.staff is not None

    @property
    def anchor(self) -> str:
        """The id Isso's widget gives the comment (links survive the swap)."""
        return f"isso-{self.id}"


@dataclass(frozen=True)
class Thread:
    """The published comments under one post or page."""

    uri: str
    total: int  # every comment, replies included
    comments: tuple[Comment, ...] = ()

    def walk(self) -> Iterable[Comment]:
        """Every comment of the thread, each followed by its replies."""

        def down(comment: Comment) -> Iterable[Comment]:
            yield comment
            for reply in comment.replies:
                yield from down(reply)

        for comment in self.comments:
            yield from down(comment)

    def find(self, comment_id: int) -> Comment | None:
        return next((c for c in self.walk() if c.id == comment_id), None)

    def schema_org(
        self, organization: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """schema.org ``Comment`` items for the article's JSON-LD.

        A staff member's comment names ``organization`` (the site's publisher)
        as its author's affiliation; no other comment does.
        """

        def one(comment: Comment) -> dict[str, Any]:
            author: dict[str, Any] = {
                "@type": "Person",
                "name": comment.author or "Anonymous",
            }
            if comment.website:
                author["url"] = comment.website
            if comment.by_staff and organization:
                author["affiliation"] = dict(organization)
            data: dict[str, Any] = {
                "@type": "Comment",
                "@id": f"#{comment.anchor}",
                "dateCreated": comment.created.isoformat(),
                "text": plain_text(comment.text_html),
                "author": author,
            }
            if comment.likes:
                data["upvoteCount"] = comment.likes
            if comment.replies:
                data["comment"] = [one(reply) for reply in comment.replies]
            return data

        return [one(comment) for comment in self.comments]


@dataclass(frozen=True)
class LatestComment:
    """One of the newest comments site-wide, and the thread it is in."""

    uri: str
    comment: Comment


def _frozen_threads() -> Mapping[str, Thread]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Snapshot:
    """Every thread the build asked for, and the newest comments site-wide."""

    threads: Mapping[str, Thread] = field(default_factory=_frozen_threads)
    latest: tuple[LatestComment, ...] = ()

    def __post_init__(self) -> None:
        # A read-only view of a private copy: nobody changes a snapshot.
        object.__setattr__(self, "threads", MappingProxyType(dict(self.threads)))
        object.__setattr__(self, "latest", tuple(self.latest))


@dataclass(frozen=True)
class Discussed:
    """A post on the home page's "most discussed" list."""

    content: Any  # the Pelican article
    total: int


@dataclass(frozen=True)
class LatestItem:
    """A line of the home page's "latest comments": the post and the comment."""

    content: Any  # the Pelican article or page
    comment: Comment
