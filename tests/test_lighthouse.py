"""The site's quality gates (issue #13, "Keep what is good"), on the pages
readers land on: home, an article, community, archive, and English ones.

The sample site is built with the production settings (publishconf.py, as
`invoke publish` builds it) and served by nginx with deploy/nginx.conf, a
real Isso and a real ideas service behind it (tests/lighthouse_stack.py):

- Lighthouse from npm with Debian's Chromium (mobile, simulated
  throttling): 100 in accessibility, best practices and SEO, at least 95 in
  performance; a failure lists each failing audit with its elements/links;
- WCAG AA contrast of the text in the light and the dark scheme (axe-core's
  color-contrast rule in Chromium; Lighthouse can't emulate
  prefers-color-scheme);
- what an article costs: its HTML, CSS and JS at most 30 KB gzipped, its
  images (and every page's) at most IMAGES_BUDGET.

The Nu Html Checker already runs on every built page (test_html_validity.py).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator

import pytest
from conftest import ARTIFACTS, need_tool
from lighthouse_stack import (
    AXE,
    EXTRA_PAGES,
    PAGES,
    Report,
    Served,
    audit_page,
    below_thresholds,
    explain,
    gzipped_weight,
    missing_tools,
    production_stack,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# HTML + CSS + JS of an article, gzipped, as nginx sends them (issue #13).
ARTICLE_BUDGET = 30 * 1024
# Images of one page, every image it shows loaded (lazy ones too), at a
# phone's width and pixel density and at a desktop's: room for a lead cover
# (~100 KB in WebP at 2x) and a dozen card thumbnails (~20 KB each), with
# headroom; a page over it sends a reader on a phone plan more than its text.
IMAGES_BUDGET = 400 * 1024
VIEWPORTS = {"phone": (375, 812, 2), "desktop": (1280, 900, 1)}
ALL_PAGES = {**PAGES, **EXTRA_PAGES}
ARTICLES = ("article", "article-en")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Served]:
    with production_stack(tmp_path_factory.mktemp("lighthouse")) as served:
        yield served


# ------------------------------------------------------------------ Lighthouse


@pytest.fixture(scope="module")
def lighthouse(stack) -> Callable[[str], Report]:
    """Lighthouse's report on a page, run once (performance: the median of
    five runs when the first is under its threshold)."""
    missing = missing_tools()
    need_tool(missing is None, missing or "")
    reports: dict[str, Report] = {}

    def report(page: str) -> Report:
        if page not in reports:
            folder = ARTIFACTS / "lighthouse" / page
            reports[page] = audit_page(stack.url(PAGES[page]), folder)
        return reports[page]

    return report


@pytest.mark.parametrize("page", PAGES)
def test_lighthouse_accessibility_best_practices_and_seo_are_100(lighthouse, page):
    report = lighthouse(page)
    below = below_thresholds(report, ("accessibility", "best-practices", "seo"))
    assert not below, explain(report)


@pytest.mark.parametrize("page", PAGES)
def test_lighthouse_performance_is_at_least_95(lighthouse, page):
    report = lighthouse(page)
    assert not below_thresholds(report, ("performance",)), explain(report)


# ----------------------------------------------------- contrast in both schemes


def contrast_check(browser, url: str, scheme: str) -> tuple[list[str], list[str]]:
    """axe-core's color-contrast rule on ``url`` in ``scheme``, at a phone's
    and a desktop's width: its violations and the elements it could not
    judge (text over an image, say), each as the element and why."""
    # axe is injected as a script: the page's CSP would refuse it.
    context = browser.new_context(
        color_scheme=scheme,
        ignore_https_errors=True,  # nginx's certificate is self-signed
        bypass_csp=True,
    )
    found: dict[str, list[str]] = {"violations": [], "incomplete": []}
    try:
        page = context.new_page()
        page.set_viewport_size({"width": VIEWPORTS["phone"][0], "height": 812})
        page.goto(url, wait_until="networkidle")
        query = f"matchMedia('(prefers-color-scheme: {scheme})').matches"
        assert page.evaluate(query), f"Chromium did not emulate {scheme}"
        page.add_script_tag(path=str(AXE))
        for name, (width, height, _) in VIEWPORTS.items():
            page.set_viewport_size({"width": width, "height": height})
            # Every element in view, so axe reads each one's real background.
            tall = page.evaluate("document.documentElement.scrollHeight")
            page.set_viewport_size({"width": width, "height": max(height, tall)})
            result = page.evaluate(CONTRAST)
            for kind, lines in found.items():
                for node in (n for r in result[kind] for n in r["nodes"]):
                    target = " ".join(str(t) for t in node["target"])
                    why = node.get("failureSummary") or "; ".join(
                        c["message"] for c in node["any"]
                    )
                    lines.append(
                        f"{scheme}, {name} {width}px: {target}\n"
                        f"    {node['html'][:200]}\n    {why.replace(chr(10), ' ')}"
                    )
    finally:
        context.close()
    return found["violations"], found["incomplete"]


CONTRAST = """() => axe.run(document, {
    runOnly: {type: "rule", values: ["color-contrast"]},
    resultTypes: ["violations", "incomplete"],
})"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", PAGES)
def test_text_contrast_meets_wcag_aa_in_both_schemes(browser, stack, page, scheme):
    need_tool(AXE.exists(), f"{AXE} is missing (run `npm ci`)")
    violations, unjudged = contrast_check(browser, stack.url(PAGES[page]), scheme)
    if unjudged:  # not a failure: axe can't tell; a person must look
        warnings.warn(
            f"{PAGES[page]}: axe could not judge the contrast of "
            + "\n".join(unjudged),
            stacklevel=1,
        )
    assert not violations, (
        f"{PAGES[page]}: text below WCAG AA contrast (axe-core color-contrast):\n"
        + "\n".join(violations)
    )


