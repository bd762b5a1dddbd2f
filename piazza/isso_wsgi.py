"""Isso's WSGI application as production runs it (deploy/gunicorn.conf.py),
with one header for nginx's short cache of comment reads.

nginx's cache counts time in whole seconds: ``proxy_cache_valid 200 1s`` keeps
an answer until the end of the *next* second, so a new comment would reach
other readers after 1 to 2 s. Every answer here carries ``X-Accel-Expires:
@<the second its request began>`` instead: nginx keeps it only until that
second is over, so a comment is visible to everyone within a second of being
written, while a spike of readers still costs Isso about one render a second.
nginx never passes the header on to readers. Writes are never cached (see the
/comments/ location in deploy/nginx.conf); the header is then unused.
"""

from __future__ import annotations

import time

from isso.run import application as isso


def application(environ, start_response):
    expires = ("X-Accel-Expires", f"@{int(time.time())}")

    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, expires], exc_info)

    return isso(environ, start)
