"""The edge: reading published comments from Isso's HTTP API, as plain data.

Every answer is bounded (a timeout per request, a size limit per answer) and
checked: anything that is not the answer Isso gives raises
:class:`IssoUnreachable` with the URL and what was wrong, and the build goes
on without the snapshot.

Isso renders a comment's Markdown to HTML and escapes author and website;
none of that is trusted here: text goes through the project's sanitiser,
author and website are unescaped to plain values for the templates to
escape. The ``hash`` of a comment only says whether the comment server
proved it is a staff member's (see ``badges.py``).
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from comments.badges import staff_key
from comments.model import Comment, LatestComment, Snapshot, Thread
from sanitize import safe_url, sanitize_html

logger = logging.getLogger(__name__)


class IssoUnreachable(Exception):
    """The build could not read Isso (down, wrong URL, not Isso, too big)."""


def parse_comment(data: Mapping[str, Any], base: str | None) -> Comment:
    """One comment of an Isso answer (with its replies) as a :class:`Comment`.

    ``base`` is the page the comment is on, for its relative links.
    """
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
        staff=staff_key(data.get("hash")),
        replies=tuple(
            parse_comment(reply, base) for reply in data.get("replies") or ()
        ),
    )


class IssoClient:
    """A small reader of Isso's public API (the same one the widget uses)."""

    def __init__(
        self,
        api_url: str,
        *,
        timeout: float = 5.0,
        max_bytes: int = 16 * 1024 * 1024,
        site_url: str | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.max_bytes = max_bytes
        self.site_url = site_url
        self.client = httpx.Client(
            timeout=timeout, headers={"User-Agent": "Piazza build (static comments)"}
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> IssoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        url = f"{self.api_url}{path}"
        try:
            with self.client.stream("GET", url, params=params) as response:
                where = response.request.url
                if response.status_code == 404 and path == "/":
                    return None  # a thread nobody has commented on yet
                if response.status_code != 200:
                    raise IssoUnreachable(
                        f"{where}: HTTP {response.status_code} (is this Isso?)"
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise IssoUnreachable(
                            f"{where}: the answer is over {self.max_bytes:,} bytes "
                            "(raise COMMENTS_MAX_BYTES if the thread is that big)"
                        )
        except httpx.HTTPError as exc:
            raise IssoUnreachable(f"{url}: {exc or type(exc).__name__}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise IssoUnreachable(f"{where}: not JSON ({exc})") from exc

    def thread(self, uri: str) -> Thread:
        data = self._get("/", {"uri": uri, "nested_limit": 1000})
        if not data:
            return Thread(uri, 0)
        base = f"{self.site_url}{uri}" if self.site_url else None
        try:
            comments = tuple(parse_comment(c, base) for c in data.get("replies") or ())
            # At the root, total_replies counts every comment, replies included.
            total = int(data.get("total_replies") or 0)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise IssoUnreachable(
                f"{self.api_url}/?uri={uri}: not a thread as Isso answers it "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        return Thread(uri, total, comments)

    def latest(self, limit: int) -> tuple[LatestComment, ...]:
        """The newest comments site-wide, newest first (needs
        ``latest-enabled`` in Isso; without it, none)."""
        try:
            data = self._get("/latest", {"limit": limit})
            items = [
                LatestComment(str(item["uri"]), parse_comment(item, None))
                for item in data or ()
            ]
        except IssoUnreachable as exc:
            logger.info("comments: no latest comments (%s)", exc)
            return ()
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            logger.info("comments: /latest is not as Isso answers it (%s)", exc)
            return ()
        # Isso answers oldest first.
        return tuple(
            sorted(items, key=lambda i: (i.comment.created, i.comment.id), reverse=True)
        )

    def snapshot(self, uris: Sequence[str], latest: int, workers: int = 8) -> Snapshot:
        """Every thread in ``uris``; raises IssoUnreachable if Isso is not there.

        The first request is made alone: if Isso is down, the build learns it
        once, not once per post.
        """
        if not uris:
            return Snapshot()
        first, rest = uris[0], list(uris[1:])
        threads = {first: self.thread(first)}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for thread in pool.map(self.thread, rest):
                threads[thread.uri] = thread
        return Snapshot(threads, self.latest(latest) if latest else ())
