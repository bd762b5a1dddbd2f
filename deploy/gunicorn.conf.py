"""gunicorn settings for Isso in production (deploy/isso.service).

    ISSO_SETTINGS=/etc/isso/isso.cfg gunicorn -c deploy/gunicorn.conf.py isso.run

Loopback only: nginx is the one door (it sets X-Forwarded-For, which Isso
trusts). Each worker is a process with a few threads; SQLite serialises
the writes, so reads keep flowing while one comment is stored.
"""

import multiprocessing
import os

bind = os.environ.get("ISSO_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("ISSO_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = 4
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = "-"
errorlog = "-"
preload_app = False  # each worker opens its own database connections
