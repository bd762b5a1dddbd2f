"""Isso's WSGI application as production runs it (deploy/gunicorn.conf.py):
Isso's own app, built as isso.run builds it (configuration from
ISSO_SETTINGS), with one fix and two changes for speed under a spike of
readers. Isso itself is unchanged.

0. One lock for all workers. Isso serialises the creation of a thread (and
   its other writes) with ``self.lock``. isso.run asks for a multiprocessing
   lock, but make_app's ``threading=True`` default wins over it (isso 0.14),
   so each worker gets a threading.Lock of its own, and two first comments on
   a post in two workers at once fail with a 500 (UNIQUE constraint failed:
   threads.uri). Built here with ``threading=False, multiprocessing=True``,
   in gunicorn's master (preload_app), the lock is one semaphore every
   worker shares.

1. Rendered comments are remembered. Isso renders every comment's Markdown
   and sanitises the HTML (bleach, html5lib) on every read of a thread: about
   1.3 ms a comment, 130 ms for a thread of 100, on every refresh of nginx's
   cache entry, while the reader that triggered it waits. The result depends
   only on the text and the configuration, fixed for the process's life, so
   ``Markup.render`` is wrapped in an LRU cache (per worker, bounded): the
   same read takes about 12 ms. An edited comment has a new text, hence a new
   entry. gunicorn loads this module once, before forking its workers
   (preload_app): the newest threads are read here first, so every worker
   starts with their comments rendered (ISSO_WARM_THREADS, default 50; 0 for
   none), instead of each paying for them under the first spike.
2. nginx's cache counts time in whole seconds: ``proxy_cache_valid 200 1s``
   keeps an answer until the end of the *next* second, so a new comment would
   reach other readers after 1 to 2 s. Every answer here carries
   ``X-Accel-Expires: @<the second its request began>`` instead: nginx keeps
   it only until that second is over, so a comment is visible to everyone
   within a second of being written, while a spike of readers costs Isso
   about one render a second. nginx never passes the header on to readers,
   and never caches writes (see the /comments/ location in deploy/nginx.conf).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import time

from isso import config, html, make_app
from werkzeug.test import Client

# Before the app is built (its Markup instance calls this method).
html.Markup.render = functools.lru_cache(maxsize=8192)(html.Markup.render)

isso = make_app(
    config.load(config.default_file(), os.environ.get("ISSO_SETTINGS")),
    threading=False,
    multiprocessing=True,
)

logger = logging.getLogger("piazza.isso")

NEWEST_THREADS = """
    SELECT threads.uri FROM threads JOIN comments ON comments.tid = threads.id
    WHERE comments.mode = 1 GROUP BY threads.id
    ORDER BY MAX(comments.created) DESC LIMIT ?
"""


def warm(app, settings: str | None, threads: int) -> int:
    """Read the ``threads`` most recently commented threads through ``app``
    (rendering their comments into the cache); the number read. Never fails:
    a server that starts matters more than a warm one."""
    if threads <= 0:
        return 0
    try:
        conf = config.load(config.default_file(), settings)
        path = conf.get("general", "dbpath")
        if not os.path.isfile(path):
            return 0
        with contextlib.closing(
            sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        ) as db:
            uris = [row[0] for row in db.execute(NEWEST_THREADS, (threads,))]
        client = Client(app)
        for uri in uris:
            client.get("/", query_string={"uri": uri})
    except Exception:
        logger.warning("could not warm the rendered comments", exc_info=True)
        return 0
    return len(uris)


_warmed = warm(
    isso,
    os.environ.get("ISSO_SETTINGS"),
    int(os.environ.get("ISSO_WARM_THREADS", "50")),
)
logger.info("rendered the comments of the %d newest threads", _warmed)


def application(environ, start_response):
    expires = ("X-Accel-Expires", f"@{int(time.time())}")

    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, expires], exc_info)

    return isso(environ, start)
