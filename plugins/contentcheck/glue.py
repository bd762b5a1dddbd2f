"""Pelican glue: run the content checks on what the generators read."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

from contentcheck.rules import (
    Item,
    check_categories,
    check_image_alt,
    check_languages,
    check_translations,
    site_categories,
)
from wording import counted

logger = logging.getLogger(__name__)


def _category(content: Any) -> tuple[str, str]:
    category = getattr(content, "category", None)
    return (str(category.name), category.slug) if category else ("", "")


def _items(
    contents: Iterable[Any], root: str, *, with_category: bool = False
) -> list[Item]:
    return [
        Item(
            source=os.path.relpath(c.source_path, root) if c.source_path else "?",
            slug=c.slug,
            lang=c.lang,
            is_translation=str(c.metadata.get("translation", "false")).lower()
            in ("true", "yes", "1"),
            html=c._content or "",
            status=getattr(c, "status", "published"),
            category=_category(c)[0] if with_category else None,
            category_slug=_category(c)[1],
        )
        for c in contents
    ]


def _report(generator: Any, contents: Iterable[Any], *, articles: bool) -> None:
    settings = generator.settings
    languages = list(settings.get("LANGUAGES") or [settings["DEFAULT_LANG"]])
    items = _items(contents, os.getcwd(), with_category=articles)
    problems = [
        *check_languages(items, languages),
        *check_translations(items),
        *check_categories(
            items,
            site_categories(settings.get("CATEGORY_LABELS"), settings["DEFAULT_LANG"]),
        ),
        *check_image_alt(items),
    ]
    if problems:
        # One message for all of them: with --fatal the first error stops the
        # build, and the editor should see every problem at once.
        logger.error(
            "%s:\n%s",
            counted(len(problems), "content problem"),
            "\n".join(f"  {p}" for p in problems),
        )


def check_articles(generator: Any) -> None:
    contents = [
        *generator.articles,
        *generator.translations,
        *generator.hidden_articles,
        *generator.hidden_translations,
        *generator.drafts,
        *generator.drafts_translations,
    ]
    _report(generator, contents, articles=True)


def check_pages(generator: Any) -> None:
    contents = [
        *generator.pages,
        *generator.translations,
        *generator.hidden_pages,
        *generator.hidden_translations,
        *generator.draft_pages,
        *generator.draft_translations,
    ]
    _report(generator, contents, articles=False)
