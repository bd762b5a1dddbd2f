"""Isso's WSGI application as production runs it (deploy/gunicorn.conf.py):
Isso's own app, built as isso.run builds it (configuration from
ISSO_SETTINGS), with one fix and three changes for speed under a spike of
readers. Isso itself is unchanged.

0. One lock for all workers. Isso serialises the creation of a thread (and
   its other writes) with ``self.lock``. isso.run asks for a multiprocessing
   lock, but make_app's ``threading=True`` default wins over it (isso 0.14),
   so each worker gets a threading.Lock of its own, and two first comments on
   a post in two workers at once fail with a 500 (UNIQUE constraint failed:
   threads.uri). Here the lock is a :class:`piazza.processes.ProcessLock`, an
   flock on ``<dbpath>.lock`` that every worker shares, and that the kernel
   releases if a worker dies holding it (gunicorn kills a stuck worker with
   SIGKILL; a shared semaphore would then stay taken and stop every write).
1. Rendered comments are remembered. Isso renders every comment's Markdown
   and sanitises the HTML (bleach, html5lib) on every read of a thread: about
   1.3 ms a comment, 130 ms for a thread of 100. The result depends only on
   the text and the configuration, fixed for the process's life, so
   ``Markup.render`` is wrapped in an LRU cache (per worker, bounded): the
   same read takes about 12 ms. An edited comment has a new text, hence a new
   entry. gunicorn loads this module once, before forking its workers
   (preload_app): the newest threads are read here first, so every worker
   starts with their comments rendered (ISSO_WARM_THREADS, default 50; 0 for
   none), instead of each paying for them under the first spike.
2. Thread reads are answered from memory until the database changes
   (:class:`ThreadReads`): nginx refreshes its copy of a busy thread every
   second, and the reader whose request does it waits for Isso; when no
   comment was written meanwhile, the answer is the same bytes as before.
3. nginx's cache counts time in whole seconds: ``proxy_cache_valid 200 1s``
   keeps an answer until the end of the *next* second, so a new comment would
   reach other readers after 1 to 2 s. Every answer here carries
   ``X-Accel-Expires: @<the second its request began>`` instead: nginx keeps
   it only until that second is over, so a comment is visible to everyone
   within a second of being written, while a spike of readers costs Isso
   about one read a second. nginx never passes the header on to readers,
   and never caches writes (see the /comments/ location in deploy/nginx.conf).
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from operator import itemgetter
from pathlib import Path

import isso as isso_package
from isso import config, core, html, make_app, wsgi
from werkzeug.test import Client, run_wsgi_app
from werkzeug.wrappers import Request

from piazza import isso_guard
from piazza.comments import read_only
from piazza.isso_moderation import Moderation
from piazza.isso_staff import StaffBadges
from piazza.processes import ProcessLock

logger = logging.getLogger("piazza.isso")

NEWEST_THREADS = """
    SELECT threads.uri FROM threads JOIN comments ON comments.tid = threads.id
    WHERE comments.mode = 1 GROUP BY threads.id
    ORDER BY MAX(comments.created) DESC LIMIT ?
