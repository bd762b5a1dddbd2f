"""Pure logic: the Atom feed "what we did with your ideas", one per language.

One entry per status change, with the company's answer in the feed's
language (the other language's when that one is missing). Titles and answers
are plain text (feedgenerator escapes them); an entry's id is its idea page's
URL with the change's anchor, so a reader's feed app never sees it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape

from feedgenerator import Atom1Feed

from ideaboard.model import Change, Decision


class _StableAtom1Feed(Atom1Feed):
    """Dated by its newest change, never "now": the same data, the same feed."""

    def __init__(self, *args: object, updated: datetime, **kwargs: object):
        super().__init__(*args, **kwargs)
        self._updated = updated

    def latest_post_date(self) -> datetime:
        return super().latest_post_date() if self.items else self._updated


def answer(change: Change, lang: str) -> tuple[str, str]:
    """The company's answer for a reader of ``lang`` and the language it is
    in (the other one when ``lang``'s is missing; "" when there is none)."""
    mine = change.answer_en if lang == "en" else change.answer_it
    if mine:
        return mine, lang
    other = change.answer_it if lang == "en" else change.answer_en
    return (other, "it" if lang == "en" else "en") if other else ("", "")


def render_atom(
    decisions: Sequence[Decision],
    *,
    lang: str,
    title: str,
    home: str,
    feed_url: str,
    idea_url: Callable[[Decision], str],
    entry_title: Callable[[Decision], str],
) -> str:
    """The feed's XML; ``idea_url`` is a decision's idea page (absolute),
    ``entry_title`` its title in ``lang``."""
    feed = _StableAtom1Feed(
        title=title,
        link=home,
        description="",
        language=lang,
        feed_url=feed_url,
        feed_guid=feed_url,
        updated=datetime(1970, 1, 1, tzinfo=UTC),
    )
    for decision in decisions:
        url = idea_url(decision)
        text, text_lang = answer(decision.change, lang)
        body = f'<p lang="{text_lang}">{escape(text)}</p>' if text else ""
        feed.add_item(
            title=entry_title(decision),
            link=f"{url}#change-{decision.index + 1}",
            description=body,
            pubdate=decision.change.date,
            updateddate=decision.change.date,
            unique_id=f"{url}#change-{decision.index + 1}",
        )
    return feed.writeString("utf-8")
