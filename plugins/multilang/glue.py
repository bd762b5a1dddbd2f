"""Pelican glue: template helpers per page language and mirrored listings."""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from babel.dates import format_date as babel_format_date
from jinja2 import pass_context
from jinja2.runtime import Context

from multilang.catalogs import load_translations
from multilang.languages import (
    MIRRORED_TEMPLATES,
    Alternate,
    content_alternates,
    is_mirrored_listing,
    lang_prefix,
    listing_alternates,
    localize,
    page_lang,
    url_of_output,
)
from multilang.listings import Listings, kind_of


def _languages(settings: dict[str, Any]) -> dict[str, dict[str, str]]:
    default = settings["DEFAULT_LANG"]
    return settings.get("LANGUAGES") or {default: {"name": default, "locale": default}}


def install_template_helpers(generator: Any) -> None:
    """Give every template gettext in its page's language, and a few helpers."""
    settings = generator.settings
    env = generator.env
    default_lang = settings["DEFAULT_LANG"]
    languages = _languages(settings)
    translations_dir = str(Path(settings["THEME"]) / "translations")
    listings = Listings(settings)

    def translations_for(ctx: Context):
        return load_translations(translations_dir, page_lang(ctx, default_lang))

    @pass_context
    def gettext(ctx: Context, message: str) -> str:
        return translations_for(ctx).gettext(message)

    @pass_context
    def ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
        return translations_for(ctx).ngettext(singular, plural, n)

    @pass_context
    def current_lang(ctx: Context) -> str:
        return page_lang(ctx, default_lang)

    @pass_context
    def alternates(ctx: Context) -> list[Alternate]:
        # A generator that knows its pages' languages says so (the ideas
        # board: /idee/ and /en/ideas/ are not one path under two prefixes).
        given = ctx.get("page_alternates")
        if given is not None:
            return list(given)
        for key in ("article", "page"):
            obj = ctx.get(key)
            if obj is not None and hasattr(obj, "translations"):
                return content_alternates(obj)
        group = listing_group(ctx)
        if group is not None and ctx.get("output_file"):
            return listings.alternates(
                group, ctx["output_file"], page_lang(ctx, default_lang), languages
            )
        if is_mirrored_listing(ctx, settings) and ctx.get("output_file"):
            return listing_alternates(
                ctx["output_file"],
                page_lang(ctx, default_lang),
                list(languages),
                default_lang,
            )
        return []

    @pass_context
    def page_url(ctx: Context) -> str:
        """The site-relative URL of the page being rendered."""
        return url_of_output(ctx.get("output_file") or "index.html")

    @pass_context
    def menu_pages(ctx: Context) -> list[Any]:
        """The pages named in MENU_PAGES, each in the page's language if translated."""
        by_slug = {p.slug: p for p in ctx.get("pages", ())}
        chosen = [by_slug[s] for s in settings.get("MENU_PAGES", ()) if s in by_slug]
        return localize(chosen, page_lang(ctx, default_lang))

    @pass_context
    def lang_url(ctx: Context, url: str) -> str:
        """A listing URL in the current page's language ("tag/x/" -> "en/tag/x/")."""
        return lang_prefix(page_lang(ctx, default_lang), default_lang) + url

    @pass_context
    def listing_url(ctx: Context, group: Any) -> str | None:
        """The URL of a category's, tag's or author's listing in the page's
        language, or None when the build writes none (a tag only drafts use).
        """
        if not _has_listing(ctx, group):
            return None
        return listings.url(group, page_lang(ctx, default_lang))

    def label(group: Any, lang: str) -> str:
        """A category's or tag's name in ``lang`` (CATEGORY_LABELS, TAG_LABELS)."""
        return listings.label(group, lang)

    @lru_cache(maxsize=65536)
    def format_date(value: Any, lang: str, fmt: str = "long") -> str:
        # Babel takes ~60 µs a call; a post's date is shown on its page, its
        # card and the archive, in each language: format each once.
        locale = languages.get(lang, {}).get("locale", lang)
        return babel_format_date(value, format=fmt, locale=locale)

    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.globals.update(
        page_lang=current_lang,
        alternates=alternates,
        lang_url=lang_url,
        listing_url=listing_url,
        page_url=page_url,
        menu_pages=menu_pages,
        LANGUAGES=languages,
    )
    env.filters.update(category_label=label, tag_label=label, format_date=format_date)


_LISTINGS = {"category": "categories", "tag": "tags", "author": "authors"}


def listing_group(ctx: Any) -> Any:
    """The category or tag whose listing a template renders, if any.

    Pelican passes the group as ``category=`` or ``tag=`` to its listing (an
    article page passes its category too, beside ``article``).
    """
    if ctx.get("article") is not None:
        return None
    for kind in ("tag", "category"):
        group = ctx.get(kind)
        if group is not None and kind_of(group) == kind:
            return group
    return None


def _has_listing(ctx: Context, group: Any) -> bool:
    """Whether a listing page is written for ``group``: only published posts
    make one, so a tag or category used by drafts alone has none.
    """
    key = _LISTINGS.get(kind_of(group))
    listed = ctx.get(key) if key else None
    if listed is None:
        return True
    return group.slug in _listed_slugs(listed)


# The slugs of the groups with a listing, per list of groups: a page asks for
# each of its tags, and the lists stay the same for a whole build (each list is
# kept, so a later build's list is never mistaken for it).
_listed: list[tuple[Any, frozenset[str]]] = []


