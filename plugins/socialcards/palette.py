"""The card's colours: read from the theme's stylesheet, checked by contrast.

Pure functions: CSS text in, colours and WCAG contrast ratios out. The card
uses the light scheme's custom properties (the first ``:root`` block outside
any ``@media``), so a change of brand colours in ``main.css`` reaches the cards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

Colour = tuple[int, int, int]

BLACK: Colour = (0, 0, 0)
WHITE: Colour = (255, 255, 255)

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_PROPERTY = re.compile(r"(--[\w-]+)\s*:\s*([^;}]+)")
_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def root_properties(css: str) -> dict[str, str]:
    """The custom properties of the first top-level ``:root { ... }`` block."""
    css = _COMMENT.sub("", css)
    depth = 0
    i = 0
    while i < len(css):
        char = css[i]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and css.startswith(":root", i):
            start = css.find("{", i)
            end = css.find("}", start)
            if start < 0 or end < 0:
                break
            between = css[i + len(":root") : start].strip()
            if not between:
                block = css[start + 1 : end]
                return {m[1]: m[2].strip() for m in _PROPERTY.finditer(block)}
        i += 1
    return {}


def parse_colour(value: str) -> Colour | None:
    """``#rgb`` or ``#rrggbb`` as an RGB triple; anything else is None."""
    match = _HEX.match(value.strip())
    if not match:
        return None
    digits = match[1]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: Colour) -> float:
    """WCAG 2 relative luminance (0 black, 1 white)."""
    r, g, b = (_linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Colour, b: Colour) -> float:
    """WCAG 2 contrast ratio between two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def worst_contrast(text: Colour, backgrounds: Iterable[Colour]) -> float:
    """The lowest contrast of ``text`` over any of ``backgrounds``."""
    return min((contrast(text, b) for b in backgrounds), default=21.0)


def readable_on(background: Colour, preferred: Colour, minimum: float) -> Colour:
    """``preferred`` if it reaches ``minimum`` on ``background``, else black or
    white, whichever contrasts more."""
    if contrast(preferred, background) >= minimum:
        return preferred
    return max((BLACK, WHITE), key=lambda c: contrast(c, background))


def mix(top: Colour, bottom: Colour, alpha: float) -> Colour:
    """``top`` laid over ``bottom`` at opacity ``alpha`` (as Pillow blends)."""
    return tuple(  # type: ignore[return-value]
        round(t * alpha + b * (1 - alpha)) for t, b in zip(top, bottom, strict=True)
    )


def scrim_opacity(
    text: Colour,
    scrim: Colour,
    backgrounds: Iterable[Colour],
    minimum: float,
    floor: float = 0.0,
) -> float:
    """The least opacity of ``scrim`` over ``backgrounds`` (the cover's pixels
    behind the text) at which ``text`` keeps ``minimum`` contrast everywhere.

    Contrast rises with the opacity as long as the scrim itself contrasts with
    the text, so a bisection finds it; 1.0 when only a solid scrim will do.
    """
    pixels = set(backgrounds)
    if not pixels:
        return floor

    def enough(alpha: float) -> bool:
        return worst_contrast(text, (mix(scrim, p, alpha) for p in pixels)) >= minimum

    if enough(floor):
        return floor
    low, high = floor, 1.0
    for _ in range(12):
        middle = (low + high) / 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return high


def resolve(
    wanted: Mapping[str, str], properties: Mapping[str, str]
) -> tuple[dict[str, Colour], list[str]]:
    """Each role's colour: a ``--property`` of the stylesheet or a ``#hex``.

    Returns the colours found and the roles that could not be resolved.
    """
    found: dict[str, Colour] = {}
    missing: list[str] = []
    for role, value in wanted.items():
        raw = properties.get(value, "") if value.startswith("--") else value
        colour = parse_colour(raw)
        if colour is None:
            missing.append(role)
        else:
            found[role] = colour
    return found, missing
