"""The ideas service in the development loop: `invoke dev` runs it beside
Isso and the site, the way production runs it (gunicorn with
deploy/ideas.gunicorn.conf.py), and the site server passes /idee-api/ on to
it as nginx does. `invoke ideas-server` (services/ideas/cli.py) still runs it
alone.

Development settings, unless the environment has its own: the database in
var/ideas/ideas.db, a secret made up for the run (the gunicorn config
refuses IDEAS_ENV=development, which is only for `invoke ideas-server`: here
the service runs in production mode with a throwaway secret, as the comment
server's proof-of-work key is made up in `invoke dev`), one worker, and the
links of confirmation e-mails pointing at the dev site.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from piazza.processes import LoggedServer, gunicorn_executable

PUBLIC_PATH = "/idee-api/"


class IdeasServiceError(Exception):
    """The ideas service did not start; the message says why and what to do."""


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether an ideas service answers at ``url`` (its GET /config)."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/config", timeout=timeout):
            return True
    except OSError:
        return False


def seed_demo(root: Path) -> str | None:
    """Fill an EMPTY dev database with content/ideas/ and some supporters
    (services/ideas/seed.py), so the demo's board has numbers; what was
    done, for the terminal (None: it had ideas already)."""
    from services.ideas.seed import SeedError, seed  # noqa: PLC0415 (dev only)

    db = Path(os.environ.get("IDEAS_DB") or root / "var" / "ideas" / "ideas.db")
    try:
        planted, votes = seed(db, root / "content" / "ideas")
    except SeedError as exc:
        return f"The demo's ideas were not seeded: {exc}"
    if not planted:
        return None
    return f"Seeded the demo's ideas board in {db}: {planted} ideas, {votes} votes."


def environment(root: Path, port: int, siteurl: str) -> dict[str, str]:
    """The service's environment for a dev session on ``siteurl``."""
    env = {**os.environ}
    if env.get("IDEAS_ENV", "").strip() == "development":
        del env["IDEAS_ENV"]  # see the module's docstring
    env.setdefault("IDEAS_SECRET", secrets.token_hex(32))
    env.setdefault("IDEAS_DB", str(root / "var" / "ideas" / "ideas.db"))
    env.setdefault("IDEAS_WORKERS", "1")
    env["IDEAS_BIND"] = f"127.0.0.1:{port}"
    env["IDEAS_PUBLIC_PATH"] = PUBLIC_PATH
    env["IDEAS_PUBLIC_URL"] = siteurl.rstrip("/") + PUBLIC_PATH.rstrip("/")
    return env


@contextlib.contextmanager
def running(
    root: Path, port: int, siteurl: str, timeout: float = 30.0
) -> Iterator[str]:
    """The service on 127.0.0.1:``port`` for the duration; yields its URL.

    An ideas service already answering there (`invoke ideas-server` in
    another terminal) is used as it is. Raises IdeasServiceError if ours
    does not start; stops it on the way out, Ctrl-C included.
    """
    url = f"http://127.0.0.1:{port}"
    if answers(url):
        print(f"An ideas service already answers at {url}/: using it", flush=True)  # noqa: T201
        yield url
        return
    config = root / "deploy" / "ideas.gunicorn.conf.py"
    if not config.is_file():
        raise IdeasServiceError(
            f"{config}: no such file (the service's gunicorn config)"
        )
    env = environment(root, port, siteurl)
    Path(env["IDEAS_DB"]).parent.mkdir(parents=True, exist_ok=True)
    server = LoggedServer(
        [
            gunicorn_executable(),
            "--config",
            str(config),
            "--access-logfile",
            "/dev/null",
        ],
        cwd=root,
        env=env,
    )
    try:
        deadline = time.monotonic() + timeout
        while not answers(url, timeout=0.5):
            if server.exited() is not None:
                raise IdeasServiceError(
                    f"it stopped with status {server.exited()}:\n{server.last_words()}"
                )
            if time.monotonic() > deadline:
                raise IdeasServiceError(f"it did not answer at {url} in {timeout:g} s")
            time.sleep(0.1)
        print(f"The ideas service is running at {url}/ ({env['IDEAS_DB']})", flush=True)  # noqa: T201
        yield url
    finally:
        server.stop()
