"""The theme's layout in a real Chromium, at phone, tablet and desktop widths,
in light and dark: nothing sticks out sideways, nothing overlaps in the
header, the sidebar, the cards and the archive, every image keeps its space
and says what it shows, the phone's header is compact and its menu opens
without JavaScript.

One browser; each (width, scheme) opens one context and visits the four pages
once, measuring them and saving a full-page screenshot to test-artifacts/
(32 in all); the tests below read those measurements.
"""

from __future__ import annotations

from itertools import combinations

import pytest
from conftest import FIXTURES

pytestmark = pytest.mark.browser

WIDTHS = (320, 375, 768, 1280)
SCHEMES = ("light", "dark")
PAGES = ("home", "article", "community", "archive")
# The phone's header, from the top of the page to the first content: the
# issue measured 165 px (the menu on two lines, the language on a third).
MOBILE_HEADER_BUDGET = 64

# Everything the layout tests look at, measured in the page at once.
MEASURE = (FIXTURES / "layout_measure.js").read_text(encoding="utf-8")


def overlap(a: dict, b: dict) -> bool:
    """Two boxes cover each other by more than a pixel's rounding."""
    return min(a["r"], b["r"]) - max(a["x"], b["x"]) > 1 and (
        min(a["b"], b["b"]) - max(a["y"], b["y"]) > 1
    )


def overlaps(boxes: list[dict]) -> list[str]:
    return [
        f"{a['what']} overlaps {b['what']}"
        for a, b in combinations(boxes, 2)
        if overlap(a, b)
    ]


@pytest.fixture(scope="module")
def urls(browser, served_site) -> dict[str, str]:
    """The four pages: the home page, its lead story, the community, the archive."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(served_site.siteurl + "/")
    article = page.locator(".card--lead .card__title a").get_attribute("href")
    context.close()
    assert article, "the home page has no lead story"
    return {
        "home": served_site.siteurl + "/",
        "article": article,
        "community": served_site.siteurl + "/comunita/",
        "archive": served_site.siteurl + "/archivio/",
    }


@pytest.fixture(scope="module")
def layouts(browser, urls, artifacts) -> dict[tuple[str, int, str], dict]:
    measured = {}
    for scheme in SCHEMES:
        for width in WIDTHS:
            context = browser.new_context(
                viewport={"width": width, "height": 900}, color_scheme=scheme
            )
            page = context.new_page()
            for name in PAGES:
                page.goto(urls[name], wait_until="load")
                page.screenshot(
                    path=str(artifacts / f"layout-{name}-{width}-{scheme}.png"),
                    full_page=True,
                )
                measured[(name, width, scheme)] = page.evaluate(MEASURE)
            context.close()
    return measured


CASES = [(p, w, s) for s in SCHEMES for w in WIDTHS for p in PAGES]


@pytest.mark.parametrize(("where", "width", "scheme"), CASES)
def test_nothing_sticks_out_or_overlaps(layouts, where, width, scheme):
    m = layouts[(where, width, scheme)]
    assert m["overflow"] <= 0, f"the page is {m['overflow']}px wider than the screen"
    problems = overlaps(m["header"])
    problems += [
        f"{b['what']} leaves the screen ({b['x']:.0f}–{b['r']:.0f})"
        for b in m["header"]
        if b["x"] < -0.5 or b["r"] > width + 0.5
    ]
    for group in m["groups"]:
        problems += overlaps(group)
    assert not problems, problems
    assert len(m["header"]) >= 2, "the header's items were not found"


@pytest.mark.parametrize("where", PAGES)
def test_every_image_has_its_size_and_alt_text(layouts, where):
    images = layouts[(where, 375, "light")]["images"]
    assert images, "no image on the page (the logo at least)"
    missing = [
        i["src"] for i in images if not (i["width"] and i["height"] and i["alt"])
    ]
    assert not missing, f"<img> without width, height or alt: {missing}"


@pytest.mark.parametrize("where", PAGES)
def test_headings_are_balanced(layouts, where):
    assert layouts[(where, 375, "light")]["headingWrap"] == ["balance"]


def test_images_are_dimmed_in_the_dark(layouts):
    checked = 0
    for where in PAGES:
        for scheme, dimmed in (("light", False), ("dark", True)):
            shown = layouts[(where, 375, scheme)]["images"]
            images = [i for i in shown if i["inMain"]]
            for image in images:
                dim = "brightness" in image["filter"]
                assert dim is dimmed, (where, scheme, image)
            checked += len(images)
    assert checked, "no image in any page's main content to check"


def test_the_phone_header_is_compact(layouts):
    for where in PAGES:
        for scheme in SCHEMES:
            bottom = layouts[(where, 375, scheme)]["headerBottom"]
            assert bottom <= MOBILE_HEADER_BUDGET, (
                f"{where} ({scheme}): the header takes {bottom:.0f}px at 375px, "
                f"over the budget of {MOBILE_HEADER_BUDGET}px"
            )


@pytest.mark.parametrize("where", ["home", "community"])
def test_the_sidebar_starts_level_with_the_listing(layouts, where):
    m = layouts[(where, 1280, "light")]
    assert m["sidebarTop"] and m["mainTop"], "no sidebar or listing found"
    gap = m["sidebarTop"]["y"] - m["mainTop"]["y"]
    assert abs(gap) <= 2, f"the sidebar's first heading is {gap:.0f}px off the listing"


def test_sidebar_headings_fit_their_column(layouts):
    for width in (768, 1280):
        lines = layouts[("home", width, "light")]["communityTitleLines"]
        assert lines == 1, f"'From the community' is on {lines} lines at {width}px"


def test_source_counts_sit_on_the_names_line(layouts):
    for width in WIDTHS:
        rows = layouts[("community", width, "light")]["sourceLines"]
        assert rows
        for name, count in rows:
            middle = (name["y"] + name["b"]) / 2 - (count["y"] + count["b"]) / 2
            assert abs(middle) <= 2, (name, count)
    decorations = layouts[("community", 1280, "light")]["sourceDecoration"]
    assert decorations and set(decorations) == {"none"}, "avatars are underlined"


def test_archive_dates_and_titles_keep_their_places(layouts):
    for width in WIDTHS:
        m = layouts[("archive", width, "light")]
        rows = m["archive"]
        assert rows
        if width >= 576:  # 36rem: two columns, the titles in a line
            lefts = {round(title["x"]) for _, title in rows}
            assert len(lefts) == 1, f"titles start at {sorted(lefts)} at {width}px"
            assert all(title["x"] >= date["r"] for date, title in rows)
        else:  # the date above its title
            assert all(title["y"] >= date["b"] - 1 for date, title in rows)
        assert m["sizes"]["h1"] >= 1.5 * m["sizes"]["year"], m["sizes"]


GENERIC = {"read more", "continua a leggere", "more", "click here", "here", "qui"}


@pytest.mark.parametrize("home", ["/", "/en/"])
def test_links_say_where_they_lead(browser, served_site, home):
    """No "Read more" links all alike: a card's link is its post's title."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(served_site.siteurl + home)
    links = page.evaluate(
        "[...document.querySelectorAll('main a')].map(a => a.textContent.trim())"
    )
    cards = page.evaluate(
        """[...document.querySelectorAll('.card--post')].map(card => ({
            title: card.querySelector('.card__title').textContent.trim(),
            links: [...card.querySelectorAll('a')].filter(
                a => a.href === card.querySelector('.card__title a').href
            ).map(a => a.textContent.trim())}))"""
    )
    context.close()
    assert not [t for t in links if t.lower() in GENERIC], links
    assert len(cards) >= 5
    for card in cards:
        assert card["links"] == [card["title"]], card


