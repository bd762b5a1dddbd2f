"""The ideas service under load: Werkzeug's development server against production.

In one run, on loopback:

- count reads (``GET /counts?ids=1..50``, the board's one request per page)
  with wrk (apt-get install wrk), 16 connections, a few seconds each;
- votes, each with its proof of work solved beforehand and verified by the
  service (fresh voters, concurrent, through a pool of client threads);
- against the baseline, the same app on Werkzeug's threaded development
  server (what `invoke ideas-server` runs), and against production: gunicorn
  (deploy/ideas.gunicorn.conf.py) behind nginx (deploy/nginx.conf, HTTPS,
  shared reads cached to the end of their second);
- then, on production: how long until a vote is visible to another reader
  (through the cache), and ``--votes`` votes at once, counted in the
  database afterwards.

Limits per network are raised for the run (every request comes from
127.0.0.1). Medians of ``--runs`` runs; wrk, the client and nginx share the
machine's cores with the service: the figures are for this machine.

    python bench/bench_ideas.py [--duration 5] [--runs 3] [--votes 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_comments import NGINX, WRK, make_cert, median, wrk  # noqa: E402
from ideas_server import environment, free_port, running_ideas  # noqa: E402

from piazza.nginxconf import SAMPLE, Local, render_main, render_site  # noqa: E402
from piazza.processes import stop  # noqa: E402
from services.ideas import backup, cli  # noqa: E402
from services.ideas.pow import solve  # noqa: E402

IDEAS = 50
UNLIMITED = {
    "IDEAS_RANGE_VOTES_PER_HOUR": "100000000",
    "IDEAS_VOTER_VOTES_PER_HOUR": "100000000",
    "IDEAS_RANGE_PROPOSALS_PER_DAY": "100000000",
    "IDEAS_POW_MAX_NUMBER": "1000",
}


class Client:
    """Keep-alive requests to one base URL (http or https), one per thread."""

    def __init__(self, base: str, context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(base)
        self.prefix = parts.path.rstrip("/")
        if parts.scheme == "https":
            self.conn = http.client.HTTPSConnection(
                parts.hostname, parts.port, context=context, timeout=60
            )
        else:
            self.conn = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=60
            )

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body)
        self.conn.request(
            method, self.prefix + path, body=data,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        response = self.conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload[:1] == b"{" else {}


def seed(db: Path, base: str, folder: Path) -> None:
    """IDEAS accepted ideas with a few thousand votes between them."""
    client = Client(base)
    for n in range(IDEAS):
        _, challenge = client.call("GET", "/challenge")
        status, made = client.call(
            "POST", "/ideas",
            {"title": f"Idea {n}", "description": "Testo.", "category": "moto",
             "lang": "it", "altcha": solve(challenge)},
        )  # fmt: skip
        assert status == 202, made
        cli.accept(db, made["id"], folder)
    with sqlite3.connect(db) as conn:
        now = time.time()
        conn.executemany(
            "INSERT INTO voters (id, range, created) VALUES (?, '10.0.0.0/24', ?)",
            [(f"seed-{v}", now) for v in range(3000)],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO votes (idea_id, voter, created) VALUES (?, ?, ?)",
            [
                (random.randint(1, IDEAS), f"seed-{v}", now)
                for v in range(3000)
                for _ in range(3)
            ],
        )


def solved(base: str, how_many: int, context=None) -> list[str]:
    with ThreadPoolExecutor(8) as pool:
        return list(
            pool.map(
                lambda _: solve(Client(base, context).call("GET", "/challenge")[1]),
                range(how_many),
            )
        )


def votes(base: str, proofs: list[str], context=None) -> dict:
    """Every proof pays for one vote from a fresh voter (no cookie is sent
    back), 16 at a time over keep-alive connections:
    writes/s, p50 and p99 in ms, answers that were not 200."""
    latencies: list[float] = []
    failures = 0
    local = threading.local()  # one keep-alive connection per client thread

    def one(proof: str) -> None:
        nonlocal failures
        if not hasattr(local, "client"):
            local.client = Client(base, context)
        client = local.client
        started = time.perf_counter()
        status, _ = client.call(
            "POST", f"/ideas/{random.randint(1, IDEAS)}/vote", {"altcha": proof}
        )
        latencies.append((time.perf_counter() - started) * 1000)
        failures += status != 200

    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, proofs))
    took = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "rps": len(proofs) / took,
        "p50": ordered[len(ordered) // 2],
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "errors": failures,
    }


def visibility(base: str, context, runs: int = 8) -> list[float]:
    """Seconds from a vote to another reader's count showing it."""
    client = Client(base, context)
    seen = []
    for _ in range(runs):
        time.sleep(random.random())
        number = random.randint(1, IDEAS)

        def supporters(n=number) -> int:
            return client.call("GET", f"/counts?ids={n}")[1]["counts"][str(n)][
                "supporters"
            ]

        before = supporters()  # now (or already) cached
        proof = solved(base, 1, context)[0]
        started = time.monotonic()
        status, answer = Client(base, context).call(
            "POST", f"/ideas/{number}/vote", {"altcha": proof}
        )
        assert status == 200, answer
        while supporters() <= before:
            time.sleep(0.005)
        seen.append(time.monotonic() - started)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--votes", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args()
    if not WRK:
        sys.exit("wrk is not installed: apt-get install wrk")
    counts_path = "/counts?ids=" + ",".join(str(n) for n in range(1, IDEAS + 1))
    reads: dict[str, list[dict]] = {"baseline": [], "production": []}
    writes: dict[str, list[dict]] = {"baseline": [], "production": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # The seeded database, made once, copied for each server.
        with running_ideas(tmp / "seed", **UNLIMITED) as seeder:
            seed(seeder.db, seeder.url, tmp / "content")
            # SQLite's backup API: a plain copy could miss what is in the WAL.
            seeded = backup.backup(seeder.db, tmp / "seeded")

        # 1. Baseline: Werkzeug's development server (invoke ideas-server).
        (tmp / "dev").mkdir()
        shutil.copy(seeded, tmp / "dev" / "ideas.db")
        port = free_port()
        env = environment(tmp / "dev", port, **UNLIMITED, IDEAS_ENV="development")
        dev = subprocess.Popen(
            [sys.executable, "-m", "invoke", "-r", str(ROOT), "ideas-server",
             "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base)
            for _ in range(args.runs):
                wrk(base + counts_path, 1, 16, None)
                reads["baseline"].append(
                    wrk(base + counts_path, args.duration, 16, None)
                )
                writes["baseline"].append(votes(base, solved(base, 300)))
        finally:
            stop(dev)

        # 2. Production: gunicorn behind nginx (HTTPS), the same database.
        prefix = tmp / "nginx"
        for sub in ("logs", "tmp", "root"):
            (prefix / sub).mkdir(parents=True)
        cert, key = make_cert(tmp)
        context = ssl.create_default_context(cafile=str(cert))
        (tmp / "prod").mkdir()
        shutil.copy(seeded, tmp / "prod" / "ideas.db")
        settings = {**UNLIMITED, "IDEAS_WORKERS": str(args.workers)}
        with running_ideas(tmp / "prod", **settings) as prod:
            local = Local(
                root=prefix / "root", https_port=free_port(), http_port=free_port(),
                cert=cert, key=key, logs=prefix / "logs", isso_port=free_port(),
                ideas_port=int(prod.url.rsplit(":", 1)[1]),
            )  # fmt: skip
            site_conf = prefix / "site.conf"
            site_conf.write_text(render_site(SAMPLE.read_text(), local, brotli=False))
            (prefix / "nginx.conf").write_text(
                render_main(
                    site_conf, prefix, brotli=False, workers=2, connections=4096
                )
            )
            nginx = subprocess.Popen(
                [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                 "-e", str(prefix / "error.log")],
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            front = f"https://127.0.0.1:{local.https_port}/idee-api"
            try:
                _wait(front, context)
                for _ in range(args.runs):
                    wrk(front + counts_path, 1, 16, None)
                    reads["production"].append(
                        wrk(front + counts_path, args.duration, 16, None)
                    )
                    writes["production"].append(
                        votes(front, solved(front, 300, context), context)
                    )
                seen = visibility(front, context)
                with sqlite3.connect(prod.db) as conn:
                    (before,) = conn.execute("SELECT COUNT(*) FROM votes").fetchone()
                burst = votes(front, solved(front, args.votes, context), context)
                with sqlite3.connect(prod.db) as conn:
                    (after,) = conn.execute("SELECT COUNT(*) FROM votes").fetchone()
            finally:
                stop(nginx)

    print(
        f"Machine: {os.cpu_count()} cores. Count reads: wrk, 2 threads, 16 "
        f"connections, {args.duration} s, {IDEAS} ideas a request. Votes: 300 a "
        f"run from fresh voters, 16 at a time, proof of work verified. "
        f"{args.runs} runs, medians.\nBaseline: Werkzeug's development server "
        f"(invoke ideas-server). Production: {args.workers} gunicorn workers "
        f"behind nginx (HTTPS, shared reads cached to the end of their second)."
    )
    print(
        f"{'':13}{'baseline /s':>12}{'p99 ms':>8}{'production /s':>15}"
        f"{'p99 ms':>8}{'ratio':>8}  target"
    )
    for name, runs, target in (
        ("count reads", reads, ">= 10,000/s, p99 < 20 ms"),
        ("votes", writes, "every one counted"),
    ):
        base_, prod_ = runs["baseline"], runs["production"]
        errors = sum(r["errors"] for r in base_ + prod_)
        print(
            f"{name:13}{median(base_, 'rps'):>12.0f}{median(base_, 'p99'):>8.2f}"
            f"{median(prod_, 'rps'):>15.0f}{median(prod_, 'p99'):>8.2f}"
            f"{median(prod_, 'rps') / median(base_, 'rps'):>7.1f}x  {target}"
            + (f"  ({errors} answers not 200)" if errors else "")
        )
    print(
        f"a vote visible to another reader (through the cache) after: median "
        f"{statistics.median(seen):.2f} s, max {max(seen):.2f} s "
        f"({len(seen)} tries; target < 2 s)"
    )
    print(
        f"{args.votes} concurrent votes: {args.votes - burst['errors']} answered "
        f"200 at {burst['rps']:.0f}/s (p99 {burst['p99']:.0f} ms), "
        f"{after - before} new rows in the database (target: all {args.votes})"
    )


def _wait(base: str, context=None) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if Client(base, context).call("GET", "/config")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{base} did not answer in 30 s")
        time.sleep(0.1)


if __name__ == "__main__":
    main()
