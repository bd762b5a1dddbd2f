"""gunicorn settings for the ideas service (services/ideas), as production
runs it (deploy/ideas.service); nginx proxies /idee-api/ to it.

Loopback only: nginx is the one door (it sets X-Forwarded-For, which the
service believes from IDEAS_TRUSTED_PROXIES only). Every write is one
BEGIN IMMEDIATE transaction in SQLite, so the workers take turns at writing
while reads go on (WAL); nginx's one-second cache absorbs the shared reads.

Before starting, the settings are read and checked (services/ideas/config.py):
without IDEAS_SECRET, or with a value that can't be used, gunicorn refuses
to start and says which variable to fix.
"""

import multiprocessing
import os
import sys
from pathlib import Path

# This checkout's root, for the services package (deploy/ is one level down).
_ROOT = Path(__file__).resolve().parents[1]
pythonpath = str(_ROOT)
wsgi_app = "services.ideas.app:create_app()"
bind = os.environ.get("IDEAS_BIND", "127.0.0.1:8090")
workers = int(os.environ.get("IDEAS_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = 4
timeout = 30
graceful_timeout = 10
keepalive = 5  # nginx keeps its connections to us open
backlog = 2048
control_socket_disable = True
accesslog = "-"
errorlog = "-"
# The app (and its schema migration) is made once, before the workers fork;
# each worker opens its own SQLite connections on first use.
preload_app = True


def _check_settings() -> None:
    sys.path.insert(0, str(_ROOT))
    from services.ideas.config import ConfigError, from_environ  # noqa: PLC0415

    try:
        settings = from_environ(os.environ)
    except ConfigError as exc:
        sys.exit(f"ideas.gunicorn.conf.py: {exc}")
    if not settings.production:
        sys.exit(
            "ideas.gunicorn.conf.py: IDEAS_ENV=development is for `invoke "
            "ideas-server`; production runs with IDEAS_ENV unset or production"
        )


_check_settings()
