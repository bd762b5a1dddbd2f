"""Settings of the community plugin: defaults in one dict, read into one object.

Every setting can be overridden in ``pelicanconf.py``/``publishconf.py``.
Relative paths: ``COMMUNITY_FEEDS_FILE`` and ``COMMUNITY_SNAPSHOT_DIR`` are
inside the content folder (``PATH``); ``COMMUNITY_CACHE_DIR`` is relative to
the project root (the working directory of ``invoke build``, the settings
file's folder for ``invoke aggregate``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from community.errors import CommunityError
from configuration import integer, number

DEFAULTS: dict[str, Any] = {
    # Subscriptions: one [[feeds]] table per feed (see content/community/feeds.toml).
    "COMMUNITY_FEEDS_FILE": "community/feeds.toml",
    # Where `invoke aggregate` keeps raw bodies, per-feed state and entries.
    # The build reads it when it holds a finished run...
    "COMMUNITY_CACHE_DIR": "var/community",
    # ...and otherwise this snapshot shipped with the content (the demo's data).
    "COMMUNITY_SNAPSHOT_DIR": "community/cache",
    # Fetch every feed before building (network!). For publishconf.py only.
    "COMMUNITY_REFRESH_ON_BUILD": False,
    # Fetching: one deadline per feed in seconds, covering connect, redirects
    # and the whole body, so a server that trickles bytes is cut off too.
    "COMMUNITY_TIMEOUT": 10.0,
    # Largest body accepted, counted after decompression (gzip bombs).
    "COMMUNITY_MAX_BYTES": 5 * 1024 * 1024,
    "COMMUNITY_MAX_REDIRECTS": 5,
    # Feeds fetched at once, overall and per host (be polite to big hosts).
    "COMMUNITY_CONCURRENCY": 32,
    "COMMUNITY_PER_HOST": 6,
    # Processes that parse feeds while others download; 0 means one per CPU,
    # 1 parses in the fetching process.
    "COMMUNITY_WORKERS": 0,
    # None: "Piazza/<version> (+SITEURL; community feeds of SITENAME)".
    "COMMUNITY_USER_AGENT": None,
    # After an error a feed waits this many seconds, doubled for each further
    # consecutive error, up to the maximum (a Retry-After header wins).
    "COMMUNITY_BACKOFF": 1800,
    "COMMUNITY_BACKOFF_MAX": 86400,
    # A feed failing this many times in a row goes into quarantine: it is then
    # tried once every COMMUNITY_QUARANTINE_RETRY seconds (a day), not every
    # run, is listed first on the status page, and leaves quarantine on its
    # first success (`invoke aggregate --force` tries it at once).
    "COMMUNITY_QUARANTINE_AFTER": 5,
    "COMMUNITY_QUARANTINE_RETRY": 86400,
    # Normalising: entries older than this drop off the site.
    "COMMUNITY_MAX_AGE_DAYS": 365,
    # A newly added feed contributes at most its newest few entries.
    "COMMUNITY_NEW_FEED_ENTRIES": 3,
    # Entries held per feed, unless its table sets max_entries.
    "COMMUNITY_MAX_ENTRIES": 30,
    # Characters of text in an entry's excerpt.
    "COMMUNITY_EXCERPT_LENGTH": 320,
    # Output.
    "COMMUNITY_PER_PAGE": 20,
    # The listing's sidebar names this many of the most active sources and
    # links the sources directory (alphabetical, this many sources a page).
    "COMMUNITY_TOP_SOURCES": 10,
    "COMMUNITY_SOURCES_PER_PAGE": 100,
    "COMMUNITY_LATEST": 5,  # entries in the home page block
    "COMMUNITY_FEED_MAX_ITEMS": 50,
    "COMMUNITY_TITLE": {"it": "Comunità", "en": "Community"},
    "COMMUNITY_INDEX_URL": "comunita/",
    "COMMUNITY_INDEX_SAVE_AS": "comunita/index.html",
    "COMMUNITY_SOURCE_URL": "comunita/fonti/{slug}/",
    "COMMUNITY_SOURCE_SAVE_AS": "comunita/fonti/{slug}/index.html",
    # The sources directory: its first page, then page {number} (2, 3...).
    "COMMUNITY_SOURCES_URL": "comunita/fonti/",
    "COMMUNITY_SOURCES_SAVE_AS": "comunita/fonti/index.html",
    "COMMUNITY_SOURCES_PAGE_URL": "comunita/fonti/pagina/{number}/",
    "COMMUNITY_SOURCES_PAGE_SAVE_AS": "comunita/fonti/pagina/{number}/index.html",
    "COMMUNITY_STATUS_URL": "comunita/stato/",
    "COMMUNITY_STATUS_SAVE_AS": "comunita/stato/index.html",
    "COMMUNITY_FEED_ATOM": "feeds/comunita.atom.xml",
    "COMMUNITY_OPML": "comunita/feeds.opml",
}

VERSION = "0.1"


@dataclass(frozen=True)
class FetchLimits:
    """What one aggregate run allows itself on the network."""

    timeout: float = DEFAULTS["COMMUNITY_TIMEOUT"]
    max_bytes: int = DEFAULTS["COMMUNITY_MAX_BYTES"]
    max_redirects: int = DEFAULTS["COMMUNITY_MAX_REDIRECTS"]
    concurrency: int = DEFAULTS["COMMUNITY_CONCURRENCY"]
    per_host: int = DEFAULTS["COMMUNITY_PER_HOST"]
    user_agent: str = f"Piazza/{VERSION}"


@dataclass(frozen=True)
class Rules:
    """How fetched entries are kept: the normalising knobs."""

    max_age_days: int = DEFAULTS["COMMUNITY_MAX_AGE_DAYS"]
    new_feed_entries: int = DEFAULTS["COMMUNITY_NEW_FEED_ENTRIES"]
    max_entries: int = DEFAULTS["COMMUNITY_MAX_ENTRIES"]
    excerpt_length: int = DEFAULTS["COMMUNITY_EXCERPT_LENGTH"]
    backoff: float = DEFAULTS["COMMUNITY_BACKOFF"]
    backoff_max: float = DEFAULTS["COMMUNITY_BACKOFF_MAX"]
    quarantine_after: int = DEFAULTS["COMMUNITY_QUARANTINE_AFTER"]
    quarantine_retry: float = DEFAULTS["COMMUNITY_QUARANTINE_RETRY"]


@dataclass(frozen=True)
class CommunitySettings:
    """The plugin's settings, validated, with paths made absolute."""

    feeds_file: Path
    cache_dir: Path
    snapshot_dir: Path
    refresh_on_build: bool
    limits: FetchLimits
    rules: Rules
    workers: int
    per_page: int
    top_sources: int
    sources_per_page: int
    latest: int
    feed_max_items: int
    title: Mapping[str, str]
    urls: Mapping[str, str]

    @classmethod
    def from_pelican(
        cls, settings: Mapping[str, Any], root: Path | None = None
    ) -> CommunitySettings:
        """Read the plugin's settings from Pelican's, with the defaults above.

        ``root`` is what a relative ``COMMUNITY_CACHE_DIR`` is relative to
        (default: the working directory). Raises :class:`CommunityError`
        naming the setting when a value is unusable.
        """
        value = {**DEFAULTS, **{k: v for k, v in settings.items() if k in DEFAULTS}}
        content = Path(settings.get("PATH") or "content")
        root = root or Path.cwd()
        sitename = settings.get("SITENAME", "Piazza")
        siteurl = settings.get("SITEURL", "")
        user_agent = value["COMMUNITY_USER_AGENT"] or (
            f"Piazza/{VERSION} (+{siteurl or 'https://example.invalid'}; "
            f"community feeds of {sitename})"
        )
        limits = FetchLimits(
            timeout=_number(value, "COMMUNITY_TIMEOUT"),
            max_bytes=_integer(value, "COMMUNITY_MAX_BYTES"),
            max_redirects=_integer(value, "COMMUNITY_MAX_REDIRECTS", minimum=0),
            concurrency=_integer(value, "COMMUNITY_CONCURRENCY"),
            per_host=_integer(value, "COMMUNITY_PER_HOST"),
            user_agent=str(user_agent),
        )
        rules = Rules(
            max_age_days=_integer(value, "COMMUNITY_MAX_AGE_DAYS"),
            new_feed_entries=_integer(value, "COMMUNITY_NEW_FEED_ENTRIES"),
            max_entries=_integer(value, "COMMUNITY_MAX_ENTRIES"),
            excerpt_length=_integer(value, "COMMUNITY_EXCERPT_LENGTH"),
            backoff=_number(value, "COMMUNITY_BACKOFF", minimum=0),
            backoff_max=_number(value, "COMMUNITY_BACKOFF_MAX", minimum=0),
            quarantine_after=_integer(value, "COMMUNITY_QUARANTINE_AFTER"),
            quarantine_retry=_number(value, "COMMUNITY_QUARANTINE_RETRY", minimum=0),
        )
        workers = _integer(value, "COMMUNITY_WORKERS", minimum=0) or (
            os.cpu_count() or 1
        )
        title = value["COMMUNITY_TITLE"]
        if isinstance(title, str):
            title = {settings.get("DEFAULT_LANG", "it"): title}
        urls = {
            key[len("COMMUNITY_") :].lower(): str(value[key])
            for key in DEFAULTS
            if key.endswith(("_URL", "_SAVE_AS", "_ATOM", "_OPML"))
        }
        return cls(
            feeds_file=_path(content, value["COMMUNITY_FEEDS_FILE"]),
            cache_dir=_path(root, value["COMMUNITY_CACHE_DIR"]),
            snapshot_dir=_path(content, value["COMMUNITY_SNAPSHOT_DIR"]),
            refresh_on_build=bool(value["COMMUNITY_REFRESH_ON_BUILD"]),
            limits=limits,
            rules=rules,
            workers=workers,
            per_page=_integer(value, "COMMUNITY_PER_PAGE"),
            top_sources=_integer(value, "COMMUNITY_TOP_SOURCES", minimum=0),
            sources_per_page=_integer(value, "COMMUNITY_SOURCES_PER_PAGE"),
            latest=_integer(value, "COMMUNITY_LATEST", minimum=0),
            feed_max_items=_integer(value, "COMMUNITY_FEED_MAX_ITEMS"),
            title=dict(title),
            urls=urls,
        )


def _path(base: Path, value: str | os.PathLike[str]) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _number(values: Mapping[str, Any], key: str, minimum: float = 0.001) -> float:
    return number(values, key, CommunityError, minimum)


def _integer(values: Mapping[str, Any], key: str, minimum: int = 1) -> int:
    return integer(values, key, CommunityError, minimum)
