"""gunicorn settings for Isso in production (deploy/isso.service).

    ISSO_SETTINGS=/etc/isso/isso.cfg gunicorn -c deploy/gunicorn.conf.py

The app is Isso's (configuration from ISSO_SETTINGS), built by
``piazza.isso_wsgi``: one write lock shared by all workers, rendered comments
remembered, and nginx told how long it may cache an answer (to the end of the
current second).
Loopback only: nginx is the one door (it sets X-Forwarded-For, which Isso
trusts). Each worker is a process with a few threads; SQLite serialises the
writes, so reads keep flowing while one comment is stored, and nginx's short
cache absorbs most reads anyway.

Before starting, the configuration's $NAME references are checked: Isso
leaves an unset one as the literal text "$NAME" (an admin password anyone
could guess), so gunicorn refuses to start instead. So is the staff file
($PIAZZA_STAFF_FILE, default content/staff.toml; see piazza/isso_staff.py):
a mistake in it stops the start with its file and line. It also refuses to
start without PIAZZA_ALTCHA_HMAC_KEY, the key of the comments' proof of work,
unless PIAZZA_PROOF_OF_WORK=off (tests of other layers only).
"""

import multiprocessing
import os
import re
import sys
from pathlib import Path

# This checkout's root, for piazza.isso_wsgi (deploy/ is one level down).
pythonpath = str(Path(__file__).resolve().parents[1])
wsgi_app = "piazza.isso_wsgi:application"
bind = os.environ.get("ISSO_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("ISSO_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = 4
timeout = 30
graceful_timeout = 10
keepalive = 5  # nginx keeps its connections to us open (proxy_http_version 1.1)
backlog = 2048
# No control socket (gunicornc): systemd starts and stops the service, and the
# default path, ~/.gunicorn/gunicorn.ctl, is shared by every gunicorn of a user.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
# Loaded once, in the master, before the workers fork (piazza/isso_wsgi.py):
# the workers start with the newest threads' comments already rendered, and
# Isso's write lock is an flock every worker shares (see isso_wsgi). Isso opens
# a new SQLite connection per query, so no connection crosses the fork. A
# change of code or of isso.cfg needs a restart, not a reload.
preload_app = True


def unset_variables(config: Path) -> list[str]:
    """The $NAME / ${NAME} a config uses that the environment lacks."""
    names = set()
    for line in config.read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith(("#", ";")):
            names.update(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", line))
    return sorted(name for name in names if not os.environ.get(name))


def _check_settings() -> None:
    settings = os.environ.get("ISSO_SETTINGS")
    if not settings:
        sys.exit("gunicorn.conf.py: set ISSO_SETTINGS to Isso's configuration file")
    config = Path(settings)
    if not config.is_file():
        sys.exit(f"gunicorn.conf.py: {config}: no such Isso configuration")
    missing = unset_variables(config)
    if missing:
        sys.exit(
            f"gunicorn.conf.py: {config} uses {', '.join(missing)}, unset or empty "
            "in the environment (EnvironmentFile= in deploy/isso.service)"
        )
    # The comments' proof of work (piazza/isso_guard.py) signs its challenges
    # with this key; only development may turn the proof off.
    proof = os.environ.get("PIAZZA_PROOF_OF_WORK", "on").strip().lower()
    if proof != "off" and len(os.environ.get("PIAZZA_ALTCHA_HMAC_KEY", "")) < 16:
        sys.exit(
            "gunicorn.conf.py: PIAZZA_ALTCHA_HMAC_KEY is unset or shorter than 16 "
            "characters (the proof of work signs with it): put one made by "
            "`openssl rand -hex 32` in /etc/isso/isso.env"
        )


def _check_staff() -> None:
    """The staff file (piazza/isso_staff.py) must load: say why, not a traceback."""
    sys.path.insert(0, pythonpath)
    from piazza.staff import StaffError, load_staff, staff_file  # noqa: PLC0415

    try:
        load_staff(staff_file())
    except StaffError as exc:
        sys.exit(f"gunicorn.conf.py: {exc}")


_check_settings()
_check_staff()
