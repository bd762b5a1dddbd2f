"""Isso with a stand-in for the server layer's staff proof, for build tests.

Contract 2 (the staff badge): the production layer answers the ``hash`` of a
comment posted in an authenticated staff session as ``"staff-<key>"``, from a
row in ``piazza_staff_comments``. That layer is not what these tests are
about, so here a small fake at the edge (as Isso's own tests use ``FakeIP``)
does exactly that rewrite and nothing else, and the real Isso does the rest:

    with running_isso_with_staff(tmp_path, site) as isso:
        made = new_comment(isso.url, "/2026/post/", "Ciao", author="Chiara")
        mark_staff(isso.db, made["id"], "chiara")

Run as a script, it serves Isso's app wrapped in :class:`StaffHashes`
(``python tests/staff_isso.py ISSO.CFG PORT``).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: piazza is importable
    sys.path.insert(0, str(ROOT))

from piazza import commentstore  # noqa: E402


def mark_staff(db: Path, comment_id: int, staff: str) -> None:
    """Record that a comment was written by a staff member (what the server
    layer does for a post in an authenticated staff session)."""
    with contextlib.closing(commentstore.connect(db)) as conn:
        commentstore.ensure_schema(conn)
        conn.execute(
            "INSERT OR REPLACE INTO piazza_staff_comments (comment_id, staff, created)"
            " VALUES (?, ?, ?)",
            (comment_id, staff, time.time()),
        )


class StaffHashes:
    """Rewrites the ``hash`` of every staff comment in Isso's JSON answers."""

    def __init__(self, app, dbpath: str) -> None:
        self.app = app
        self.dbpath = dbpath

    def _staff(self) -> dict[int, str]:
        with contextlib.closing(sqlite3.connect(self.dbpath)) as conn:
            commentstore.ensure_schema(conn)
            return dict(
                conn.execute("SELECT comment_id, staff FROM piazza_staff_comments")
            )

    def _rewrite(self, data, staff: dict[int, str]):
        if isinstance(data, list):
            return [self._rewrite(item, staff) for item in data]
        if isinstance(data, dict):
            data = {key: self._rewrite(value, staff) for key, value in data.items()}
            if "hash" in data and data.get("id") in staff:
                data["hash"] = f"staff-{staff[data['id']]}"
            return data
        return data

    def __call__(self, environ, start_response):
        captured = {}

        def start(status, headers, exc_info=None):
            captured.update(status=status, headers=headers, exc_info=exc_info)

        body = b"".join(self.app(environ, start))
        headers = captured["headers"]
        kind = next((v for k, v in headers if k.lower() == "content-type"), "")
        if kind.startswith("application/json") and body:
            data = self._rewrite(json.loads(body), self._staff())
            body = json.dumps(data).encode()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers, captured["exc_info"])
        return [body]


@contextlib.contextmanager
def running_isso_with_staff(
    folder: Path, site: str = "http://127.0.0.1:8000"
) -> Iterator:
    """A real Isso (as ``isso_server.running_isso``), its answers passed
    through :class:`StaffHashes`; stopped on exit."""
    from isso_server import _prepare, _started, free_port

    port = free_port()
    cfg, db, log = _prepare(folder, port, site, "isso.log")
    command = [sys.executable, str(Path(__file__).resolve()), str(cfg), str(port)]
    with _started(command, port, db, log, env=None, cwd=folder) as server:
        yield server


def main(cfg: str, port: int) -> None:
    from isso import config, make_app
    from werkzeug.serving import run_simple

    settings = config.load(config.default_file(), cfg)
    app = StaffHashes(make_app(settings), settings.get("general", "dbpath"))
    run_simple("127.0.0.1", port, app, threaded=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
