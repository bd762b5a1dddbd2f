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
    plain_text,
    safe_url,
    sanitize_html,
)
from sanitize.truncate import truncate_html

__all__ = [
    "ALLOWED_TAGS",
    "LINK_REL",
    "URL_SCHEMES",
    "plain_text",
    "safe_url",
    "sanitize_html",
    "truncate_html",
]
