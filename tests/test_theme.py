"""Theme rules that can be checked without a browser: colour contrast (WCAG AA)
in light and dark, no web fonts, no framework, templates for every page type."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

CSS = (ROOT / "theme" / "static" / "css" / "main.css").read_text(encoding="utf-8")
TEMPLATES = ROOT / "theme" / "templates"


def _palette(block: str) -> dict[str, str]:
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\b", block))


def _schemes() -> dict[str, dict[str, str]]:
    light = _palette(CSS.split("@media (prefers-color-scheme: dark)")[0])
    dark_block = CSS.split("@media (prefers-color-scheme: dark)")[1].split("\n}\n")[0]
    return {"light": light, "dark": {**light, **_palette(dark_block)}}


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    ("fg", "bg"),
    [
        ("--fg", "--bg"),
        ("--fg", "--bg-alt"),
        ("--muted", "--bg"),
        ("--muted", "--bg-alt"),
        ("--accent", "--bg"),
        ("--accent", "--bg-alt"),
        ("--accent-strong", "--bg"),
        ("--accent-strong", "--bg-alt"),
        ("--on-accent", "--accent"),
        # The slate header and footer, the amber marks on them, the buttons.
        ("--on-slate", "--slate"),
        ("--on-slate-muted", "--slate"),
        ("--amber", "--slate"),
        ("--button-fg", "--button-bg"),
    ],
)
def test_text_colours_meet_wcag_aa(scheme, fg, bg):
    palette = _schemes()[scheme]
    ratio = contrast(palette[fg], palette[bg])
    assert ratio >= 4.5, f"{scheme}: {fg} on {bg} is {ratio:.2f}:1"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focus_ring_is_visible_against_the_background(scheme):
    palette = _schemes()[scheme]
    assert contrast(palette["--focus"], palette["--bg"]) >= 3


def test_contrast_helper_matches_known_values():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48


def test_no_web_fonts_or_remote_assets():
    assert "@font-face" not in CSS
    assert "@import" not in CSS
    assert not re.search(r"url\(\s*['\"]?https?:", CSS)


@pytest.mark.parametrize(
    "name",
    [
        "index",
        "article",
        "page",
        "category",
        "tag",
        "archives",
        "author",
        "404",
        "categories",
        "tags",
        "authors",
    ],
)
def test_every_page_type_has_a_template(name):
    assert (TEMPLATES / f"{name}.html").is_file()
