"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) from plain data."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser

VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True)
class FeedItem:
    id: str
    url: str
    title: str
    content_html: str
    summary: str
    date_published: datetime
    date_modified: datetime | None
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    language: str
    image: str | None = None


@dataclass(frozen=True)
class Feed:
    title: str
    home_page_url: str
    feed_url: str
    language: str
    description: str
    authors: tuple[str, ...]
    icon: str | None
    items: Sequence[FeedItem]


def _item(item: FeedItem) -> dict:
    data: dict = {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "content_html": item.content_html,
        "summary": item.summary,
        "date_published": item.date_published.isoformat(),
        "authors": [{"name": name} for name in item.authors],
        "tags": list(item.tags),
        "language": item.language,
    }
    if item.date_modified:
        data["date_modified"] = item.date_modified.isoformat()
    if item.image:
        data["image"] = item.image
    return data


def render(feed: Feed) -> str:
    """The feed as JSON text (UTF-8, non-ASCII kept readable)."""
    data: dict = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed.home_page_url,
        "feed_url": feed.feed_url,
        "description": feed.description,
        "language": feed.language,
        "authors": [{"name": name} for name in feed.authors],
        "items": [_item(i) for i in feed.items],
    }
    if feed.icon:
        data["icon"] = feed.icon
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def newest(items: Iterable[FeedItem], limit: int) -> list[FeedItem]:
    return sorted(items, key=lambda i: i.date_published, reverse=True)[:limit]


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """The text of an HTML fragment, whitespace folded (for summaries)."""
    collector = _TextCollector()
    collector.feed(html or "")
    return " ".join("".join(collector.parts).split())
