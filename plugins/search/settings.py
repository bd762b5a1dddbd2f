"""Settings of the search plugin: defaults in one dict, each documented."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Where the search page lives in each language (site-relative URL; the
    # page is saved as <url>index.html). A language missing here gets
    # "<lang>/search/".
    "SEARCH_URLS": {"it": "cerca/", "en": "en/search/"},
    # Where the Pagefind bundle is, site-relative (piazza/search.py writes it
    # there, and the nginx sample serves it with its own types and lifetimes).
    "SEARCH_BUNDLE_URL": "pagefind/",
}


class SearchSettingsError(ValueError):
    """A search setting that cannot work, named with what to do."""


def read(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The plugin's settings, defaults filled in, checked."""
    values = {key: settings.get(key, default) for key, default in DEFAULTS.items()}
    urls = dict(values["SEARCH_URLS"] or {})
    for lang in settings.get("LANGUAGES") or {settings["DEFAULT_LANG"]: {}}:
        urls.setdefault(lang, f"{lang}/search/")
    for lang, url in urls.items():
        if not isinstance(url, str) or not url.endswith("/") or url.startswith("/"):
            raise SearchSettingsError(
                f"SEARCH_URLS[{lang!r}] is {url!r}: give a site-relative folder "
                "URL ending in '/' and not starting with one, like 'cerca/'"
            )
    values["SEARCH_URLS"] = urls
    return values
