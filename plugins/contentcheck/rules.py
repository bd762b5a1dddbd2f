"""Pure checks on content: plain inputs in, problems out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass(frozen=True)
class Problem:
    """Something wrong with one source file, said so an editor can fix it."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True)
class Item:
    """What the checks need to know of an article or page."""

    source: str
    slug: str
    lang: str
    is_translation: bool
    html: str
    status: str = "published"
    category: str | None = None  # articles only: the name given (or "")
    category_slug: str = ""

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"


def check_languages(items: Iterable[Item], languages: Sequence[str]) -> list[Problem]:
    known = ", ".join(sorted(languages))
    return [
        Problem(
            item.source,
            f"unknown language 'Lang: {item.lang}'; this site publishes in {known} "
            "(LANGUAGES in pelicanconf.py)",
        )
        for item in items
        if item.lang not in languages
    ]


def check_translations(items: Iterable[Item]) -> list[Problem]:
    """Each translation needs an original; a language appears once per status.

    Translations publish on their own: an original whose translation is still a
    draft publishes alone (its language switch appears with the translation). The
    other way round can't work: a published translation of a draft or of nothing
    is one problem, naming both files (or the slug it looked for).
    """
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        groups[item.slug].append(item)
    problems = []
    for slug, group in groups.items():
        originals = [i for i in group if not i.is_translation]
        for item in group:
            if not item.is_translation or (originals and item.is_draft):
                continue
            if not originals:
                problems.append(
                    Problem(
                        item.source,
                        f"'Translation: true' but no original with 'Slug: {slug}' "
                        "exists; give the translation the slug of the post it "
                        "translates",
                    )
                )
            elif all(o.is_draft for o in originals):
                drafts = ", ".join(o.source for o in originals)
                problems.append(
                    Problem(
                        item.source,
                        f"this translation is published but its original {drafts} "
                        "is a draft; publish the original first (Status: "
                        "published), or keep this translation a draft (Status: draft)",
                    )
                )
        by_status_lang: dict[tuple[bool, str], list[Item]] = defaultdict(list)
        for item in group:
            by_status_lang[item.is_draft, item.lang].append(item)
        for (_, lang), same in by_status_lang.items():
            if len(same) > 1:
                others = ", ".join(i.source for i in same[1:])
                problems.append(
                    Problem(
                        same[0].source,
                        f"'Slug: {slug}' in language '{lang}' is also used by {others}",
                    )
                )
    return problems


def site_categories(
    labels: Mapping[str, Mapping[str, str]] | None, default_lang: str
) -> dict[str, str]:
    """Slug -> name of the site's categories, from CATEGORY_LABELS.

    The name is the label in the default language (what sources write), else
    the slug itself.
    """
    return {
        slug: names.get(default_lang, slug) for slug, names in (labels or {}).items()
    }


def check_categories(items: Iterable[Item], known: Mapping[str, str]) -> list[Problem]:
    """Every post is filed under one of the site's categories.

    ``known`` maps each category's slug to its name (CATEGORY_LABELS); an empty
    ``known`` means the site keeps no list, and only a missing category counts.
    """
    choices = ", ".join(sorted(known.values())) or "any name"
    where = "(CATEGORY_LABELS in pelicanconf.py)"
    problems = []
    for item in items:
        if item.category is None:
            continue
        if not item.category.strip():
            problems.append(
                Problem(
                    item.source,
                    f"no 'Category:'; give it one of {choices} {where}",
                )
            )
        elif known and item.category_slug not in known:
            problems.append(
                Problem(
                    item.source,
                    f"unknown category 'Category: {item.category}'; use one of "
                    f"{choices}, or add it with its labels {where}",
                )
            )
    return problems


class _ImageAltFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.missing: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img":
            return
        values = dict(attrs)
        if not (values.get("alt") or "").strip():
            self.missing.append(values.get("src") or "(no src)")


def check_image_alt(items: Iterable[Item]) -> list[Problem]:
    """Every image in content needs alt text (an empty alt hides it from readers)."""
    problems = []
    for item in items:
        if "<img" not in item.html:
            continue
        finder = _ImageAltFinder()
        finder.feed(item.html)
        problems.extend(
            Problem(item.source, f"image {src} has no alt text; describe it in alt")
            for src in finder.missing
        )
    return problems
