"""The community's aggregated Atom feed, from the view's items."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from feedgenerator import Atom1Feed

from community.view import Item

_URI = re.compile(r"^(?:https?|tag|urn):\S+$", re.IGNORECASE)


class _StableAtom1Feed(Atom1Feed):
    """feedgenerator dates an empty feed "now"; ours is dated by the cache."""

    def __init__(self, *args: object, updated: datetime | None, **kwargs: object):
        super().__init__(*args, **kwargs)
        self._updated = updated

    def latest_post_date(self) -> datetime:
        return super().latest_post_date() if self.items else self._updated


def atom_id(entry_id: str) -> str:
    """An Atom id (an IRI) for an entry: its own if it is one, else a UUID."""
    if _URI.match(entry_id):
        return entry_id
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, entry_id)}"


def render_atom(
    items: Sequence[Item],
    *,
    title: str,
    home: str,
    feed_url: str,
    language: str,
    updated: datetime | None,
    source_page: str,
) -> str:
    """Atom 1.0 with each entry's excerpt, linking to the original post.

    ``source_page`` is the absolute URL pattern of a source's page, used as the
    link of an entry that has none of its own.
    """
    feed = _StableAtom1Feed(
        title=title,
        link=home,
        description="",
        language=language,
        feed_url=feed_url,
        feed_guid=feed_url,
        updated=updated or datetime(1970, 1, 1, tzinfo=UTC),
    )
    for item in items:
        entry = item.entry
        feed.add_item(
            title=entry.title or item.source.name,
            link=entry.link or source_page.format(slug=item.source.slug),
            description=entry.summary_html,
            author_name=entry.author or item.source.name,
            author_link=item.source.home,
            pubdate=entry.date,
            updateddate=entry.date,
            unique_id=atom_id(entry.id),
            categories=entry.categories,
        )
    return feed.writeString("utf-8")
