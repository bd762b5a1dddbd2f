"""Pure HTML work: find the ``<img>`` tags of a post's text and write the
``<picture>`` that replaces one (no Pelican, no files).

The markup is the same as ``theme/templates/macros/pictures.html`` writes for
a cover: AVIF and WebP ``<source>``, the original format as the ``<img>``,
intrinsic ``width``/``height``, lazy unless it is the first thing seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from html import escape, unescape

from pictures.cover import Picture

_IMG = re.compile(r"<img\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.IGNORECASE)
_PICTURE = re.compile(r"<picture\b.*?</picture\s*>", re.IGNORECASE | re.DOTALL)
_ATTRIBUTE = re.compile(
    r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"""
)
# Attributes the <picture> markup sets itself.
OWN = frozenset(
    {
        "src",
        "srcset",
        "sizes",
        "width",
        "height",
        "loading",
        "decoding",
        "fetchpriority",
    }
)

Attributes = dict[str, str | None]


def attributes(tag: str) -> Attributes:
    """An ``<img ...>`` tag's attributes, unescaped; None for a bare one."""
    inner = tag[4:].rstrip(">").rstrip("/")
    found: Attributes = {}
    for match in _ATTRIBUTE.finditer(inner):
        name = match.group(1).lower()
        values = match.group(2, 3, 4)
        value = next((v for v in values if v is not None), None)
        found.setdefault(name, unescape(value) if value is not None else None)
    return found


def img_tag(attrs: Mapping[str, str | None]) -> str:
    parts = [
        name if value is None else f'{name}="{escape(value, quote=True)}"'
        for name, value in attrs.items()
    ]
    return f"<img {' '.join(parts)}>"


def loading(eager: bool) -> Attributes:
    """How soon the browser fetches an image: the first one seen at once."""
    if eager:
        return {"decoding": "async", "fetchpriority": "high"}
    return {"loading": "lazy", "decoding": "async"}


def srcset(siteurl: str, variants: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{siteurl}/{url} {width}w" for url, width in variants)


def picture_markup(
    picture: Picture,
    *,
    siteurl: str,
    sizes: str,
    eager: bool,
    extra: Mapping[str, str | None],
) -> str:
    """A ``<picture>`` for ``picture``; ``extra`` are the author's attributes
    of the ``<img>`` (alt, class, title...); the author's width/height win."""
    sources = "".join(
        f'<source type="{source.type}" '
        f'srcset="{escape(srcset(siteurl, source.variants))}" sizes="{escape(sizes)}">'
        for source in picture.sources
    )
    own: Attributes = {
        "src": f"{siteurl}/{picture.src}",
        "srcset": srcset(siteurl, picture.variants),
        "sizes": sizes,
        "width": extra.get("width") or str(picture.width),
        "height": extra.get("height") or str(picture.height),
    }
    # the author's alt as written: a missing one stays missing (the checks say so)
    kept = {k: v for k, v in extra.items() if k not in OWN}
    return f"<picture>{sources}{img_tag({**own, **kept, **loading(eager)})}</picture>"


def rewrite_images(
    html: str, replace: Callable[[Attributes, bool], str | None]
) -> tuple[str, int]:
    """``html`` with each ``<img>`` outside a ``<picture>`` passed to
    ``replace(attributes, first)`` (``first``: the first image of the text);
    None keeps the tag. Returns the new HTML and how many images it holds."""
    pictures = [m.span() for m in _PICTURE.finditer(html)]
    count = 0

    def one(match: re.Match) -> str:
        nonlocal count
        count += 1
        start = match.start()
        if any(a <= start < b for a, b in pictures):
            return match.group(0)
        new = replace(attributes(match.group(0)), count == 1)
        return match.group(0) if new is None else new

    return _IMG.sub(one, html), count
