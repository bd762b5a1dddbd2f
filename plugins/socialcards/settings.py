"""Settings of the social cards plugin: defaults in one dict, read into one object.

Every setting can be overridden in ``pelicanconf.py``/``publishconf.py``.
``SOCIAL_CARDS_CACHE_DIR`` is relative to the project root (the working
directory of ``invoke build``); ``SOCIAL_CARDS_STYLESHEET`` to the theme.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import PIL

from configuration import integer, number, read_text
from socialcards import fonts, palette
from socialcards.errors import SocialCardsError
from socialcards.model import Style

DEFAULTS: dict[str, Any] = {
    # Cards drawn before, by a key over everything that shapes them (title,
    # site name, language, the cover's bytes, the fonts' bytes, the settings
    # below, VERSION, Pillow's version): a build draws only new cards.
    "SOCIAL_CARDS_CACHE_DIR": "var/socialcards",
    # Where the cards go in the output. {slug}, {lang}, {ext} (png or jpg)
    # and {key} (a hash of the card: a new card gets a new URL, which social
    # sites fetch again and nginx may keep a year; see deploy/nginx.conf).
    "SOCIAL_CARDS_ARTICLE_SAVE_AS": "images/social/{slug}-{lang}.{key}.{ext}",
    "SOCIAL_CARDS_PAGE_SAVE_AS": "images/social/page-{slug}-{lang}.{key}.{ext}",
    # Pages get a card too (one with `Social-Card: off` doesn't; nor does an
    # article with it): a link to "Chi siamo" shared in a chat then says what
    # it is, not just the site's name.
    "SOCIAL_CARDS_PAGES": True,
    # Fonts: a .ttf/.otf path, or a fontconfig pattern `fc-match` resolves.
    # The site uses no web fonts; only the cards need a file.
    "SOCIAL_CARDS_FONT": "sans-serif:bold",  # the title
    "SOCIAL_CARDS_LABEL_FONT": "sans-serif",  # the site name
    # The title: the largest of these sizes (px) at which it fits in
    # SOCIAL_CARDS_MAX_LINES lines; at the smallest, cut with an ellipsis.
    "SOCIAL_CARDS_TITLE_SIZES": [80, 72, 64, 56, 48],
    "SOCIAL_CARDS_MAX_LINES": 4,
    "SOCIAL_CARDS_LABEL_SIZE": 34,
    # Colours: a custom property of the theme's stylesheet (its light
    # scheme's :root) or a #hex. slate: background and the scrim over a
    # cover; paper: the text; accent: the bar (decoration only).
    "SOCIAL_CARDS_STYLESHEET": "static/css/main.css",
    "SOCIAL_CARDS_COLOURS": {"slate": "--slate", "paper": "--bg", "accent": "--amber"},
    # WCAG contrast the text keeps over whatever lies under it (4.5: AA for
    # body-size text; a card is often shown at a third of its size).
    "SOCIAL_CARDS_MIN_CONTRAST": 4.5,
    # Cards over a cover are photographs: JPEG at this quality. Branded ones
    # are flat colour: a 64-colour PNG (about 12 KB, a JPEG would be 35 KB).
    "SOCIAL_CARDS_JPEG_QUALITY": 82,
}

# Part of every card's cache key: change it when the drawing changes.
VERSION = "2"

ROLES = ("slate", "paper", "accent")


@dataclass(frozen=True)
class SocialCardsSettings:
    """The plugin's settings, validated, with paths made absolute."""

    cache_dir: Path
    article_save_as: str
    page_save_as: str
    pages: bool
    style: Style
    fingerprint: str  # the settings and fonts as they shape a card (cache key)

    @classmethod
    def from_pelican(
        cls, settings: Mapping[str, Any], root: Path | None = None
    ) -> SocialCardsSettings:
        """Read the settings, find the fonts and read the theme's colours.

        Raises :class:`SocialCardsError` naming the setting when a value is
        unusable (a font that isn't there, a colour the stylesheet lacks).
        """
        value = {**DEFAULTS, **{k: v for k, v in settings.items() if k in DEFAULTS}}
        root = root or Path.cwd()
        cache_dir = Path(value["SOCIAL_CARDS_CACHE_DIR"]).expanduser()
        if not cache_dir.is_absolute():
            cache_dir = (root / cache_dir).resolve()
        for key in ("SOCIAL_CARDS_ARTICLE_SAVE_AS", "SOCIAL_CARDS_PAGE_SAVE_AS"):
            _check_pattern(value, key)
        sizes = value["SOCIAL_CARDS_TITLE_SIZES"]
        if (
            not isinstance(sizes, list | tuple)
            or not sizes
            or not all(isinstance(s, int) and 12 <= s <= 200 for s in sizes)
        ):
            raise SocialCardsError(
                "setting SOCIAL_CARDS_TITLE_SIZES must be a list of font sizes in "
                f"pixels between 12 and 200, largest first, not {sizes!r}"
            )
        colours = _colours(settings, value)
        title_font = fonts.find_font(value["SOCIAL_CARDS_FONT"], "SOCIAL_CARDS_FONT")
        label_font = fonts.find_font(
            value["SOCIAL_CARDS_LABEL_FONT"], "SOCIAL_CARDS_LABEL_FONT"
        )
        quality = integer(value, "SOCIAL_CARDS_JPEG_QUALITY", SocialCardsError)
        if quality > 95:
            raise SocialCardsError(
                f"setting SOCIAL_CARDS_JPEG_QUALITY must be 1 to 95, not {quality}"
            )
        style = Style(
            title_font=title_font,
            label_font=label_font,
            slate=colours["slate"],
            paper=colours["paper"],
            accent=colours["accent"],
            max_lines=integer(value, "SOCIAL_CARDS_MAX_LINES", SocialCardsError),
            title_sizes=tuple(sorted(set(sizes), reverse=True)),
            label_size=integer(value, "SOCIAL_CARDS_LABEL_SIZE", SocialCardsError),
            min_contrast=number(
                value, "SOCIAL_CARDS_MIN_CONTRAST", SocialCardsError, minimum=1
            ),
            jpeg_quality=quality,
        )
        if style.min_contrast > 21:
            raise SocialCardsError(
                "setting SOCIAL_CARDS_MIN_CONTRAST must be 1 to 21 (WCAG's scale), "
                f"not {style.min_contrast}"
            )
        fingerprint = "|".join(
            [
                VERSION,
                PIL.__version__,  # its rasteriser and encoders shape the bytes
                fonts.font_digest(title_font),
                fonts.font_digest(label_font),
                repr(
                    (
                        style.slate,
                        style.paper,
                        style.accent,
                        style.max_lines,
                        style.title_sizes,
                        style.label_size,
                        style.min_contrast,
                        style.jpeg_quality,
                    )
                ),
            ]
        )
        return cls(
            cache_dir=cache_dir,
            article_save_as=value["SOCIAL_CARDS_ARTICLE_SAVE_AS"],
            page_save_as=value["SOCIAL_CARDS_PAGE_SAVE_AS"],
            pages=bool(value["SOCIAL_CARDS_PAGES"]),
            style=style,
            fingerprint=fingerprint,
        )


