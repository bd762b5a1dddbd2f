"""Pelican glue: a card for every published article and page, once the
generators have read the content and before anything is written.

Thin: it picks the posts, asks the cache, draws what is new, copies the cards
into the output and tells each post where its card is (``social_card``,
``social_card_alt``, ``social_card_type``: base.html's meta block uses them).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pelican.generators import ArticlesGenerator, PagesGenerator

from pictures.cover import CoverError, cover_source
from socialcards import fonts
from socialcards.cache import CardCache, card_key, file_digest
from socialcards.draw import draw, open_cover
from socialcards.errors import SocialCardsError
from socialcards.layout import card_text
from socialcards.model import HEIGHT, WIDTH, Card
from socialcards.settings import SocialCardsSettings
from wording import counted

logger = logging.getLogger(__name__)

MIME = {"png": "image/png", "jpg": "image/jpeg"}
OFF = frozenset({"off", "no", "false", "0"})


def _wanted(content: Any) -> bool:
    value = str(content.metadata.get("social-card", "")).strip().lower()
    return value not in OFF


def _items(generators: Iterable[Any], pages: bool) -> list[tuple[Any, str]]:
    """(content, kind) for every published or hidden article and page;
    drafts have no card (nobody shares a page asking not to be indexed)."""
    found: list[tuple[Any, str]] = []
    for generator in generators:
        if isinstance(generator, ArticlesGenerator):
            for name in (
                "articles",
                "translations",
                "hidden_articles",
                "hidden_translations",
            ):
                found += [(a, "article") for a in getattr(generator, name, ())]
        elif pages and isinstance(generator, PagesGenerator):
            for name in (
                "pages",
                "translations",
                "hidden_pages",
                "hidden_translations",
            ):
                found += [(p, "page") for p in getattr(generator, name, ())]
    return [(c, kind) for c, kind in found if _wanted(c)]


def _site_name(settings: Mapping[str, Any], lang: str) -> str:
    name = settings.get("SITENAME", "")
    if isinstance(name, Mapping):
        name = name.get(lang) or name.get(settings.get("DEFAULT_LANG", "")) or ""
    return str(name)


def make_cards(generators: list[Any]) -> None:
    """The ``all_generators_finalized`` receiver."""
    generators = [
        g for g in generators if isinstance(g, ArticlesGenerator | PagesGenerator)
    ]
    if not generators:
        return
    settings = generators[0].settings
    config = SocialCardsSettings.from_pelican(settings)
    content_root = Path(generators[0].path)
    output = Path(generators[0].output_path)
    cache = CardCache(config.cache_dir)
    title_glyphs = fonts.GlyphCheck(config.style.title_font)
    label_glyphs = fonts.GlyphCheck(config.style.label_font)
    problems: list[str] = []
    # plugins/pictures names every bad cover already (file and field): one
    # error per broken cover, not one per plugin that reads it.
    covers_reported = "pictures" in {
        getattr(p, "__name__", p) for p in settings.get("PLUGINS") or ()
    }
    written: dict[str, str] = {}
    drawn = reused = 0
    started = time.perf_counter()
    for content, kind in _items(generators, config.pages):
        source = str(content.source_path)
        lang = content.lang
        try:
            found = cover_source(content, content_root)
        except CoverError as exc:
            if not covers_reported:
                problems.append(f"{exc}. Its social card is drawn without the cover.")
            found = None
        cover_path, cover_alt = found if found else (None, "")
        card = Card(
            title=card_text(content.title, title_glyphs),
            site_name=card_text(_site_name(settings, lang), label_glyphs),
            lang=lang,
            cover=cover_path,
            source=source,
        )
        key = card_key(
            card, file_digest(cover_path) if cover_path else None, config.fingerprint
        )
        cached = cache.find(key)
        if cached is not None:
            reused += 1
            ext = cached.suffix[1:]
            data = None
        else:
            image = None
            broken = False
            if cover_path is not None:
                try:
                    image = open_cover(cover_path, source)
                except SocialCardsError as exc:
                    if not covers_reported:
                        problems.append(str(exc))
                    broken = True
            result = draw(card, config.style, image)
            drawn += 1
            ext, data = result.ext, result.data
            if not broken:  # a broken cover is tried (and reported) every build
                cached = cache.store(key, ext, data)
        pattern = config.article_save_as if kind == "article" else config.page_save_as
        save_as = pattern.format(slug=content.slug, lang=lang, key=key[:10], ext=ext)
        if save_as in written:
            raise SocialCardsError(
                f"{source} and {written[save_as]} would share the social card "
                f"{save_as}: give them different slugs, or change "
                f"SOCIAL_CARDS_{kind.upper()}_SAVE_AS"
            )
        written[save_as] = source
        target = output / save_as
        target.parent.mkdir(parents=True, exist_ok=True)
        if cached is not None:
            shutil.copyfile(cached, target)
        else:
            target.write_bytes(data or b"")
        content.social_card = save_as
        content.social_card_type = MIME[ext]
        content.social_card_width = WIDTH
        content.social_card_height = HEIGHT
        content.social_card_alt = _alt(card, cover_alt if cover_path else "")
    logger.info(
        "Social cards: %s drawn, %s reused from %s (%.1f s)",
        counted(drawn, "card"),
        counted(reused, "card"),
        config.cache_dir,
        time.perf_counter() - started,
    )
    for problem in problems:
        logger.error(problem)


def _alt(card: Card, cover_alt: str) -> str:
    """What the card shows, for og:image:alt: the title, the site, the cover."""
    words = f"{card.title} — {card.site_name}" if card.title else card.site_name
    return f"{words}. {cover_alt}" if cover_alt else words
