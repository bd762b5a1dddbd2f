"""schema.org structured data (JSON-LD) for articles, from plain values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channels.jsonfeed import plain_text


def _as_written(group: Any, lang: str) -> str:
    return str(group)


def blog_posting(
    article: Any,
    siteurl: str,
    sitename: str,
    logo: str,
    label: Callable[[Any, str], str] = _as_written,
) -> dict:
    """A schema.org BlogPosting for one article (https://schema.org/BlogPosting).

    ``label`` names a tag or category in the article's language.
    """
    url = f"{siteurl}/{article.url}"
    publisher = {"@type": "Organization", "name": sitename, "url": f"{siteurl}/"}
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "@id": url,
        "url": url,
        "mainEntityOfPage": url,
        "headline": article.title,
        "description": plain_text(article.summary),
        "inLanguage": article.lang,
        "datePublished": article.date.isoformat(),
        "dateModified": (
            getattr(article, "modified", None) or article.date
        ).isoformat(),
        "author": [
            {"@type": "Person", "name": str(a), "url": f"{siteurl}/{a.url}"}
            for a in getattr(article, "authors", ())
        ],
        "publisher": {
            **publisher,
            "logo": {"@type": "ImageObject", "url": f"{siteurl}/{logo}"},
        },
        # The post's own social card (plugins/socialcards), else the logo.
        "image": f"{siteurl}/{getattr(article, 'social_card', None) or logo}",
        "keywords": [label(t, article.lang) for t in getattr(article, "tags", ())],
    }
    thread = getattr(article, "comment_thread", None)  # plugins/comments
    if thread is not None:
        data["commentCount"] = thread.total
        if thread.comments:
            # Staff comments name the publisher as their author's affiliation.
            data["comment"] = thread.schema_org(organization=publisher)
    if getattr(article, "category", None):
        data["articleSection"] = label(article.category, article.lang)
    translations = [
        t for t in getattr(article, "translations", ()) if t.status == "published"
    ]
    if translations:
        data["workTranslation" if article.lang == "it" else "translationOfWork"] = [
            {"@id": f"{siteurl}/{t.url}", "inLanguage": t.lang} for t in translations
        ]
    return data
