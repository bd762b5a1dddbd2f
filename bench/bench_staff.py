"""What the staff layer (piazza/isso_staff.py) adds to a thread read.

Thread reads reach the layer only when neither nginx's cache nor the
workers' kept answers (ThreadReads) have them, but then a reader waits for
it: the layer parses Isso's answer, asks the database which of its comments
are staff ones (one query), and writes the answer again when some are.

In one process, on a thread of 100 comments (10 of them staff, half of them
nested replies): Isso's read as production builds it (piazza/isso_wsgi.py,
rendered comments remembered) against the same read through the staff
layer, and the layer's own work on that answer. Medians of ``--runs`` reads.

    python bench/bench_staff.py [--runs 200]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from isso_server import config, free_port  # noqa: E402
from werkzeug.test import Client  # noqa: E402

from piazza.commentstore import connect  # noqa: E402

URI = "/2026/cento-commenti/"
TARGET_MS = 3.0  # the layer's share of a read that misses every cache


def seed(app, staff_db) -> None:
    client = Client(app)
    parents: list[int] = []
    for n in range(100):
        body = {"text": f"Commento *numero* {n}, con un [link](https://a.example/).",
                "author": f"Lettore {n}", "title": "Cento"}  # fmt: skip
        if n % 2 and parents:
            body["parent"] = parents[-1]
        made = client.post(f"/new?uri={URI}", json=body).json
        parents.append(made["id"])
        if n % 10 == 0:
            staff_db.execute(
                "INSERT INTO piazza_staff_comments VALUES (?, 'chiara', ?)",
                (made["id"], made["created"]),
            )


def medians_ms(reads, runs: int) -> list[float]:
    """The median time of each of ``reads``, run in turn (so that a busy
    moment of the machine weighs on all of them alike)."""
    times: list[list[float]] = [[] for _ in reads]
    for _ in range(runs):
        for read, kept in zip(reads, times, strict=True):
            start = time.perf_counter()
            read()
            kept.append((time.perf_counter() - start) * 1000)
    return [statistics.median(kept) for kept in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if "ISSO_SETTINGS" not in os.environ:  # run again, configured
        with tempfile.TemporaryDirectory() as tmp:
            settings = Path(tmp) / "isso.cfg"
            db = Path(tmp) / "comments.db"
            settings.write_text(config(db, free_port(), "http://127.0.0.1:9"))
            env = {**os.environ, "ISSO_SETTINGS": str(settings)}
            env["ISSO_WARM_THREADS"] = "0"
            sys.exit(subprocess.run([sys.executable, __file__, *sys.argv[1:]],
                                    env=env, check=False).returncode)  # fmt: skip

    import piazza.isso_wsgi as w  # noqa: PLC0415 (configured by ISSO_SETTINGS)

    logging.getLogger("isso").setLevel(logging.WARNING)  # one line per comment

    seed(w.isso, connect(w.dbpath))
    isso, layer = Client(w.isso), Client(w.staff)
    path = f"/?uri={URI}"
    assert b"staff-chiara" in layer.get(path).data
    assert b"staff-chiara" not in isso.get(path).data
    body = isso.get(path).data
    baseline, ours, rewrite = medians_ms(
        [
            lambda: isso.get(path),
            lambda: layer.get(path),
            lambda: w.staff.rewrite("thread", body),
        ],
        args.runs,
    )
    print(f"Staff layer on a thread read, 100 comments ({len(body)} bytes), "
          f"{os.cpu_count()} cores, median of {args.runs}")  # fmt: skip
    print(f"{'':28}{'ms':>8}")
    print(f"{'Isso (production app)':28}{baseline:8.2f}")
    print(f"{'Isso + staff layer':28}{ours:8.2f}   ratio {ours / baseline:.2f}")
    print(f"{'the layer alone (rewrite)':28}{rewrite:8.2f}   target < {TARGET_MS}")


if __name__ == "__main__":
    main()
