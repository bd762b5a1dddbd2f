"""A draft in a preview, seen in a real Chromium: the banner can't be missed."""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT, free_port, run_pelican, serve_directory

pytestmark = pytest.mark.browser

DRAFT = (
    "Title: Listino in bozza\nDate: 2026-02-01 10:00\nSlug: listino-bozza\nLang: it\n"
    "Category: Azienda\nTags: solo-bozze\nStatus: draft\n\nTesto.\n"
)


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    """The preview build (`invoke preview`'s settings) at a free loopback port."""
    base = tmp_path_factory.mktemp("preview")
    content = shutil.copytree(ROOT / "content", base / "content")
    (content / "posts" / "2026-02-listino-bozza.it.md").write_text(
        DRAFT, encoding="utf-8"
    )
    english = DRAFT.replace("Lang: it", "Lang: en\nTranslation: true")
    (content / "posts" / "2026-02-listino-bozza.en.md").write_text(
        english.replace("Listino in bozza", "Draft price list"), encoding="utf-8"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    result = run_pelican(
        base / "out",
        content=content,
        overrides={
            "SITEURL": url,
            "FEED_DOMAIN": url,
            "DRAFT_SAVE_AS": "bozze/{slug}/index.html",
            "DRAFT_LANG_SAVE_AS": "bozze/{lang}/{slug}/index.html",
            "COMMUNITY_CACHE_DIR": str(base / "no-cache"),
        },
    )
    assert result.returncode == 0, result.log
    with serve_directory(base / "out", port) as served:
        yield served


@pytest.mark.parametrize("width", [375, 1280])
def test_a_draft_shows_its_banner_at_the_top_and_a_published_post_none(
    browser, preview, width
):
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{preview}/bozze/listino-bozza/")
        banner = page.locator(".draft-banner")
        assert banner.is_visible()
        assert banner.locator("strong").inner_text().strip().lower() == "bozza"
        box = banner.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 800, "above the fold"
        assert box["height"] > 20 and box["width"] > 200
        page.goto(f"{preview}/bozze/en/listino-bozza/")
        english = page.locator(".draft-banner strong")
        assert english.is_visible() and english.inner_text().strip().lower() == "draft"
        page.goto(f"{preview}/2025/sebino-800-dieci-anni/")
        assert page.locator(".draft-banner").count() == 0
    finally:
        context.close()
