"""`invoke feeds-check`: which subscriptions are dead, which have moved.

Every feed of ``feeds.toml`` is fetched once, as it stands (no validators, no
cache, nothing written), its redirects followed and recorded, and its body
parsed. Each gets a :class:`Verdict`:

- ``ok``: a feed came back from its own address;
- ``moved``: permanent redirects (301/308, the whole chain up to the first
  temporary one) lead to a working feed; ``moved_to`` is the address to write
  into feeds.toml (:func:`community.subscriptions.apply_moves` does it);
- ``redirected``: a temporary redirect (302/303/307) leads to a working feed;
  never written, the site may send the feed back;
- ``refused``: a redirect leads somewhere we do not follow (not http(s), or
  from the public web into a private network); reported, never applied;
- ``busy``: rate limited (429, or 503 with Retry-After): try again later;
- ``dead``: anything else: an HTTP error (404, 410...), a name that does not
  resolve, a refused connection, a timeout, a body that is not a feed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import httpx

from community.aggregate import run_coroutine
from community.fetch import FetchRequest, FetchResult, Outcome, fetch_each
from community.model import Subscription
from community.normalize import NotAFeed, parse_feed
from community.settings import FetchLimits


class Verdict(StrEnum):
    OK = "ok"
    MOVED = "moved"
    REDIRECTED = "redirected"
    REFUSED = "refused"
    BUSY = "busy"
    DEAD = "dead"


@dataclass(frozen=True)
class FeedCheck:
    """What checking one subscription found."""

    subscription: Subscription
    verdict: Verdict
    detail: str  # for the editor: the error, or where the feed went
    status: int | None = None  # the last HTTP status, if any came
    redirects: tuple[tuple[int, str], ...] = ()  # (status, target), in order
    moved_to: str | None = None  # for MOVED: the permanent address
    final_url: str | None = None  # where the feed was finally read

    @property
    def fixable(self) -> bool:
        return self.verdict is Verdict.MOVED and self.moved_to is not None


def judge(sub: Subscription, result: FetchResult) -> FeedCheck:
    """The verdict on one fetch (pure: the body is parsed, nothing else)."""
    common = {
        "subscription": sub,
        "status": result.status,
        "redirects": result.redirects,
        "final_url": result.final_url,
    }
    if result.refused_redirect:
        return FeedCheck(verdict=Verdict.REFUSED, detail=result.error or "", **common)
    if result.outcome is Outcome.RATE_LIMITED:
        return FeedCheck(verdict=Verdict.BUSY, detail=result.error or "", **common)
    if result.outcome is not Outcome.FETCHED:
        return FeedCheck(
            verdict=Verdict.DEAD, detail=result.error or "no answer", **common
        )
    try:
        parse_feed(
            result.body or b"",
            url=result.final_url or result.url,
            content_type=result.content_type,
        )
    except NotAFeed as exc:
        return FeedCheck(verdict=Verdict.DEAD, detail=str(exc), **common)
    if result.moved_to:
        return FeedCheck(
            verdict=Verdict.MOVED,
            detail=f"moved permanently to {result.moved_to}",
            moved_to=result.moved_to,
            **common,
        )
    if result.redirects:
        status, target = result.redirects[-1]
        return FeedCheck(
            verdict=Verdict.REDIRECTED,
            detail=f"temporary redirect ({status}) to {target}: not written",
            **common,
        )
    return FeedCheck(verdict=Verdict.OK, detail="ok", **common)


def check_feeds(
    subscriptions: Sequence[Subscription],
    limits: FetchLimits,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    on_feed: Callable[[FeedCheck], None] | None = None,
) -> tuple[FeedCheck, ...]:
    """Fetch every subscription at its feeds.toml address; one check each,
    in feeds.toml order. Touches no file."""
    by_slug = {sub.slug: sub for sub in subscriptions}

    async def run() -> dict[str, FeedCheck]:
        found = {}
        requests = [FetchRequest(sub.slug, sub.url) for sub in subscriptions]
        async for result in fetch_each(requests, limits, transport=transport):
            checked = judge(by_slug[result.key], result)
            found[result.key] = checked
            if on_feed:
                on_feed(checked)
        return found

    found = run_coroutine(run()) if subscriptions else {}
    return tuple(found[sub.slug] for sub in subscriptions)
