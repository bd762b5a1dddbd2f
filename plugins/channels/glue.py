"""Pelican glue: collect what was written, then write feeds, sitemap, robots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pelican.generators import Generator

from channels import jsonfeed, sitemap, structured
from multilang.glue import listing_group
from multilang.languages import (
    content_alternates,
    is_mirrored_listing,
    listing_alternates,
    url_of_output,
)
from multilang.listings import Listings

# Pages written in this run: (output-relative path, lastmod, alternates).
# Reset by each ChannelsGenerator, filled by the content_written receiver.
_written: list[tuple[str, Any, tuple[tuple[str, str], ...]]] = []
_state: dict[str, Any] = {}


def get_generators(pelican: Any) -> type[Generator]:
    return ChannelsGenerator


def install_template_helpers(generator: Any) -> None:
    """Expose ``blog_posting(article)`` (JSON-LD) to templates."""
    settings = generator.settings
    listings = Listings(settings)

    def blog_posting(article: Any) -> dict:
        return structured.blog_posting(
            article,
            settings["SITEURL"],
            settings["SITENAME"],
            settings["SOCIAL_IMAGE"],
            label=listings.label,
        )

    generator.env.globals["blog_posting"] = blog_posting


def _absolute(siteurl: str, url: str) -> str:
    return f"{siteurl}/{url}"


def _listings(settings: dict[str, Any]) -> Listings:
    if _state.get("listings") is None:
        _state["listings"] = Listings(settings)
    return _state["listings"]


def record_written(path: str, context: dict[str, Any]) -> None:
    """Remember each HTML page written, with its language alternates."""
    settings = _state.get("settings")
    if settings is None or not path.endswith(".html"):
        return
    rel = os.path.relpath(path, settings["OUTPUT_PATH"]).replace(os.sep, "/")
    siteurl = settings["SITEURL"]
    default_lang = settings["DEFAULT_LANG"]
    obj = context.get("article") or context.get("page")
    lastmod = None
    pairs: list[tuple[str, str]] = []
    if context.get("page_alternates") is not None:
        pairs = [
            (a.lang, _absolute(siteurl, a.url)) for a in context["page_alternates"]
        ]
    elif obj is not None and hasattr(obj, "translations"):
        if getattr(obj, "status", "published") != "published":
            return
        lastmod = getattr(obj, "modified", None) or getattr(obj, "date", None)
        pairs = [(a.lang, _absolute(siteurl, a.url)) for a in content_alternates(obj)]
    elif (group := listing_group(context)) is not None:
        languages = list(settings.get("LANGUAGES") or [default_lang])
        lang = context.get("lang") or default_lang
        pairs = [
            (a.lang, _absolute(siteurl, a.url))
            for a in _listings(settings).alternates(group, rel, lang, languages)
        ]
    elif is_mirrored_listing(context, settings):
        languages = list(settings.get("LANGUAGES") or [default_lang])
        lang = context.get("lang") or default_lang
        pairs = [
            (a.lang, _absolute(siteurl, a.url))
            for a in listing_alternates(rel, lang, languages, default_lang)
        ]
    _written.append((rel, lastmod, sitemap.with_x_default(pairs, default_lang)))


class ChannelsGenerator(Generator):
    """Writes JSON Feeds, sitemap.xml and robots.txt after everything else."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _written.clear()
        _state["settings"] = self.settings
        _state["listings"] = None

    def generate_context(self) -> None:
        """Nothing to add: this generator only writes."""

    def generate_output(self, writer: Any) -> None:
        output = Path(self.output_path)
        self._write_json_feeds(output)
        # Our own pages are written by now; later generators (static files)
        # write no HTML. The sitemap is therefore complete at this point.
        self._write_sitemap(output)

    def _excluded(self, rel: str) -> bool:
        excluded = ("404.html", "bozze/", *self.settings.get("SITEMAP_EXCLUDE", ()))
        return any(rel.startswith(prefix) for prefix in excluded)

    def _write_sitemap(self, output: Path) -> None:
        siteurl = self.settings["SITEURL"]
        entries = {
            rel: sitemap.SitemapEntry(
                url=_absolute(siteurl, url_of_output(rel)),
                lastmod=lastmod,
                alternates=alternates,
            )
            for rel, lastmod, alternates in _written
            if not self._excluded(rel)
        }
        (output / "sitemap.xml").write_text(
            sitemap.render(entries.values()), encoding="utf-8"
        )
        disallow = ["bozze/", *self.settings.get("SITEMAP_EXCLUDE", ())]
        (output / "robots.txt").write_text(
            sitemap.robots_txt(siteurl, disallow), encoding="utf-8"
        )

    def _write_json_feeds(self, output: Path) -> None:
        pattern = self.settings.get("JSON_FEED")
        if not pattern:
            return
        settings = self.settings
        siteurl = settings["SITEURL"]
        default_lang = settings["DEFAULT_LANG"]
        articles = self.context.get("articles", [])
        every_version = [
            version
            for article in articles
            for version in (article, *article.translations)
            if getattr(version, "status", "published") == "published"
        ]
        for lang, info in (settings.get("LANGUAGES") or {default_lang: {}}).items():
            label = _listings(settings).label
            items = [
                _feed_item(a, siteurl, label) for a in every_version if a.lang == lang
            ]
            feed_path = pattern.format(lang=lang)
            subtitle = settings.get("SITESUBTITLE", "")
            if isinstance(subtitle, dict):
                subtitle = subtitle.get(lang, "")
            home = siteurl + "/" + ("" if lang == default_lang else f"{lang}/")
            feed = jsonfeed.Feed(
                title=f"{settings['SITENAME']}: {info.get('feed_title', lang)}",
                home_page_url=home,
                feed_url=_absolute(siteurl, feed_path),
                language=lang,
                description=subtitle,
                authors=(settings["AUTHOR"],),
                icon=_absolute(siteurl, settings["SOCIAL_IMAGE"])
                if settings.get("SOCIAL_IMAGE")
                else None,
                items=jsonfeed.newest(items, settings.get("FEED_MAX_ITEMS") or 100),
            )
            target = output / feed_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(jsonfeed.render(feed), encoding="utf-8")


def _feed_item(article: Any, siteurl: str, label: Any) -> jsonfeed.FeedItem:
    url = _absolute(siteurl, article.url)
    return jsonfeed.FeedItem(
        id=url,
        url=url,
        title=article.title,
        content_html=article.content,
        summary=jsonfeed.plain_text(article.summary),
        date_published=article.date,
        date_modified=getattr(article, "modified", None),
        authors=tuple(str(a) for a in getattr(article, "authors", ())),
        tags=tuple(label(t, article.lang) for t in getattr(article, "tags", ())),
        language=article.lang,
        # The post's social card (plugins/socialcards), when it has one.
        image=_absolute(siteurl, card)
        if (card := getattr(article, "social_card", None))
        else None,
    )