# ------------------------------------------------------------- weight budgets


@pytest.mark.parametrize("article", ARTICLES)
def test_an_articles_html_css_and_js_weigh_at_most_30_kb_gzipped(stack, article):
    weights = gzipped_weight(stack, ALL_PAGES[article])
    total = sum(weights.values())
    assert total <= ARTICLE_BUDGET, (
        f"{ALL_PAGES[article]}: {total / 1024:.1f} KB gzipped of HTML, CSS and "
        f"JS, over the {ARTICLE_BUDGET // 1024} KB budget:\n"
        + "\n".join(f"  {size:>7} B  {url}" for url, size in weights.items())
    )


def image_weight(browser, url: str, width: int, height: int, scale: int):
    """Bytes of every image the page at ``url`` loads once all of it has
    been in view (lazy images included), by URL."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=scale,
        ignore_https_errors=True,  # nginx's certificate is self-signed
    )
    images: list = []
    try:
        page = context.new_page()
        page.on(
            "requestfinished",
            lambda r: images.append(r) if r.resource_type == "image" else None,
        )
        page.goto(url, wait_until="networkidle")
        tall = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": width, "height": tall})
        page.wait_for_function(
            # A function, not an expression: Playwright polls an expression
            # with eval, which the site's CSP (rightly) refuses.
            "() => [...document.images].every(i => i.complete)",
            timeout=15000,
        )
        page.wait_for_load_state("networkidle")
        return {r.url: r.sizes()["responseBodySize"] for r in images}
    finally:
        context.close()


@pytest.mark.parametrize("page", ALL_PAGES)
def test_a_pages_images_stay_within_their_budget(browser, stack, page):
    path = ALL_PAGES[page]
    for width, height, scale in VIEWPORTS.values():
        weights = image_weight(browser, stack.url(path), width, height, scale)
        total = sum(weights.values())
        assert total <= IMAGES_BUDGET, (
            f"{path} at {width}px ({scale}x): {total / 1024:.1f} KB of images, "
            f"over the {IMAGES_BUDGET // 1024} KB budget:\n"
            + json.dumps(weights, indent=1)
        )
