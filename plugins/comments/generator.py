"""Pelican glue: attach each post's thread and prepare the home page's lists.

Runs once every generator has read its content (``all_generators_finalized``):
reads the settings and ``content/staff.toml``, gives every post and page with
comments its thread id, reads the threads from Isso (the edge), applies the
badge rule per post (``badges.py``) and puts per-language lists in the context
(``ranking.py``), so that templates only loop. When Isso can't be reached the
build goes on, with a warning and no snapshot: the live widget still works.
"""

from __future__ import annotations

import logging
from typing import Any

from pelican.contents import Article
from pelican.generators import ArticlesGenerator, PagesGenerator

from comments import badges, ranking
from comments.isso import IssoClient, IssoUnreachable
from comments.model import LatestItem, Snapshot, StaffMember
from comments.settings import CommentsSettings
from comments.staff import load_staff
from wording import counted

logger = logging.getLogger(__name__)

# Pelican's loggers turn every warning into a stop under --fatal warnings.
# A comment server that is down is no fault of the content and no reason to
# hold back a post, so this one warning goes through a plain logger: it shows
# in the build's output like any warning, and the build goes on.
service_warning = logging.Logger(f"{__name__}.service")
service_warning.parent = logging.getLogger()


def thread_uri(content: Any) -> str:
    """The Isso thread id of a post or page: its path on the site."""
    return "/" + content.url


def wants_comments(content: Any, default: bool) -> bool:
    """``Comments: off`` on a post opts out; ``Comments: on`` on a page opts in."""
    value = str(getattr(content, "comments", "") or "").strip().lower()
    if value in ("off", "no", "false", "0"):
        return False
    if value in ("on", "yes", "true", "1"):
        return True
    return default


def _published(generator: Any, attribute: str) -> list[Any]:
    items = list(getattr(generator, attribute, ()))
    items += list(getattr(generator, "translations", ()))
    return [i for i in items if getattr(i, "status", "published") == "published"]


def _owners(staff: tuple[StaffMember, ...], content: Any) -> frozenset[str]:
    authors = getattr(content, "authors", None) or [getattr(content, "author", "")]
    return badges.owners(staff, (str(a) for a in authors if a))


def collect(generators: list[Any]) -> None:
    """Give posts their threads and the templates the site-wide comment data."""
    articles = next((g for g in generators if isinstance(g, ArticlesGenerator)), None)
    pages = next((g for g in generators if isinstance(g, PagesGenerator)), None)
    if articles is None:
        return
    settings = CommentsSettings.from_pelican(articles.settings)
    context = articles.context
    context["comments_enabled"] = settings.enabled
    context["comments_threads"] = {}
    context["comments_latest_by_lang"] = {}
    context["comments_most_discussed_by_lang"] = {}
    if not settings.enabled:
        return
    staff = load_staff(settings.staff_file)
    with_comments = [
        a for a in _published(articles, "articles") if wants_comments(a, True)
    ]
    if pages is not None:
        with_comments += [
            p for p in _published(pages, "pages") if wants_comments(p, False)
        ]
    owners: dict[str, frozenset[str]] = {}
    for content in with_comments:
        content.comment_uri = thread_uri(content)
        owners[content.comment_uri] = _owners(staff, content)
        # What the live widget marks as the page author's (base.html).
        content.comment_page_author_hashes = badges.page_author_hashes(
            owners[content.comment_uri]
        )
    if not settings.snapshot:
        return
    snapshot = _snapshot(
        settings, articles.settings, [c.comment_uri for c in with_comments]
    )
    by_uri = {c.comment_uri: c for c in with_comments}
    threads = {
        uri: badges.mark_thread(thread, owners[uri])
        for uri, thread in snapshot.threads.items()
        if uri in by_uri
    }
    for uri, thread in threads.items():
        by_uri[uri].comment_thread = thread
    context["comments_threads"] = threads
    latest = (
        LatestItem(
            by_uri[item.uri],
            badges.mark_latest(item, threads.get(item.uri), owners[item.uri]),
        )
        for item in snapshot.latest
        if item.uri in by_uri
    )
    context["comments_latest_by_lang"] = ranking.latest_by_lang(latest, settings.latest)
    context["comments_most_discussed_by_lang"] = ranking.most_discussed_by_lang(
        (
            (by_uri[uri], thread.total)
            for uri, thread in threads.items()
            if isinstance(by_uri[uri], Article)
        ),
        settings.most_discussed,
    )


def _snapshot(
    settings: CommentsSettings, pelican_settings: dict[str, Any], uris: list[str]
) -> Snapshot:
    api_url = settings.api_url or ""
    if "://" not in api_url:
        service_warning.warning(
            "comments: ISSO_API_URL must be an absolute URL (it is %r): "
            "no static comments in this build",
            api_url,
        )
        return Snapshot()
    try:
        with IssoClient(
            api_url,
            timeout=settings.timeout,
            max_bytes=settings.max_bytes,
            site_url=pelican_settings.get("SITEURL") or None,
        ) as client:
            # Some of the newest comments are in another language: ask for more.
            snapshot = client.snapshot(
                uris, latest=settings.latest * 4, workers=settings.workers
            )
    except IssoUnreachable as exc:
        service_warning.warning(
            "comments: Isso is not reachable (%s): building without the static "
            "comments; the live widget still works",
            exc,
        )
        return Snapshot()
    total = sum(t.total for t in snapshot.threads.values())
    logger.info(
        "comments: %s in %s from %s",
        counted(total, "comment"),
        counted(len(snapshot.threads), "thread"),
        api_url,
    )
    return snapshot