def _check_pattern(value: Mapping[str, Any], key: str) -> None:
    pattern = value[key]
    try:
        path = str(pattern).format(slug="s", lang="l", key="k", ext="png")
    except (KeyError, IndexError, ValueError) as exc:
        raise SocialCardsError(
            f"setting {key} = {pattern!r} is not a usable pattern ({exc}); it may "
            "use {slug}, {lang}, {key} and {ext}"
        ) from None
    if not all(f"{{{name}}}" in str(pattern) for name in ("slug", "lang", "ext")):
        raise SocialCardsError(
            f"setting {key} = {pattern!r} must contain {{slug}}, {{lang}} and "
            "{ext}, so that no two cards share a file"
        )
    if path.startswith("/") or ".." in Path(path).parts:
        raise SocialCardsError(
            f"setting {key} = {pattern!r} must be a path inside the output folder"
        )


def _colours(
    settings: Mapping[str, Any], value: Mapping[str, Any]
) -> dict[str, palette.Colour]:
    wanted = value["SOCIAL_CARDS_COLOURS"]
    if not isinstance(wanted, Mapping) or set(wanted) != set(ROLES):
        raise SocialCardsError(
            "setting SOCIAL_CARDS_COLOURS must map exactly "
            f"{', '.join(ROLES)} to a --custom-property or a #hex colour, "
            f"not {wanted!r}"
        )
    stylesheet = Path(value["SOCIAL_CARDS_STYLESHEET"])
    if not stylesheet.is_absolute():
        stylesheet = Path(settings.get("THEME") or "theme") / stylesheet
    properties: dict[str, str] = {}
    if any(str(v).startswith("--") for v in wanted.values()):
        css = read_text(stylesheet, SocialCardsError)
        if css is None:
            raise SocialCardsError(
                f"setting SOCIAL_CARDS_STYLESHEET: {stylesheet} does not exist; name "
                "the theme's stylesheet, or give SOCIAL_CARDS_COLOURS as #hex colours"
            )
        properties = palette.root_properties(css)
    found, missing = palette.resolve({k: str(v) for k, v in wanted.items()}, properties)
    if missing:
        role = missing[0]
        raise SocialCardsError(
            f"setting SOCIAL_CARDS_COLOURS: {role} = {wanted[role]!r} is not a "
            f"#hex colour nor a custom property with one in {stylesheet}'s :root; "
            "name one the stylesheet defines, or write the colour"
        )
    return found
