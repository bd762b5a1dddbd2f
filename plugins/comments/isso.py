"""Reading published comments from Isso's HTTP API, as plain data.

Isso renders a comment's Markdown to HTML and escapes author and website;
none of that is trusted here: text goes through the project's sanitiser,
author and website are unescaped to plain values for the templates to escape.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from sanitize import plain_text, safe_url, sanitize_html

logger = logging.getLogger(__name__)


class IssoUnreachable(Exception):
    """The build could not talk to Isso (down, wrong URL, not Isso)."""


@dataclass(frozen=True)
class Comment:
    id: int
    author: str | None
    website: str | None
    created: datetime
    text_html: str  # sanitised
    likes: int
    dislikes: int
    by_page_author: bool
    replies: tuple[Comment, ...] = ()

    @property
    def anchor(self) -> str:
        """The id Isso's widget gives the comment (links survive the swap)."""
        return f"isso-{self.id}"


@dataclass(frozen=True)
class Thread:
    uri: str
    total: int
    comments: tuple[Comment, ...] = ()

    def walk(self) -> Iterable[Comment]:
        for comment in self.comments:
            yield comment
            yield from comment.replies

    def schema_org(self) -> list[dict[str, Any]]:
        """schema.org ``Comment`` items for the article's JSON-LD."""

        def one(comment: Comment) -> dict[str, Any]:
            data: dict[str, Any] = {
                "@type": "Comment",
                "@id": f"#{comment.anchor}",
                "dateCreated": comment.created.isoformat(),
                "text": plain_text(comment.text_html),
                "author": {"@type": "Person", "name": comment.author or "Anonymous"},
            }
            if comment.website:
                data["author"]["url"] = comment.website
            if comment.likes:
                data["upvoteCount"] = comment.likes
            if comment.replies:
                data["comment"] = [one(reply) for reply in comment.replies]
            return data

        return [one(comment) for comment in self.comments]


@dataclass(frozen=True)
class LatestComment:
    uri: str
    comment: Comment


@dataclass
class Snapshot:
    """Every thread the build asked for, and the newest comments site-wide."""

    threads: dict[str, Thread] = field(default_factory=dict)
    latest: list[LatestComment] = field(default_factory=list)


def _comment(
    data: Mapping[str, Any], author_hashes: frozenset[str], base: str | None
) -> Comment:
    author = html.unescape(str(data.get("author") or "")).strip()
    website = data.get("website")
    return Comment(
        id=int(data["id"]),
        author=" ".join(author.split())[:120] or None,
        website=safe_url(html.unescape(str(website))) if website else None,
        created=datetime.fromtimestamp(float(data["created"]), UTC).replace(
            microsecond=0
        ),
        text_html=sanitize_html(str(data.get("text") or ""), base),
        likes=max(0, int(data.get("likes") or 0)),
        dislikes=max(0, int(data.get("dislikes") or 0)),
        by_page_author=str(data.get("hash") or "") in author_hashes,
        replies=tuple(
            _comment(reply, author_hashes, base) for reply in data.get("replies") or ()
        ),
    )


class IssoClient:
    """A small reader of Isso's public API (the same one the widget uses)."""

    def __init__(
        self,
        api_url: str,
        *,
        timeout: float = 5.0,
        author_hashes: Sequence[str] = (),
        site_url: str | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.author_hashes = frozenset(author_hashes)
        self.site_url = site_url
        self.client = httpx.Client(
            timeout=timeout, headers={"User-Agent": "Piazza build (static comments)"}
        )

    def close(self) -> None:
        self.client.close()

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        try:
            response = self.client.get(f"{self.api_url}{path}", params=params)
        except httpx.HTTPError as exc:
            raise IssoUnreachable(
                f"{self.api_url}: {exc or type(exc).__name__}"
            ) from exc
        if response.status_code == 404 and path == "/":
            return None  # a thread nobody has commented on yet
        if response.status_code != 200:
            raise IssoUnreachable(
                f"{response.request.url}: HTTP {response.status_code} (is this Isso?)"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise IssoUnreachable(f"{response.request.url}: not JSON ({exc})") from exc

    def thread(self, uri: str) -> Thread:
        data = self._get("/", {"uri": uri, "nested_limit": 1000})
        if not data:
            return Thread(uri, 0)
        base = f"{self.site_url}{uri}" if self.site_url else None
        comments = tuple(
            _comment(c, self.author_hashes, base) for c in data.get("replies") or ()
        )
        # At the root, total_replies counts every comment, replies included.
        return Thread(uri, int(data.get("total_replies") or 0), comments)

    def latest(self, limit: int) -> list[LatestComment]:
        """The newest comments site-wide (needs ``latest-enabled`` in Isso)."""
        try:
            data = self._get("/latest", {"limit": limit})
        except IssoUnreachable:
            return []
        return [
            LatestComment(str(item["uri"]), _comment(item, self.author_hashes, None))
            for item in data or ()
        ]

    def snapshot(self, uris: Sequence[str], latest: int, workers: int = 8) -> Snapshot:
        """Every thread in ``uris``; raises IssoUnreachable if Isso is not there.

        The first request is made alone: if Isso is down, the build learns it
        once, not once per post.
        """
        snapshot = Snapshot()
        if not uris:
            return snapshot
        first, rest = uris[0], list(uris[1:])
        snapshot.threads[first] = self.thread(first)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for thread in pool.map(self.thread, rest):
                snapshot.threads[thread.uri] = thread
        if latest:
            snapshot.latest = self.latest(latest)
        return snapshot
