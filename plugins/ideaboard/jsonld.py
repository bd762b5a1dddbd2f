"""Pure logic: schema.org data (JSON-LD) for an idea's page.

A DiscussionForumPosting (https://schema.org/DiscussionForumPosting): the
idea is a post readers discuss and support. Support is an
``interactionStatistic`` of LikeAction (supporters); the comments are the
page's thread. Values are plain text: the template serialises the dict with
``tojson``, which escapes ``<``, ``>`` and ``&`` inside the script element.
"""

from __future__ import annotations

from typing import Any

from ideaboard.model import BoardIdea
from sanitize import plain_text


def discussion_posting(
    idea: BoardIdea, lang: str, url: str, siteurl: str, sitename: str
) -> dict[str, Any]:
    text = idea.text(lang)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "DiscussionForumPosting",
        "@id": url,
        "url": url,
        "mainEntityOfPage": url,
        "headline": text.title,
        "text": plain_text(text.body_html),
        "inLanguage": text.lang,
        "datePublished": idea.date.isoformat(),
        "author": {"@type": "Person", "name": idea.proposed_by}
        if idea.proposed_by
        else {"@type": "Organization", "name": sitename, "url": f"{siteurl}/"},
        "publisher": {"@type": "Organization", "name": sitename, "url": f"{siteurl}/"},
        "interactionStatistic": [
            {
                "@type": "InteractionCounter",
                "interactionType": "https://schema.org/LikeAction",
                "userInteractionCount": idea.supporters,
            }
        ],
    }
    if idea.status_date:
        data["dateModified"] = idea.status_date.isoformat()
    if idea.category:
        data["articleSection"] = idea.category
    return data
