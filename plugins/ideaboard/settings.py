"""Settings of the ideas board: defaults in one dict, read into one object.

Every setting can be overridden in ``pelicanconf.py``/``publishconf.py``. A
relative ``IDEAS_CONTENT_DIR`` is inside the content folder (``PATH``), a
relative ``IDEAS_SNAPSHOT_CACHE`` inside the project (where Pelican runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configuration import ConfigError, integer

STATUSES = (
    "proposed",
    "under-review",
    "planned",
    "in-progress",
    "done",
    "declined",
    "duplicate",
)

DEFAULTS: dict[str, Any] = {
    # Where the build reads the service's snapshot (GET /snapshot): counts,
    # recent support, every status change. None: only the last known copy
    # (IDEAS_SNAPSHOT_CACHE) is read. A service that is down means a warning
    # and that copy, never a failed build.
    "IDEAS_API_URL": None,
    # Where readers' browsers reach the service (same origin, through nginx):
    # the board's data-ideas-api and the forms' actions.
    "IDEAS_PUBLIC_URL": "/idee-api",
    # The last good snapshot, kept for builds while the service is down.
    "IDEAS_SNAPSHOT_CACHE": "var/ideas/snapshot.json",
    # Seconds the build waits for the snapshot.
    "IDEAS_TIMEOUT": 10.0,
    # The accepted ideas, as `invoke ideas --accept` writes them
    # (<slug>.<lang>.md). Inside PATH when relative; not under ARTICLE_PATHS
    # or PAGE_PATHS: the board reads them, Pelican's own generators never do.
    "IDEAS_CONTENT_DIR": "ideas",
    # Each language's addresses of the board (site-relative, no leading
    # slash). {slug}: an idea's or a category's; {status}: IDEAS_STATUS_SLUGS.
    "IDEAS_URLS": {
        "it": {
            "board": "idee/",
            "trending": "idee/tendenza/",
            "newest": "idee/nuove/",
            "roadmap": "idee/roadmap/",
            "propose": "idee/proponi/",
            "category": "idee/categoria/{slug}/",
            "status": "idee/stato/{status}/",
            "idea": "idee/{slug}/",
            "feed": "feeds/idee-it.atom.xml",
        },
        "en": {
            "board": "en/ideas/",
            "trending": "en/ideas/trending/",
            "newest": "en/ideas/newest/",
            "roadmap": "en/ideas/roadmap/",
            "propose": "en/ideas/propose/",
            "category": "en/ideas/category/{slug}/",
            "status": "en/ideas/status/{status}/",
            "idea": "en/ideas/{slug}/",
            "feed": "feeds/ideas-en.atom.xml",
        },
    },
    # A status's word in each language's addresses (/idee/stato/pianificate/).
    "IDEAS_STATUS_SLUGS": {
        "it": {
            "proposed": "proposte",
            "under-review": "in-valutazione",
            "planned": "pianificate",
            "in-progress": "in-corso",
            "done": "fatte",
            "declined": "non-accolte",
            "duplicate": "doppioni",
        },
        "en": {status: status for status in STATUSES},
    },
    # The categories an idea may have (the service's list, rules.CATEGORIES),
    # by key, with their name in each language. An idea with another key is
    # shown under the key itself.
    "IDEAS_CATEGORIES": {
        "moto": {"it": "Moto", "en": "Motorcycles"},
        "accessori": {"it": "Accessori", "en": "Accessories"},
        "abbigliamento": {"it": "Abbigliamento", "en": "Apparel"},
        "servizi": {"it": "Servizi e officina", "en": "Service and workshop"},
        "eventi": {"it": "Eventi e raduni", "en": "Events and rides"},
        "sito": {"it": "Sito e comunità", "en": "Site and community"},
    },
    # The rule the company chooses by, stated on every board page, per
    # language. Fluevog's by default.
    "IDEAS_RULE": {
        "it": (
            "Scegliamo così: le idee più sostenute dalla comunità, insieme al "
            "voto della nostra azienda, entrano in produzione. La scelta "
            "dell'azienda è sempre indicata come tale."
        ),
        "en": (
            "How we choose: the ideas the community supports most, together "
            "with our company's own vote, go into production. The company's "
            "pick is always shown as such."
        ),
    },
    # Roadmap columns, in order.
    "IDEAS_ROADMAP": ["planned", "in-progress", "done"],
    # Ideas shown on the sorted boards (support, trending, newest): the open
    # ones. Every status has its own page anyway.
    "IDEAS_BOARD_STATUSES": ["proposed", "under-review", "planned", "in-progress"],
    # Entries in the home page's "Latest decisions" block, per language.
    "IDEAS_HOME_DECISIONS": 4,
    # Entries in each language's Atom feed of status changes.
    "IDEAS_FEED_MAX_ITEMS": 50,
}


class BoardError(ConfigError):
    """A board setting or idea file the editor must fix (names it)."""


@dataclass(frozen=True)
class BoardSettings:
    """The board's settings, validated."""

    api_url: str | None
    public_url: str
    cache: Path
    timeout: float
    content_dir: Path
    urls: dict[str, dict[str, str]]
    status_slugs: dict[str, dict[str, str]]
    categories: dict[str, dict[str, str]]
    rule: dict[str, str]
    roadmap: tuple[str, ...]
    board_statuses: frozenset[str]
    home_decisions: int
    feed_max_items: int

    @classmethod
    def from_pelican(
        cls, settings: Mapping[str, Any], languages: list[str]
    ) -> BoardSettings:
        """Read and check the settings; BoardError names the one that's wrong."""
        value = {**DEFAULTS, **{k: v for k, v in settings.items() if k in DEFAULTS}}
        api_url = value["IDEAS_API_URL"] or None
        if api_url is not None and (
            not isinstance(api_url, str) or "://" not in api_url
        ):
            raise BoardError(
                f"setting IDEAS_API_URL must be an absolute URL such as "
                f"http://127.0.0.1:8090, not {api_url!r}"
            )
        public = value["IDEAS_PUBLIC_URL"]
        if not isinstance(public, str) or not public.strip():
            raise BoardError(
                f'setting IDEAS_PUBLIC_URL must be a path such as "/idee-api", '
                f"not {public!r}"
            )
        timeout = value["IDEAS_TIMEOUT"]
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise BoardError(f"setting IDEAS_TIMEOUT must be seconds, not {timeout!r}")
        content = Path(settings.get("PATH") or "content")
        folder = Path(str(value["IDEAS_CONTENT_DIR"]))
        urls = _per_language(value, "IDEAS_URLS", languages)
        for lang, table in urls.items():
            missing = set(DEFAULTS["IDEAS_URLS"]["it"]) - set(table)
            if missing:
                raise BoardError(
                    f"setting IDEAS_URLS[{lang!r}] lacks {', '.join(sorted(missing))}"
                )
        slugs = _per_language(value, "IDEAS_STATUS_SLUGS", languages)
        for lang, table in slugs.items():
            if set(table) != set(STATUSES):
                raise BoardError(
                    f"setting IDEAS_STATUS_SLUGS[{lang!r}] must name each status: "
                    f"{', '.join(STATUSES)}"
                )
        categories = value["IDEAS_CATEGORIES"]
        if not isinstance(categories, Mapping) or not all(
            isinstance(v, Mapping) for v in categories.values()
        ):
            raise BoardError(
                "setting IDEAS_CATEGORIES must map each key to its names, "
                '{"moto": {"it": "Moto", "en": "Motorcycles"}}'
            )
        rule = value["IDEAS_RULE"]
        if not isinstance(rule, Mapping) or not all(
            rule.get(lang) for lang in languages
        ):
            raise BoardError(
                f"setting IDEAS_RULE must give the rule in each language "
                f"({', '.join(languages)})"
            )
        for key in ("IDEAS_ROADMAP", "IDEAS_BOARD_STATUSES"):
            unknown = set(value[key]) - set(STATUSES)
            if unknown:
                raise BoardError(
                    f"setting {key}: unknown status {', '.join(sorted(unknown))} "
                    f"(one of {', '.join(STATUSES)})"
                )
        return cls(
            api_url=api_url,
            public_url=public.rstrip("/"),
            cache=Path(str(value["IDEAS_SNAPSHOT_CACHE"])).expanduser(),
            timeout=float(timeout),
            content_dir=folder if folder.is_absolute() else content / folder,
            urls=urls,
            status_slugs=slugs,
            categories={str(k): dict(v) for k, v in categories.items()},
            rule={lang: str(rule[lang]) for lang in languages},
            roadmap=tuple(value["IDEAS_ROADMAP"]),
            board_statuses=frozenset(value["IDEAS_BOARD_STATUSES"]),
            home_decisions=integer(value, "IDEAS_HOME_DECISIONS", BoardError, 0),
            feed_max_items=integer(value, "IDEAS_FEED_MAX_ITEMS", BoardError, 1),
        )


def _per_language(
    value: Mapping[str, Any], key: str, languages: list[str]
) -> dict[str, dict[str, str]]:
    table = value[key]
    if not isinstance(table, Mapping) or any(
        not isinstance(table.get(lang), Mapping) for lang in languages
    ):
        raise BoardError(
            f"setting {key} must have a table for each language "
            f"({', '.join(languages)})"
        )
    return {
        lang: {str(k): str(v) for k, v in table[lang].items()} for lang in languages
    }
