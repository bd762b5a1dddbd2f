"""sitemap.xml with hreflang alternates, from plain data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import quoteattr

HEADER = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
)


@dataclass(frozen=True)
class SitemapEntry:
    url: str  # absolute
    lastmod: datetime | None
    # (hreflang, absolute url), including the entry itself and x-default
    alternates: tuple[tuple[str, str], ...] = ()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(entries: Iterable[SitemapEntry]) -> str:
    parts = [HEADER]
    for entry in sorted(entries, key=lambda e: e.url):
        parts.append(f"<url><loc>{_escape(entry.url)}</loc>")
        if entry.lastmod:
            parts.append(f"<lastmod>{entry.lastmod.isoformat()}</lastmod>")
        parts.extend(
            f'<xhtml:link rel="alternate" hreflang={quoteattr(lang)} '
            f"href={quoteattr(href)}/>"
            for lang, href in entry.alternates
        )
        parts.append("</url>\n")
    parts.append("</urlset>\n")
    return "".join(parts)


def with_x_default(
    alternates: Sequence[tuple[str, str]], default_lang: str
) -> tuple[tuple[str, str], ...]:
    """Alternates plus x-default (the default language's version), if several."""
    if len(alternates) < 2:
        return ()
    default = next((href for lang, href in alternates if lang == default_lang), None)
    extra = [("x-default", default)] if default else []
    return (*alternates, *extra)


def robots_txt(siteurl: str, disallow: Iterable[str]) -> str:
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: /{path}" for path in disallow]
    lines += ["", f"Sitemap: {siteurl}/sitemap.xml", ""]
    return "\n".join(lines)
