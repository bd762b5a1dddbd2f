"""Pure logic of the multilang plugin: page language, alternates, localising."""

from __future__ import annotations

from dataclasses import dataclass, field

from conftest import ROOT

from multilang.catalogs import load_translations
from multilang.languages import (
    content_alternates,
    is_mirrored_listing,
    listing_alternates,
    localize,
    page_lang,
    url_of_output,
)

SETTINGS = {
    "DEFAULT_LANG": "it",
    "LANGUAGES": {"it": {}, "en": {}},
    "DIRECT_TEMPLATES": ["index", "archives", "404"],
    "ARCHIVES_SAVE_AS": "archivio/index.html",
    "404_SAVE_AS": "404.html",
}


@dataclass(eq=False)
class Post:
    lang: str
    url: str
    status: str = "published"
    translations: list = field(default_factory=list)


def _pair():
    it, en = Post("it", "2026/a/"), Post("en", "en/2026/a/")
    it.translations, en.translations = [en], [it]
    return it, en


def test_page_lang_prefers_explicit_then_content_then_default():
    it, en = _pair()
    assert page_lang({"lang": "en", "article": it}, "it") == "en"
    assert page_lang({"article": en}, "it") == "en"
    assert page_lang({"page": en}, "it") == "en"
    assert page_lang({}, "it") == "it"


def test_content_alternates_list_published_versions_and_self():
    _it, en = _pair()
    assert [(a.lang, a.url, a.current) for a in content_alternates(en)] == [
        ("en", "en/2026/a/", True),
        ("it", "2026/a/", False),
    ]
    draft_it, draft_en = _pair()
    draft_en.status = "draft"
    assert [a.lang for a in content_alternates(draft_it)] == ["it"]
    # a draft still knows itself
    assert [a.lang for a in content_alternates(draft_en)] == ["en", "it"]


def test_listing_alternates_map_between_root_and_language_folder():
    assert [
        (a.lang, a.url)
        for a in listing_alternates("index.html", "it", ["it", "en"], "it")
    ] == [("en", "en/"), ("it", "")]
    assert [
        (a.lang, a.url)
        for a in listing_alternates(
            "en/tag/x/pagina/2/index.html", "en", ["it", "en"], "it"
        )
    ] == [("en", "en/tag/x/pagina/2/"), ("it", "tag/x/pagina/2/")]


def test_url_of_output():
    assert url_of_output("index.html") == ""
    assert url_of_output("a/b/index.html") == "a/b/"
    assert url_of_output("404.html") == "404.html"


def test_localize_picks_translations_and_keeps_untranslated():
    it, en = _pair()
    alone = Post("it", "2026/b/")
    assert localize([it, alone], "en") == [en, alone]
    assert localize([it, alone], "it") == [it, alone]
    en.status = "draft"
    assert localize([it], "en") == [it]


def test_is_mirrored_listing():
    it, _ = _pair()
    assert is_mirrored_listing({"blog": True, "page_name": "index"}, SETTINGS)
    assert is_mirrored_listing(
        {"blog": True, "page_name": "en/archivio/index"}, SETTINGS
    )
    assert not is_mirrored_listing({"blog": True, "page_name": "404"}, SETTINGS)
    assert not is_mirrored_listing({"blog": True, "article": it}, SETTINGS)
    assert not is_mirrored_listing({"page_name": "comunita/index"}, SETTINGS)


def test_catalogs_translate_per_language():
    folder = str(ROOT / "theme" / "translations")
    assert load_translations(folder, "it").gettext("Read more") == "Continua a leggere"
    assert load_translations(folder, "en").gettext("Read more") == "Read more"
