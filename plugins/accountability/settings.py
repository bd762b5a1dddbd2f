"""Settings of the public record: defaults in one dict, each documented."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Where the build reads the ideas service (None: only the cached copy).
    "IDEAS_API_URL": None,
    # The last good snapshot, relative to the project root.
    "IDEAS_SNAPSHOT_CACHE": "var/ideas/snapshot.json",
    # The page's address in each language (URL, file).
    "ACCOUNTABILITY_PAGES": {
        "it": ("idee/cosa-abbiamo-fatto/", "idee/cosa-abbiamo-fatto/index.html"),
        "en": ("en/ideas/what-we-did/", "en/ideas/what-we-did/index.html"),
    },
    # The board in each language: the link of a decision whose idea has no
    # page of its own (an idea's page is the board's: plugins/ideaboard's
    # context key ``ideas_pages``).
    "ACCOUNTABILITY_BOARD_URLS": {"it": "idee/", "en": "en/ideas/"},
    # Decisions listed on the page, newest first.
    "ACCOUNTABILITY_LATEST": 10,
}


class AccountabilityError(Exception):
    """A setting of the public record that cannot be used (names it)."""


def read(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The plugin's settings, defaults filled in and checked."""
    values = {key: settings.get(key, default) for key, default in DEFAULTS.items()}
    latest = values["ACCOUNTABILITY_LATEST"]
    if not isinstance(latest, int) or isinstance(latest, bool) or latest < 0:
        raise AccountabilityError(
            f"ACCOUNTABILITY_LATEST: {latest!r} is not a number of decisions"
        )
    for key in ("ACCOUNTABILITY_PAGES", "ACCOUNTABILITY_BOARD_URLS"):
        if not isinstance(values[key], Mapping):
            raise AccountabilityError(f"{key}: give one entry per language")
    return values
