"""Pelican glue: a generator that writes the Community section from the cache.

It reads ``feeds.toml`` and the cache (``var/community/`` if an aggregate run
finished there, else the snapshot shipped with the content), never the network
unless ``COMMUNITY_REFRESH_ON_BUILD`` asks for it. Stale or broken feeds are
logged at INFO only: the build runs with ``--fatal warnings``, and they are
the status page's business. Invalid configuration raises CommunityError and
fails the build with a message naming the file and line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pelican.generators import Generator

from community.aggregate import run_aggregate
from community.atom import render_atom
from community.cache import Cache
from community.model import FeedState, Subscription
from community.settings import CommunitySettings
from community.subscriptions import load_subscriptions, render_opml
from community.view import CommunityView, DirectoryPage, build_view
from wording import counted

logger = logging.getLogger(__name__)


def get_generators(pelican: Any) -> type[Generator]:
    return CommunityGenerator


def _languages(settings: dict[str, Any]) -> list[str]:
    default = settings["DEFAULT_LANG"]
    languages = list(settings.get("LANGUAGES") or [default])
    return [default, *(lang for lang in languages if lang != default)]


def _prefix(lang: str, default: str) -> str:
    return "" if lang == default else f"{lang}/"


class CommunityGenerator(Generator):
    """Reads subscriptions and cache; writes the index, source pages, status
    page, Atom feed and OPML list; gives every template ``community_latest``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community = CommunitySettings.from_pelican(self.settings)
        self.view: CommunityView | None = None
        self.subscriptions: tuple[Subscription, ...] = ()
        urls = self.community.urls
        # The status page is for editors: keep it out of the sitemap (and
        # robots.txt disallows what the sitemap excludes).
        excluded = list(self.settings.get("SITEMAP_EXCLUDE") or ())
        if urls["status_url"] not in excluded:
            self.settings["SITEMAP_EXCLUDE"] = [*excluded, urls["status_url"]]
        # Pelican's writer paginates the templates named here.
        self.settings["PAGINATED_TEMPLATES"] = {
            **(self.settings.get("PAGINATED_TEMPLATES") or {}),
            "community": self.community.per_page,
        }

    def _cache(self) -> tuple[Cache | None, bool]:
        live = Cache(self.community.cache_dir)
        if live.exists():
            return live, False
        snapshot = Cache(self.community.snapshot_dir)
        if snapshot.exists():
            return snapshot, True
        return None, False

    def generate_context(self) -> None:
        community = self.community
        self.subscriptions = load_subscriptions(community.feeds_file)
        if community.refresh_on_build and self.subscriptions:
            logger.info(
                "community: fetching %s", counted(len(self.subscriptions), "feed")
            )
            run_aggregate(self.subscriptions, community)
        cache, from_snapshot = self._cache()
        states = {
            s.slug: cache.load_state(s.slug, s.url) if cache else FeedState(url=s.url)
            for s in self.subscriptions
        }
        entries = {
            s.slug: cache.load_entries(s.slug) if cache else None
            for s in self.subscriptions
        }
        meta = cache.load_meta() if cache else None
        self.view = build_view(
            self.subscriptions,
            entries,
            states,
            generated_at=meta.generated_at if meta else None,
            rules=community.rules,
            timezone=ZoneInfo(self.settings.get("TIMEZONE") or "UTC"),
            source_url=community.urls["source_url"],
            siteurl=self.settings.get("SITEURL", ""),
            from_snapshot=from_snapshot,
            top_sources=community.top_sources,
            sources_per_page=community.sources_per_page,
        )
        logger.info(
            "community: %s, %s, from %s",
            counted(len(self.subscriptions), "feed"),
            counted(len(self.view.items), "entry", "entries"),
            cache.root if cache else "no cache (run `invoke aggregate`)",
        )
        for row in self.view.status:
            if row.health != "ok":
                logger.info(
                    "community: %s is %s%s",
                    row.source.name,
                    row.health,
                    f": {row.state.last_error}" if row.state.last_error else "",
                )
        self.context["community_latest"] = self.view.items[: community.latest]
        self.context["community_urls"] = {
            "index": community.urls["index_url"],
            "sources": community.urls["sources_url"],
            "status": community.urls["status_url"],
            "feed": community.urls["feed_atom"],
            "opml": community.urls["opml"],
        }

    def generate_output(self, writer: Any) -> None:
        if self.view is None:
            return
        settings = self.settings
        urls = self.community.urls
        default = settings["DEFAULT_LANG"]
        view = self.view
        common = {
            "relative_urls": settings["RELATIVE_URLS"],
            "community_sources": view.sources,
            "community_top_sources": view.top_sources,
            "community_sources_total": view.directory.total,
            "community_generated_at": view.generated_at,
            # multilang reads `blog` as "a listing that exists in every
            # language": it then gives these pages their hreflang alternates
            # and the sitemap lists them with each other.
            "blog": True,
        }
        index = self.get_template("community/index")
        source_template = self.get_template("community/source")
        for lang in _languages(settings):
            prefix = _prefix(lang, default)
            save_as = prefix + urls["index_save_as"]
            writer.write_file(
                save_as,
                index,
                self.context,
                paginated={"community_entries": list(view.items)}
                if view.items
                else None,
                template_name="community",
                url=prefix + urls["index_url"],
                page_name=save_as.rsplit(".", 1)[0],
                lang=lang,
                community_entries=view.items,
                **common,
            )
            for page in view.sources:
                save_as = prefix + urls["source_save_as"].format(slug=page.source.slug)
                writer.write_file(
                    save_as,
                    source_template,
                    self.context,
                    template_name="community/source",
                    url=prefix + page.source.path,
                    page_name=save_as.rsplit(".", 1)[0],
                    lang=lang,
                    community_source=page,
                    community_entries=page.items,
                    **common,
                )
            self._write_directory(writer, lang, prefix, common)
        writer.write_file(
            urls["status_save_as"],
            self.get_template("community/status"),
            self.context,
            relative_urls=settings["RELATIVE_URLS"],
            template_name="community/status",
            url=urls["status_url"],
            page_name=urls["status_save_as"].rsplit(".", 1)[0],
            lang=default,
            community_status=view.status,
            community_summary=view.summary,
            community_max_age_days=self.community.rules.max_age_days,
            community_generated_at=view.generated_at,
            community_from_snapshot=view.from_snapshot,
        )
        self._write_feeds(Path(self.output_path))

    def _directory_url(self, number: int, key: str = "url") -> str:
        urls = self.community.urls
        if number == 1:
            return urls[f"sources_{key}"]
        return urls[f"sources_page_{key}"].format(number=number)

    def _write_directory(
        self, writer: Any, lang: str, prefix: str, common: dict[str, Any]
    ) -> None:
        """The sources directory in one language: letter sections over pages
        linked to each other (no JavaScript needed)."""
        directory = self.view.directory
        pages = directory.pages or (DirectoryPage(1, ()),)
        page_urls = {p.number: prefix + self._directory_url(p.number) for p in pages}
        template = self.get_template("community/sources")
        for directory_page in pages:
            save_as = prefix + self._directory_url(directory_page.number, "save_as")
            writer.write_file(
                save_as,
                template,
                self.context,
                template_name="community/sources",
                url=page_urls[directory_page.number],
                page_name=save_as.rsplit(".", 1)[0],
                lang=lang,
                community_directory=directory,
                community_directory_page=directory_page,
                community_directory_urls=page_urls,
                **common,
            )

    def _write_feeds(self, output: Path) -> None:
        settings = self.settings
        urls = self.community.urls
        default = settings["DEFAULT_LANG"]
        siteurl = settings.get("SITEURL", "")
        feed_domain = settings.get("FEED_DOMAIN") or siteurl
        title = self.community.title.get(default) or next(
            iter(self.community.title.values()), "Community"
        )
        full_title = f"{settings.get('SITENAME', '')} — {title}".strip(" —")
        atom = render_atom(
            self.view.items[: self.community.feed_max_items],
            title=full_title,
            home=f"{siteurl}/{urls['index_url']}",
            feed_url=f"{feed_domain}/{urls['feed_atom']}",
            language=default,
            updated=self.view.generated_at,
            source_page=f"{siteurl}/{urls['source_url']}",
        )
        _write(output / urls["feed_atom"], atom)
        opml = render_opml(
            self.subscriptions, full_title, home=f"{siteurl}/{urls['index_url']}"
        )
        _write(output / urls["opml"], opml)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    logger.info('Writing "%s"', path)
