"""Reader comments: the Isso thread on every post, and its static snapshot.

Settings (pelicanconf.py / publishconf.py):

``ISSO_URL``
    Where readers' browsers reach Isso (``/comments`` behind nginx, or
    ``http://localhost:8080`` in development). ``None`` turns comments off.
``ISSO_API_URL``
    Where the build reaches Isso for the static snapshot (default:
    ``ISSO_URL``; must be absolute).
``COMMENTS_SNAPSHOT``
    Render the published comments into the pages at build time (default on).
``COMMENTS_PAGE_AUTHOR_HASHES``
    Isso's hashes of the site authors' e-mail addresses: their comments are
    marked as the author's (in the snapshot and in the widget).
``COMMENTS_LATEST``, ``COMMENTS_MOST_DISCUSSED``
    How many entries the home page's two comment blocks show.

A post opts out with ``Comments: off``; a page opts in with ``Comments: on``.
When Isso can't be reached the build goes on, with a warning and no snapshot:
the live widget still works for readers.
"""

from __future__ import annotations

import logging
from typing import Any

from pelican import signals
from pelican.contents import Article
from pelican.generators import ArticlesGenerator, PagesGenerator
from wording import counted

from comments.isso import IssoClient, IssoUnreachable, Snapshot, Thread

logger = logging.getLogger(__name__)

# Pelican's loggers turn every warning into a stop under --fatal warnings.
# A comment server that is down is no fault of the content and no reason to
# hold back a post, so this one warning goes through a plain logger: it shows
# in the build's output like any warning, and the build goes on.
service_warning = logging.Logger(f"{__name__}.service")
service_warning.parent = logging.getLogger()

DEFAULTS: dict[str, Any] = {
    "ISSO_URL": None,
    "ISSO_API_URL": None,
    "COMMENTS_SNAPSHOT": True,
    "COMMENTS_TIMEOUT": 5.0,
    "COMMENTS_PAGE_AUTHOR_HASHES": [],
    "COMMENTS_LATEST": 5,
    "COMMENTS_MOST_DISCUSSED": 5,
}


def thread_uri(content: Any) -> str:
    """The Isso thread id of a post or page: its path on the site."""
    return "/" + content.url


def wants_comments(content: Any, default: bool) -> bool:
    value = str(getattr(content, "comments", "") or "").strip().lower()
    if value in ("off", "no", "false", "0"):
        return False
    if value in ("on", "yes", "true", "1"):
        return True
    return default


def _setting(settings: dict[str, Any], key: str) -> Any:
    return settings.get(key, DEFAULTS[key])


def _published(generator: Any, attribute: str) -> list[Any]:
    items = list(getattr(generator, attribute, ()))
    items += list(getattr(generator, "translations", ()))
    return [i for i in items if getattr(i, "status", "published") == "published"]


def collect(generators: list[Any]) -> None:
    """After every generator has read its content: fetch the threads, attach
    them, and give the templates the site-wide comment data."""
    articles = next((g for g in generators if isinstance(g, ArticlesGenerator)), None)
    pages = next((g for g in generators if isinstance(g, PagesGenerator)), None)
    if articles is None:
        return
    settings = articles.settings
    isso_url = _setting(settings, "ISSO_URL")
    context = articles.context
    context["comments_enabled"] = bool(isso_url)
    context["comments_threads"] = {}
    context["comments_latest_items"] = []
    context["comments_most_discussed_items"] = []
    if not isso_url:
        return
    with_comments = [
        a for a in _published(articles, "articles") if wants_comments(a, True)
    ]
    if pages is not None:
        with_comments += [
            p for p in _published(pages, "pages") if wants_comments(p, False)
        ]
    for content in with_comments:
        content.comment_uri = thread_uri(content)
    if not _setting(settings, "COMMENTS_SNAPSHOT"):
        return
    snapshot = _snapshot(settings, [c.comment_uri for c in with_comments])
    by_uri = {c.comment_uri: c for c in with_comments}
    for uri, thread in snapshot.threads.items():
        by_uri[uri].comment_thread = thread
    context["comments_threads"] = snapshot.threads
    context["comments_latest_items"] = [
        (by_uri[item.uri], item.comment)
        for item in snapshot.latest
        if item.uri in by_uri
    ]
    discussed = sorted(
        (
            c
            for c in with_comments
            if isinstance(c, Article) and getattr(c, "comment_thread", None)
        ),
        key=lambda c: (-c.comment_thread.total, -c.date.timestamp(), c.url),
    )
    context["comments_most_discussed_items"] = [
        c for c in discussed if c.comment_thread.total > 0
    ]


def _snapshot(settings: dict[str, Any], uris: list[str]) -> Snapshot:
    api_url = _setting(settings, "ISSO_API_URL") or _setting(settings, "ISSO_URL")
    if "://" not in api_url:
        service_warning.warning(
            "comments: ISSO_API_URL must be an absolute URL (it is %r): "
            "no static comments in this build",
            api_url,
        )
        return Snapshot()
    client = IssoClient(
        api_url,
        timeout=float(_setting(settings, "COMMENTS_TIMEOUT")),
        author_hashes=_setting(settings, "COMMENTS_PAGE_AUTHOR_HASHES"),
        site_url=settings.get("SITEURL") or None,
    )
    try:
        snapshot = client.snapshot(
            uris,
            latest=int(_setting(settings, "COMMENTS_LATEST")) * 4,
        )
    except IssoUnreachable as exc:
        service_warning.warning(
            "comments: Isso is not reachable (%s): building without the static "
            "comments; the live widget still works",
            exc,
        )
        return Snapshot()
    finally:
        client.close()
    total = sum(t.total for t in snapshot.threads.values())
    logger.info(
        "comments: %s in %s from %s",
        counted(total, "comment"),
        counted(len(snapshot.threads), "thread"),
        api_url,
    )
    return snapshot


def thread_of(content: Any) -> Thread | None:
    return getattr(content, "comment_thread", None)


def register() -> None:
    signals.all_generators_finalized.connect(collect)