def test_the_menu_opens_without_javascript(browser, served_site, artifacts):
    context = browser.new_context(
        viewport={"width": 375, "height": 800}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(served_site.siteurl + "/")
    nav = page.locator(".site-nav")
    toggle = page.locator(".site-menu__toggle")
    assert toggle.is_visible() and not nav.is_visible()
    toggle.click()
    assert nav.is_visible() and page.locator("#site-search-q").is_visible()
    page.screenshot(path=str(artifacts / "layout-menu-open-375.png"))
    links = nav.get_by_role("link")
    assert links.count() >= 4
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    # The archive, chosen from the open menu, opens.
    archive = nav.get_by_role("link", name="Archivio")
    href = archive.get_attribute("href")
    archive.click()
    page.wait_for_url(href)
    context.close()


def test_the_wide_header_shows_the_menu_without_a_button(browser, served_site):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(served_site.siteurl + "/")
    assert not page.locator(".site-menu__toggle").is_visible()
    assert page.locator(".site-nav").is_visible()
    assert page.locator("#site-search-q").is_visible()
    nav = page.get_by_role("navigation", name="Menu principale")
    assert nav.get_by_role("link", name="Comunità", exact=True).is_visible()
    context.close()


def test_the_lead_story_shows_its_cover_first(browser, served_site):
    """The newest post leads with its cover, loaded at once; the other cards'
    thumbnails wait until they are near the screen."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(served_site.siteurl + "/")
    lead = page.locator(".listing > .card--lead")
    assert lead.count() == 1
    assert page.locator(".listing > .card").first.evaluate(
        "e => e.classList.contains('card--lead')"
    )
    cover = lead.locator(".card__cover img")
    assert cover.get_attribute("fetchpriority") == "high"
    assert cover.get_attribute("loading") is None
    assert cover.bounding_box()["y"] < lead.locator(".card__title").bounding_box()["y"]
    thumbnails = page.locator(".listing > .card:not(.card--lead) .card__cover img")
    assert thumbnails.count() >= 1
    for i in range(thumbnails.count()):
        assert thumbnails.nth(i).get_attribute("loading") == "lazy"
    context.close()


# A card without a cover is the same markup less its cover's <div> and class:
# taking them away in the page shows the layout a post without an image gets.
WITHOUT_COVERS = """() => {
  for (const cover of document.querySelectorAll('.card__cover')) {
    cover.closest('.card').classList.remove('card--cover');
    cover.remove();
  }
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_cards_without_a_cover_keep_their_layout(browser, urls, artifacts, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(urls["home"])
    page.evaluate(WITHOUT_COVERS)
    m = page.evaluate(MEASURE)
    page.screenshot(
        path=str(artifacts / f"layout-home-nocover-{width}.png"), full_page=True
    )
    spans = page.evaluate(
        """[...document.querySelectorAll('.listing > .card--post')].map(card => {
            const c = card.getBoundingClientRect();
            const s = card.querySelector('.card__summary').getBoundingClientRect();
            return [c.width, s.width];
        })"""
    )
    context.close()
    assert m["overflow"] <= 0
    problems = [p for group in m["groups"] for p in overlaps(group)]
    assert not problems, problems
    # The text takes the card's width: no empty column left for a picture.
    assert spans and all(summary >= card - 50 for card, summary in spans), spans
