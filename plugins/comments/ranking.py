"""Pure rules for the home page's two comment blocks, per language.

Plain inputs in, plain lists out (no Pelican, no network): the generator
hands these lists to the templates, which only loop over them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from comments.model import Discussed, LatestItem


def latest_by_lang(items: Iterable[LatestItem], limit: int) -> dict[str, tuple]:
    """The newest comments of each language (the language of their post),
    newest first, at most ``limit`` each. ``items`` come newest first."""
    grouped: dict[str, list[LatestItem]] = defaultdict(list)
    for item in items:
        bucket = grouped[item.content.lang]
        if len(bucket) < limit:
            bucket.append(item)
    return {lang: tuple(bucket) for lang, bucket in grouped.items()}


def most_discussed_by_lang(
    totals: Iterable[tuple[Any, int]], limit: int
) -> dict[str, tuple[Discussed, ...]]:
    """Posts (with their number of comments) that have comments, most first,
    per language, at most ``limit`` each. Ties: the newer post first, then
    by URL (a stable order)."""
    ranked = sorted(
        ((content, total) for content, total in totals if total > 0),
        key=lambda pair: (-pair[1], -pair[0].date.timestamp(), pair[0].url),
    )
    grouped: dict[str, list[Discussed]] = defaultdict(list)
    for content, total in ranked:
        bucket = grouped[content.lang]
        if len(bucket) < limit:
            bucket.append(Discussed(content, total))
    return {lang: tuple(bucket) for lang, bucket in grouped.items()}
