"""A community cache (plugins/community/cache.py) with known posts, written by
the real cache code, for the report's tests and benchmark.

    write_cache(root, {"garage-ada": [datetime(...), ...]}, generated_at)
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))

from community.cache import Cache, Meta  # noqa: E402
from community.model import Entry, FeedEntries, FeedState  # noqa: E402


def write_cache(
    root: Path, posts: Mapping[str, Sequence[datetime]], generated_at: datetime
) -> Cache:
    """One source per key (titled after its slug), one entry per date."""
    cache = Cache(root)
    for slug, dates in posts.items():
        entries = tuple(
            Entry(
                id=f"{slug}-{n}",
                feed=slug,
                title=f"Post {n}",
                link=f"https://{slug}.example/{n}",
                date=moment,
                first_seen=moment,
            )
            for n, moment in enumerate(dates)
        )
        cache.save_entries(slug, FeedEntries(entries, frozenset(e.id for e in entries)))
        title = slug.replace("-", " ").title()
        cache.save_state(
            slug, FeedState(url=f"https://{slug}.example/feed", title=title)
        )
    cache.save_meta(Meta(generated_at=generated_at))
    return cache
