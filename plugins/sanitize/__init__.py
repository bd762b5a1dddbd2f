"""The one sanitising policy for untrusted HTML on the site.

Feed entries today, Isso comments tomorrow: everything written by someone other
than the site's editors passes through :func:`sanitize_html` before a template
sees it. The policy is an allowlist enforced by nh3 (Rust's ammonia, an
html5ever parser): only plain document markup survives; scripts, styles,
iframes, forms, event handlers, ``style`` attributes (CSS expressions),
``javascript:``/``data:`` URLs and tracking pixels do not. Links get
``rel="nofollow noopener ugc"``, images ``loading="lazy"`` and https.

This package imports nothing from Pelican or the feed code, so every plugin
can share it and its tests need nothing but strings.
"""

from __future__ import annotations

from sanitize.policy import (
    ALLOWED_TAGS,
    LINK_REL,
    URL_SCHEMES,
    clean_text,
    drop_elements,
    image_tags,
    plain_text,
    safe_url,
    sanitize_html,
)
from sanitize.truncate import text_length, truncate_html


def excerpt_html(
    cleaned: str, max_chars: int, drop: frozenset[str] = frozenset()
) -> str:
    """An excerpt of sanitised HTML: the elements in ``drop`` removed, then
    cut to ``max_chars`` characters of text, markup kept whole.

    Only a fragment that is too long is parsed and cut in Python; the rest
    is nh3's work, which is what makes excerpts of thousands of feed entries
    cheap.
    """
    if any(f"<{tag}" in cleaned for tag in drop):
        cleaned = drop_elements(cleaned, drop)
    if text_length(cleaned) <= max_chars:
        return cleaned.strip()
    return truncate_html(cleaned, max_chars, drop=drop)


__all__ = [
    "ALLOWED_TAGS",
    "LINK_REL",
    "URL_SCHEMES",
    "clean_text",
    "drop_elements",
    "excerpt_html",
    "image_tags",
    "plain_text",
    "safe_url",
    "sanitize_html",
    "text_length",
    "truncate_html",
]
