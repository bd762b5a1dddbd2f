"""Social cards in real Pelican builds: every post's og:image and
twitter:image is a 1200x630 card in the output, in the post's language, with
its cover; a second build draws none; odd titles and broken covers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, run_pelican
from lxml import html
from pelican.settings import read_settings
from PIL import Image, ImageChops
from test_site import PAGE_SOURCES, POST_SOURCES

MINIMAL = FIXTURES / "content" / "minimal"
LAKE = FIXTURES / "socialcards" / "lake.jpg"

POST = """Title: {title}
Date: 2026-01-{day:02d} 10:00
Category: Azienda
Slug: {slug}
Lang: it
Author: Chiara Valsecchi
Summary: Un articolo di prova.
{extra}
Testo.
"""

HOSTILE = {
    "entita": "Tom &amp; Jerry <em>in corsivo</em> &lt;b&gt;",
    "lunghissimo": ("Una lunghissima storia di moto, di lago e di montagne " * 7)[:300],
    "parolona": "Precipitevolissimevolmente" * 6,
    "emoji": "Moto 🏍️ e 中文 👍🏽 — perché più città è così",
}


def meta(doc: html.HtmlElement) -> dict[str, str]:
    return {
        m.get("property") or m.get("name"): m.get("content")
        for m in doc.xpath("//head/meta[@content]")
    }


def card_file(output: Path, siteurl: str, url: str) -> Path:
    assert url.startswith(f"{siteurl}/"), url
    return output / url[len(siteurl) + 1 :]


def opened(path: Path) -> Image.Image:
    assert path.is_file(), f"{path} is not in the output"
    image = Image.open(path)
    image.load()
    return image


def page_of(output: Path, url: str) -> html.HtmlElement:
    return html.fromstring((output / url / "index.html").read_bytes())


# --- The sample site ----------------------------------------------------------


def test_every_article_and_page_has_its_own_card(published_site):
    output, siteurl = published_site.output, published_site.siteurl
    sources = [s for s in POST_SOURCES + PAGE_SOURCES if s.published]
    assert len(sources) >= 20
    cards = set()
    for source in sources:
        tags = meta(page_of(output, source.url()))
        assert tags["og:image"] == tags["twitter:image"], source.path.name
        image = opened(card_file(output, siteurl, tags["og:image"]))
        assert image.size == (1200, 630), source.path.name
        assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
        assert tags["og:image:type"] == Image.MIME[image.format]
        assert tags["og:image:alt"] == tags["twitter:image:alt"]
        assert tags["og:image:alt"].startswith(source.title), source.path.name
        assert "/images/social/" in tags["og:image"]
        cards.add(tags["og:image"])
    assert len(cards) == len(sources), "two posts share a card"


def test_the_italian_and_english_versions_get_different_cards(published_site):
    output, siteurl = published_site.output, published_site.siteurl
    english = {s.slug: s for s in POST_SOURCES if s.published and s.lang == "en"}
    pairs = [
        (s, english[s.slug])
        for s in POST_SOURCES
        if s.published and s.lang == "it" and s.slug in english
    ]
    assert len(pairs) >= 5
    for italian, translation in pairs:
        it_card = meta(page_of(output, italian.url()))["og:image"]
        en_card = meta(page_of(output, translation.url()))["og:image"]
        assert it_card != en_card
        assert "-it." in it_card and "-en." in en_card
        it_image = opened(card_file(output, siteurl, it_card)).convert("RGB")
        en_image = opened(card_file(output, siteurl, en_card)).convert("RGB")
        assert ImageChops.difference(it_image, en_image).getbbox() is not None


def test_json_ld_and_json_feeds_name_the_same_card(published_site):
    output, siteurl = published_site.output, published_site.siteurl
    items = [
        item
        for lang in ("it", "en")
        for item in json.loads((output / "feeds" / f"{lang}.json").read_bytes())[
            "items"
        ]
    ]
    assert items
    for item in items:
        doc = page_of(output, item["url"][len(siteurl) + 1 :])
        card = meta(doc)["og:image"]
        assert item["image"] == card, item["url"]
        ld = json.loads(doc.xpath('string(//script[@type="application/ld+json"])'))
        assert ld["image"] == card, item["url"]


def test_listings_keep_the_sites_image(published_site):
    tags = meta(html.fromstring((published_site.output / "index.html").read_bytes()))
    social_image = read_settings(str(ROOT / "publishconf.py"))["SOCIAL_IMAGE"]
    assert tags["og:image"] == f"{published_site.siteurl}/{social_image}"
    assert tags["twitter:image"] == tags["og:image"]


# --- Small sites of their own -------------------------------------------------


@pytest.fixture
def content(tmp_path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(MINIMAL, folder)
    (folder / "images").mkdir()
    shutil.copy(LAKE, folder / "images" / "lago.jpg")
    return folder


def add_post(content: Path, slug: str, title: str, day: int, extra: str = "") -> None:
    text = POST.format(title=title, slug=slug, day=day, extra=extra)
    (content / "posts" / f"2026-01-{slug}.it.md").write_text(text, encoding="utf-8")


def build(content: Path, output: Path, cache: Path, **overrides):
    return run_pelican(
        output,
        content=content,
        settings="pelicanconf.py",
        overrides={"SOCIAL_CARDS_CACHE_DIR": str(cache), **overrides},
    )


def card_of(output: Path, url: str) -> tuple[dict[str, str], Image.Image]:
    tags = meta(page_of(output, url))
    siteurl = read_settings(str(ROOT / "pelicanconf.py"))["SITEURL"]
    return tags, opened(card_file(output, siteurl, tags["og:image"]))


def test_a_card_with_a_cover_differs_from_one_without(content, tmp_path):
    title = "Una giornata sul lago"
    add_post(
        content,
        "con-copertina",
        title,
        20,
        "Image: {static}/images/lago.jpg\n"
        "Image-Alt: Il lago d'Iseo al mattino, sotto un cielo chiaro\n",
    )
    add_post(content, "senza-copertina", title, 21)
    result = build(content, tmp_path / "out", tmp_path / "cache")
    assert result.returncode == 0, result.log
    with_tags, with_cover = card_of(tmp_path / "out", "2026/con-copertina")
    without_tags, without_cover = card_of(tmp_path / "out", "2026/senza-copertina")
    assert with_cover.size == without_cover.size == (1200, 630)
    assert (with_cover.format, without_cover.format) == ("JPEG", "PNG")
    difference = ImageChops.difference(
        with_cover.convert("RGB"), without_cover.convert("RGB")
    )
    # The cover shows above the title, where the branded card is plain slate.
    assert difference.crop((0, 0, 600, 150)).getbbox() is not None
    assert with_tags["og:image:alt"].endswith(
        "Il lago d'Iseo al mattino, sotto un cielo chiaro"
    )
    assert without_tags["og:image:alt"] == f"{title} — Officine Ardesia"


def test_a_second_build_draws_no_card(content, tmp_path):
    add_post(
        content,
        "con-copertina",
        "Sul lago",
        20,
        "Image: images/lago.jpg\nImage-Alt: Il lago\n",
    )
    cache = tmp_path / "cache"
    first = build(content, tmp_path / "out", cache)
    assert first.returncode == 0, first.log
    drawn = {p.name: p.stat() for p in cache.iterdir()}
    cards = {p.name: p.read_bytes() for p in (tmp_path / "out/images/social").iterdir()}
    assert len(drawn) == len(cards) == 4  # benvenuti it/en, the page, the cover post
    second = build(content, tmp_path / "out", cache)
    assert second.returncode == 0, second.log
    # Nothing drawn: no new file, none rewritten, the same cards published.
    after = {p.name: p.stat() for p in cache.iterdir()}
    assert after.keys() == drawn.keys()
    for name, stat in after.items():
        assert (stat.st_ino, stat.st_mtime_ns) == (
            drawn[name].st_ino,
            drawn[name].st_mtime_ns,
        ), f"{name} was drawn again"
    again = {p.name: p.read_bytes() for p in (tmp_path / "out/images/social").iterdir()}
    assert again == cards


def test_a_changed_title_draws_only_its_card(content, tmp_path):
    add_post(content, "titolo", "Primo titolo", 20)
    cache = tmp_path / "cache"
    assert build(content, tmp_path / "out", cache).returncode == 0
    before = {p.name for p in cache.iterdir()}
    add_post(content, "titolo", "Secondo titolo", 20)
    assert build(content, tmp_path / "out", cache).returncode == 0
    assert len({p.name for p in cache.iterdir()} - before) == 1


def test_hostile_titles_build_and_their_cards_are_1200_by_630(content, tmp_path):
    for day, (slug, title) in enumerate(sorted(HOSTILE.items()), start=20):
        add_post(content, slug, title, day)
    result = build(content, tmp_path / "out", tmp_path / "cache")
    assert result.returncode == 0, result.log
    assert "Traceback" not in result.log
    for slug in HOSTILE:
        _tags, image = card_of(tmp_path / "out", f"2026/{slug}")
        assert image.size == (1200, 630), slug
    alt = card_of(tmp_path / "out", "2026/entita")[0]["og:image:alt"]
    assert alt == "Tom & Jerry in corsivo <b> — Officine Ardesia"


def test_a_post_can_do_without_a_card(content, tmp_path):
    add_post(content, "senza-card", "Niente card", 20, "Social-Card: off\n")
    result = build(content, tmp_path / "out", tmp_path / "cache")
    assert result.returncode == 0, result.log
    settings = read_settings(str(ROOT / "pelicanconf.py"))
    tags = meta(page_of(tmp_path / "out", "2026/senza-card"))
    assert tags["og:image"] == f"{settings['SITEURL']}/{settings['SOCIAL_IMAGE']}"
    assert not list((tmp_path / "out" / "images" / "social").glob("senza-card-*"))


def test_a_broken_cover_is_a_named_error_and_a_card_without_it(content, tmp_path):
    (content / "images" / "rotta.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"no" * 500)
    add_post(
        content,
        "rotta",
        "Copertina rotta",
        20,
        "Image: images/rotta.jpg\nImage-Alt: Una foto che non si apre\n",
    )
    # This plugin's own handling, alone: plugins/pictures (which makes the
    # variants) would stop the build at the same file on its own.
    plugins = [
        p
        for p in read_settings(str(ROOT / "pelicanconf.py"))["PLUGINS"]
        if p != "pictures"
    ]
    result = build(content, tmp_path / "out", tmp_path / "cache", PLUGINS=plugins)
    assert result.returncode != 0, "a corrupt cover must stop a --fatal build"
    log = " ".join(result.log.split())
    assert "2026-01-rotta.it.md" in log and "'Image: rotta.jpg'" in log
    assert "can't be read as an image" in log and "Traceback" not in log
    cards = list((tmp_path / "out" / "images" / "social").glob("rotta-it.*"))
    assert [p.suffix for p in cards] == [".png"]  # drawn, the branded way
    assert opened(cards[0]).size == (1200, 630)
    # Not cached: the next build reports the cover again.
    assert not any(
        p.suffix == ".png" and "rotta" in p.name for p in (tmp_path / "cache").iterdir()
    )
    again = build(content, tmp_path / "out", tmp_path / "cache", PLUGINS=plugins)
    assert "'Image: rotta.jpg'" in " ".join(again.log.split())
