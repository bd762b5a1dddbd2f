"""The demo site in a real Chromium: no console errors, switcher, focus."""

from __future__ import annotations

import pytest
from test_site import POST_SOURCES

pytestmark = pytest.mark.browser

WIDTHS = [375, 1280]


def _translated_post():
    english = {s.slug: s for s in POST_SOURCES if s.published and s.lang == "en"}
    return next(
        s for s in POST_SOURCES if s.published and s.lang == "it" and s.slug in english
    ), english


@pytest.fixture
def page_at(browser, served_site):
    contexts = []

    def open_page(width: int, **options):
        context = browser.new_context(
            viewport={"width": width, "height": 900}, **options
        )
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []
        # No comment server runs behind these pages (tests/test_comments.py
        # has a real Isso): its one request for the counts is left out.
        isso = "/comments/"
        page.on(
            "console",
            lambda m: (
                problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                and isso not in (m.location or {}).get("url", "")
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "requestfailed",
            lambda r: (
                problems.append(f"request failed: {r.url}")
                if isso not in r.url
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                problems.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 and isso not in r.url
                else None
            ),
        )
        return page, problems

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("where", ["home", "article"])
def test_pages_load_without_console_errors(
    page_at, served_site, artifacts, width, where
):
    original, _ = _translated_post()
    url = served_site.siteurl + "/" + ("" if where == "home" else original.url())
    page, problems = page_at(width)
    page.goto(url, wait_until="load")
    page.screenshot(path=str(artifacts / f"{where}-{width}.png"), full_page=True)
    assert not problems, problems
    # nothing sticks out sideways at this width
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than a {width}px screen"


def test_language_switcher_leads_to_the_translation(page_at, served_site):
    original, english = _translated_post()
    page, problems = page_at(1280)
    page.goto(f"{served_site.siteurl}/{original.url()}")
    page.get_by_role("navigation", name="Lingua").get_by_role("link", name="EN").click()
    page.wait_for_url(f"{served_site.siteurl}/{english[original.slug].url()}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main h1").inner_text().strip() == english[original.slug].title
    page.get_by_role("navigation", name="Language").get_by_role(
        "link", name="IT"
    ).click()
    page.wait_for_url(f"{served_site.siteurl}/{original.url()}")
    assert not problems, problems


def test_keyboard_focus_is_visible(page_at, served_site, artifacts):
    page, _ = page_at(1280)
    page.goto(served_site.siteurl + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    style = page.evaluate(
        """() => {
            const s = getComputedStyle(document.activeElement);
            const r = document.activeElement.getBoundingClientRect();
            return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                    top: r.top, h: r.height};
        }"""
    )
    assert style["style"] != "none" and style["width"] >= 2, style
    assert style["top"] >= 0 and style["h"] > 0, (
        "the skip link is on screen when focused"
    )
    page.screenshot(path=str(artifacts / "focus-skip-link.png"))
    # further Tabs land on links that also show an outline
    for _ in range(3):
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"
    # the skip link moves focus to the main content
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