def _listed_slugs(listed: Any) -> frozenset[str]:
    for known, slugs in _listed:
        if known is listed:
            return slugs
    groups = listed.keys() if isinstance(listed, dict) else (g for g, _ in listed)
    slugs = frozenset(g.slug for g in groups)
    _listed[:] = [*_listed[-2:], (listed, slugs)]
    return slugs


def write_language_listings(generator: Any, writer: Any) -> None:
    """Write each listing page again for every non-default language.

    The lists hold each post in that language where a translation exists, so an
    English reader browses the blog in English from /en/ on.
    """
    settings = generator.settings
    if generator.__class__.__name__ != "ArticlesGenerator":
        return
    default_lang = settings["DEFAULT_LANG"]
    listings = Listings(settings)
    write = partial(writer.write_file, relative_urls=settings["RELATIVE_URLS"])
    context = generator.context
    for lang in _languages(settings):
        if lang == default_lang:
            continue
        prefix = lang_prefix(lang, default_lang)
        articles = localize(generator.articles, lang)
        dates = localize(generator.dates, lang)
        for template in settings["DIRECT_TEMPLATES"]:
            if template not in MIRRORED_TEMPLATES:
                continue
            save_as = settings.get(f"{template.upper()}_SAVE_AS", f"{template}.html")
            if not save_as:
                continue
            url = settings.get(f"{template.upper()}_URL", "")
            write(
                prefix + save_as,
                generator.get_template(template),
                context,
                articles=articles,
                dates=dates,
                blog=True,
                template_name=template,
                page_name=prefix + save_as.rsplit(".", 1)[0],
                url=prefix + url if template != "index" else prefix,
                lang=lang,
            )
        for kind, groups in (
            ("category", generator.categories),
            ("tag", generator.tags.items()),
            ("author", generator.authors),
        ):
            template = generator.get_template(kind)
            for group, members in groups:
                local = localize(members, lang)
                in_group = {id(a) for a in local}
                write(
                    listings.save_as(group, lang),
                    template,
                    context,
                    url=listings.url(group, lang),
                    articles=local,
                    dates=[a for a in dates if id(a) in in_group],
                    template_name=kind,
                    blog=True,
                    page_name=listings.page_name(group, lang),
                    all_articles=articles,
                    lang=lang,
                    **{kind: group},
                )


def year_archives(dates: list[Any]) -> list[tuple[int, list[Any]]]:
    """Posts by year, newest year first, each year's newest post first."""
    years: dict[int, list[Any]] = {}
    for article in dates:
        years.setdefault(article.date.year, []).append(article)
    return [
        (year, sorted(years[year], key=lambda a: a.date, reverse=True))
        for year in sorted(years, reverse=True)
    ]


def write_year_archives(generator: Any, writer: Any) -> None:
    """One archive page per year and language (``archivio/2026/``,
    ``en/archivio/2026/``): the archive's own page lists the years, so no
    listing grows with the age of the blog (YEAR_ARCHIVE_SAVE_AS, a pattern
    with ``{year}``)."""
    settings = generator.settings
    pattern = settings.get("PIAZZA_YEAR_ARCHIVE_SAVE_AS", "")
    if generator.__class__.__name__ != "ArticlesGenerator" or not pattern:
        return
    default_lang = settings["DEFAULT_LANG"]
    write = partial(writer.write_file, relative_urls=settings["RELATIVE_URLS"])
    template = generator.get_template("period_archives")
    for lang in _languages(settings):
        prefix = lang_prefix(lang, default_lang)
        dates = localize(generator.dates, lang)
        years = year_archives(dates)
        counts = [(year, len(posts)) for year, posts in years]
        for year, posts in years:
            save_as = prefix + pattern.format(year=year)
            write(
                save_as,
                template,
                generator.context,
                articles=posts,
                dates=posts,
                period=(year,),
                years=counts,
                blog=True,
                template_name="period_archives",
                page_name=save_as.rsplit(".", 1)[0],
                url=url_of_output(save_as),
                lang=lang,
            )


def label_feed_categories(context: dict[str, Any], feed: Any) -> None:
    """Name each feed entry's category and tags in the entry's own language.

    Pelican's Atom and RSS writer adds them as written in the sources (the
    default language); an English entry gets "Motorcycles" and "history".
    """
    settings = context  # Pelican's context holds every setting
    listings = Listings(settings)
    for item in feed.items:
        link = str(item.get("link", "")).removesuffix("?ref=feed")
        article = _article_at(context, link)
        if article is None or article.lang == settings["DEFAULT_LANG"]:
            continue
        groups = [
            *([article.category] if getattr(article, "category", None) else []),
            *getattr(article, "tags", ()),
        ]
        item["categories"] = [listings.label(g, article.lang) for g in groups]


# Articles by absolute URL, found newest first (feeds hold the newest few, and
# Pelican computes a URL afresh on every access): one index per build, the
# article list kept so that a later build's list is never mistaken for it.
_feed_index: dict[str, Any] = {"articles": None, "unseen": iter(()), "by_url": {}}


def _article_at(context: dict[str, Any], link: str) -> Any:
    articles = context.get("articles", ())
    if _feed_index["articles"] is not articles:
        versions = [
            version
            for article in articles
            for version in (article, *getattr(article, "translations", ()))
        ]
        versions.sort(key=lambda v: v.date, reverse=True)
        _feed_index.update(articles=articles, unseen=iter(versions), by_url={})
    by_url = _feed_index["by_url"]
    siteurl = str(context.get("SITEURL", "")).rstrip("/")
    while link not in by_url:
        version = next(_feed_index["unseen"], None)
        if version is None:
            return None
        by_url[f"{siteurl}/{version.url}"] = version
    return by_url[link]
