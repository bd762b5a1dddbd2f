"""Category and tag listings in each language: their names and their URLs.

Sources name categories and tags in the default language (``Category: Moto``,
``Tags: storia``). ``CATEGORY_LABELS`` and ``TAG_LABELS`` give each, by slug, its
name in the other languages; an English reader sees "Motorcycles" and "#history",
at an address in English words when the site sets a per-language pattern::

    CATEGORY_LANG_URL = "{lang}/category/{slug}/"   # {slug}: of the label
    CATEGORY_LANG_SAVE_AS = "{lang}/category/{slug}/index.html"
    TAG_LANG_URL = "{lang}/tag/{slug}/"
    TAG_LANG_SAVE_AS = "{lang}/tag/{slug}/index.html"

Without a pattern, a listing in another language lives under ``<lang>/`` at
the default language's address (``en/categoria/moto/``). One ``Listings`` per
build answers templates, the language listings writer, the sitemap and feeds,
so a URL is computed in one place.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from multilang.languages import Alternate, lang_prefix, url_of_output

LABELS = {"category": "CATEGORY_LABELS", "tag": "TAG_LABELS"}


@cache
def _kind(wrapper: type) -> str:
    return wrapper.__name__.lower()


def kind_of(group: Any) -> str:
    """The kind of a Pelican URL wrapper: "category", "tag" or "author"."""
    return _kind(type(group))


class Listings:
    """Names and addresses of category, tag and author listings per language."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self.default_lang: str = settings["DEFAULT_LANG"]
        self._labels = {
            kind: settings.get(setting) or {} for kind, setting in LABELS.items()
        }
        self._slugs: dict[tuple[str, str, str], str] = {}

    def labels(self, kind: str) -> Mapping[str, Mapping[str, str]]:
        return self._labels.get(kind, {})

    def label(self, group: Any, lang: str) -> str:
        """The group's name in ``lang`` (as written when it has no label)."""
        names = self._labels.get(kind_of(group), {}).get(group.slug)
        return (names.get(lang) if names else None) or str(group)

    def slug(self, group: Any, lang: str) -> str:
        """The slug of the group's name in ``lang``, made as Pelican makes slugs."""
        key = (kind_of(group), group.slug, lang)
        if key not in self._slugs:
            label = self.labels(key[0]).get(group.slug, {}).get(lang)
            self._slugs[key] = (
                type(group)(label, self.settings).slug if label else group.slug
            )
        return self._slugs[key]

    def url(self, group: Any, lang: str) -> str:
        """The listing's site-relative URL in ``lang``."""
        return self._localized(group, lang, "URL", group.url)

    def save_as(self, group: Any, lang: str) -> str:
        """Where the listing in ``lang`` is written, relative to the output."""
        return self._localized(group, lang, "SAVE_AS", group.save_as)

    def _localized(self, group: Any, lang: str, what: str, default: str) -> str:
        if lang == self.default_lang:
            return default
        pattern = self.settings.get(f"{kind_of(group).upper()}_LANG_{what}")
        if not pattern:
            return lang_prefix(lang, self.default_lang) + default
        return pattern.format(lang=lang, slug=self.slug(group, lang))

    def page_name(self, group: Any, lang: str) -> str:
        return os.path.splitext(self.save_as(group, lang))[0]

    def alternates(
        self, group: Any, output_file: str, lang: str, languages: Iterable[str]
    ) -> list[Alternate]:
        """The language versions of one page of a group's listing (page 2 of
        the English tag "history" and page 2 of the Italian "storia")."""
        base = os.path.dirname(self.save_as(group, lang))
        rest = output_file[len(base) :] if output_file.startswith(base) else ""
        return [
            Alternate(
                lang=other,
                url=url_of_output(os.path.dirname(self.save_as(group, other)) + rest),
                current=other == lang,
            )
            for other in sorted(languages)
        ]

    def moved(self, languages: Iterable[str]) -> list[Moved]:
        """The listings a per-language pattern moved, old prefix to new.

        Old is where a listing was before the pattern (``en/categoria/moto/``),
        new where it is now (``en/category/motorcycles/``); the last of each
        kind, without a slug, catches the groups without a label.
        """
        moves: list[Moved] = []
        for kind in ("category", "tag"):
            wrapper_url = self.settings.get(f"{kind.upper()}_URL")
            pattern = self.settings.get(f"{kind.upper()}_LANG_URL")
            if not pattern or not wrapper_url:
                continue
            for lang in languages:
                if lang == self.default_lang:
                    continue
                prefix = lang_prefix(lang, self.default_lang)
                for slug, names in sorted(self.labels(kind).items()):
                    label = names.get(lang)
                    new_slug = _slug_of(kind, label, self.settings) if label else slug
                    old = prefix + wrapper_url.format(slug=slug)
                    new = pattern.format(lang=lang, slug=new_slug)
                    if old != new:
                        moves.append(Moved(old, new))
                old_any = prefix + _before_slug(wrapper_url, lang=lang)
                new_any = _before_slug(pattern, lang=lang)
                if old_any != new_any:
                    moves.append(Moved(old_any, new_any, every=True))
        return moves


@dataclass(frozen=True)
class Moved:
    """A listing's old URL prefix and its new one (site-relative)."""

    old: str
    new: str
    every: bool = False  # the whole kind: whatever follows ``old`` moves too


def _before_slug(pattern: str, **values: str) -> str:
    """What a URL pattern gives up to its slug ("{lang}/tag/{slug}/" -> "en/tag/")."""
    return pattern.format(slug="\0", **values).split("\0", 1)[0]


def _slug_of(kind: str, name: str, settings: Mapping[str, Any]) -> str:
    from pelican.urlwrappers import Category, Tag  # noqa: PLC0415

    wrapper = {"category": Category, "tag": Tag}[kind]
    return wrapper(name, settings).slug
