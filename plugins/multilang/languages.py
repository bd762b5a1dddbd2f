"""Pure logic: which language a page is in, its alternates, localised lists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Listing templates that exist once per language (the default at the root,
# the others under "<lang>/").
MIRRORED_TEMPLATES = frozenset(
    {"index", "category", "tag", "author", "archives", "categories", "tags", "authors"}
)


@dataclass(frozen=True)
class Alternate:
    """One language version of a page, for hreflang links and the switcher."""

    lang: str
    url: str  # site-relative, no leading slash ("" is the home page)
    current: bool = False


def page_lang(context: Mapping[str, Any], default_lang: str) -> str:
    """The language a template is rendering in.

    An explicit ``lang`` in the context wins (mirrored listings set it), then the
    language of the article or page being rendered, then the site default.
    """
    explicit = context.get("lang")
    if isinstance(explicit, str) and explicit:
        return explicit
    for key in ("article", "page"):
        obj = context.get(key)
        lang = getattr(obj, "lang", None)
        if isinstance(lang, str) and lang:
            return lang
    return default_lang


def is_mirrored_listing(
    context: Mapping[str, Any], settings: Mapping[str, Any]
) -> bool:
    """Whether a page is an article listing that exists in every language.

    Pelican marks every page of the articles generator with ``blog=True``; the
    listings among them are those without an ``article``, less the direct
    templates that are not mirrored (the 404 page).
    """
    if not context.get("blog") or context.get("article") is not None:
        return False
    not_mirrored = {
        settings.get(f"{t.upper()}_SAVE_AS", f"{t}.html").rsplit(".", 1)[0]
        for t in settings.get("DIRECT_TEMPLATES", ())
        if t not in MIRRORED_TEMPLATES
    }
    page_name = str(context.get("page_name", ""))
    for lang in settings.get("LANGUAGES", ()):
        prefix = lang_prefix(lang, settings["DEFAULT_LANG"])
        if prefix and page_name.startswith(prefix):
            page_name = page_name[len(prefix) :]
    return page_name not in not_mirrored


def lang_prefix(lang: str, default_lang: str) -> str:
    """URL prefix for a language's mirrored listings: "" for the default."""
    return "" if lang == default_lang else f"{lang}/"


def strip_lang_prefix(path: str, languages: Iterable[str], default_lang: str) -> str:
    for lang in languages:
        prefix = lang_prefix(lang, default_lang)
        if prefix and path.startswith(prefix):
            return path[len(prefix) :]
    return path


def url_of_output(output_file: str) -> str:
    """The URL Pelican serves an output file at ("a/index.html" -> "a/")."""
    if output_file == "index.html":
        return ""
    if output_file.endswith("/index.html"):
        return output_file[: -len("index.html")]
    return output_file


def content_alternates(obj: Any) -> list[Alternate]:
    """An article or page and its translations, in a stable language order.

    Kept on the object: templates, the sitemap and feeds all ask, and Pelican
    computes a URL afresh on every access.
    """
    cached = getattr(obj, "_piazza_alternates", None)
    if cached is not None:
        return cached
    versions = [obj, *getattr(obj, "translations", ())]
    alternates = sorted(
        (
            Alternate(lang=v.lang, url=v.url, current=v is obj)
            for v in versions
            if v is obj or getattr(v, "status", "published") == "published"
        ),
        key=lambda a: a.lang,
    )
    obj._piazza_alternates = alternates
    return alternates


def listing_alternates(
    output_file: str, lang: str, languages: Sequence[str], default_lang: str
) -> list[Alternate]:
    """The language versions of a mirrored listing page."""
    base = strip_lang_prefix(output_file, languages, default_lang)
    return [
        Alternate(
            lang=other,
            url=url_of_output(lang_prefix(other, default_lang) + base),
            current=other == lang,
        )
        for other in sorted(languages)
    ]


def localize(articles: Iterable[Any], lang: str) -> list[Any]:
    """Each article in ``lang`` where a translation exists, else as written.

    Readers of a language see every post: the translated ones in their
    language, the others in the original (the theme marks their language).
    """
    localized = []
    for article in articles:
        if article.lang == lang:
            localized.append(article)
            continue
        translation = next(
            (
                t
                for t in getattr(article, "translations", ())
                if t.lang == lang and getattr(t, "status", "published") == "published"
            ),
            None,
        )
        localized.append(translation or article)
    return localized