"""


class ThreadReads:
    """Isso's answers to thread reads (``GET /?uri=...``), kept in this
    process until the database changes.

    A thread read depends only on its arguments and the database (no cookie,
    no address; isso/views/comments.py, fetch()), and its CORS header on the
    request's origin (one of Isso's hosts, as Isso picks it): the arguments
    fetch() reads and the origin make the key, so made-up arguments cannot
    fill the memory with copies. At most ``size`` answers and ``budget``
    bytes are kept, the least recently used going first.

    SQLite's ``PRAGMA data_version``, asked on a connection of our own,
    changes whenever any other connection commits: Isso's, in any worker, or
    a restore through SQLite's backup API. One such query (a few
    microseconds) tells whether the kept answers still hold; any write clears
    them all. Each clear starts a new generation; an answer is kept only if
    no clear happened while Isso read it (a read that raced a write is
    dropped). Each worker opens its own connection (the first request after a
    fork does); a database file replaced under us (a new inode) is reopened,
    and that too clears everything.
    """

    ARGUMENTS = frozenset(
        {"uri", "after", "sort", "limit", "offset", "parent", "plain", "nested_limit"}
    )

    def __init__(
        self, app, dbpath: str, hosts, size: int = 1024, budget: int = 64 << 20
    ) -> None:
        self.app, self.dbpath = app, dbpath
        self.size, self.budget = size, budget
        self.origin = wsgi.origin(hosts)
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.inode: int | None = None
        self.db: sqlite3.Connection | None = None
        self.version: int | None = None
        self.generation = 0
        self.answers: OrderedDict[tuple, tuple[str, list, bytes]] = OrderedDict()
        self.held = 0  # bytes

    def _clear(self) -> None:
        self.answers.clear()
        self.held = 0
        self.generation += 1

    def _check(self) -> None:
        """Clear the answers if the database changed (under ``self.lock``)."""
        inode = os.stat(self.dbpath).st_ino
        if self.pid != os.getpid() or self.inode != inode:
            if self.db is not None and self.pid == os.getpid():
                self.db.close()  # the old file's; a forked copy is left alone
            self.pid, self.inode = os.getpid(), inode
            self.db = sqlite3.connect(
                f"file:{self.dbpath}?mode=ro", uri=True, check_same_thread=False
            )
            self.version = None  # a new connection counts from its own start
            self._clear()
        (version,) = self.db.execute("PRAGMA data_version").fetchone()
        if version != self.version:
            self.version = version
            self._clear()

    def _key(self, environ) -> tuple | None:
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("PATH_INFO", "/") != "/"
        ):
            return None
        # Parsed by Werkzeug as Isso parses them (bytes that are not UTF-8
        # stay percent-encoded), so two arguments Isso tells apart never
        # share a key.
        try:
            arguments = Request(environ).args.items(multi=True)
        except UnicodeError:
            return None  # Isso answers that itself
        # Sorted by name only: a repeated argument keeps its order, since Isso
        # answers for the first one (``?uri=/a/&uri=/b/`` is /a/'s thread).
        kept = tuple(
            sorted(
                ((k, v) for k, v in arguments if k in self.ARGUMENTS), key=itemgetter(0)
            )
        )
        if not any(k == "uri" for k, _ in kept):
            return None
        return kept, self.origin(environ)

    def _keep(self, key: tuple, answer: tuple[str, list, bytes]) -> None:
        size = len(answer[2])
        if size > self.budget:
            return
        self.answers[key] = answer
        self.held += size
        while len(self.answers) > self.size or self.held > self.budget:
            _key, (_s, _h, body) = self.answers.popitem(last=False)
            self.held -= len(body)

    def __call__(self, environ, start_response):
        key = self._key(environ)
        if key is None:
            return self.app(environ, start_response)
        try:
            with self.lock:
                self._check()
                generation = self.generation
                kept = self.answers.get(key)
                if kept:
                    self.answers.move_to_end(key)
        except (OSError, sqlite3.Error):
            # Whatever is wrong with the database, Isso says it: this cache
            # never turns a read into an error of its own.
            return self.app(environ, start_response)
        if kept:
            status, headers, body = kept
            start_response(status, list(headers))
            return [body]
        result, status, answered = run_wsgi_app(self.app, environ, buffered=True)
        body = b"".join(result)
        headers = answered.to_wsgi_list()
        start_response(status, headers)
        if status.startswith("200"):
            with self.lock:
                if self.generation == generation and key not in self.answers:
                    self._keep(key, (status, headers, body))
        return [body]


def warm(app, dbpath: str, threads: int) -> int:
    """Read the ``threads`` most recently commented threads through ``app``
    (rendering their comments into the cache); the number read. Never fails:
    a server that starts matters more than a warm one."""
    if threads <= 0 or not os.path.isfile(dbpath):
        return 0
    try:
        with read_only(Path(dbpath)) as db:
            uris = [row[0] for row in db.execute(NEWEST_THREADS, (threads,))]
        client = Client(app)
        for uri in uris:
            client.get("/", query_string={"uri": uri})
    except Exception:
        logger.warning("could not warm the rendered comments", exc_info=True)
        return 0
    return len(uris)


# Before the app is built (its Markup instance calls this method).
html.Markup.render = functools.lru_cache(maxsize=8192)(html.Markup.render)

settings = config.load(config.default_file(), os.environ.get("ISSO_SETTINGS"))
dbpath = settings.get("general", "dbpath")


class SharedLockMixin(core.ThreadedMixin):
    """Isso's ProcessMixin, with a lock a killed worker cannot keep."""

    def __init__(self, conf) -> None:
        super().__init__(conf)
        self.lock = ProcessLock(conf.get("general", "dbpath") + ".lock")


# make_app picks its mixin from the isso package's namespace when it runs.
isso_package.ProcessMixin = SharedLockMixin
isso = make_app(settings, threading=False, multiprocessing=True)
_warmed = warm(isso, dbpath, int(os.environ.get("ISSO_WARM_THREADS", "50")))
logger.info("rendered the comments of the %d newest threads", _warmed)
staff = StaffBadges.from_environment(isso, dbpath)  # piazza/isso_staff.py
reads = ThreadReads(staff, dbpath, settings.getiter("general", "host"))
# Our layers around Isso (each in its own module; see its docstring).
layered = Moderation(reads, settings)
guarded = isso_guard.from_isso(layered, settings)  # spam, proof of work, limits, bans


def doubled_prefix(environ) -> bool:
    """Whether the path starts with the prefix nginx already took off
    (``/comments/comments/login/``): Isso would take it off again and answer
    its own login, admin and edit routes, past our layers. No route of ours
    or Isso's starts with it."""
    script = environ.get("HTTP_X_SCRIPT_NAME", "").rstrip("/")
    path = environ.get("PATH_INFO", "")
    return bool(script) and (path == script or path.startswith(script + "/"))


def application(environ, start_response):
    if doubled_prefix(environ):
        start_response("404 NOT FOUND", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not Found"]
    second = int(time.time())

    def start(status, headers, exc_info=None):
        if status.startswith("200"):  # an error is never kept for others
            headers = [*headers, ("X-Accel-Expires", f"@{second}")]
        return start_response(status, headers, exc_info)

    return guarded(environ, start)
