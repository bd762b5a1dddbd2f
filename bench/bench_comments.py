"""The comment server under load: Isso's built-in server against production.

In one run, on loopback, with wrk as the load tool (apt-get install wrk):

- a thread of 100 comments, read (``GET /?uri=``), counted (``POST /count``),
  and written to (``POST /new``), each for a few seconds with 16 connections;
- against Isso's built-in server (``isso run``, what `invoke comments` runs),
  and against the production setup: gunicorn (deploy/gunicorn.conf.py, with
  piazza/isso_wsgi.py) behind nginx (deploy/nginx.conf, HTTPS, its cache of
  reads to the end of the current second);
- then, on production: how long until a new comment is visible to another
  reader (through the cache), and 200 comments posted at once (counted in
  the database afterwards).

Isso's guard (rate limits per address) is off in this run's configuration:
every request comes from 127.0.0.1, and the guard would refuse all but a few
of the writes. nginx's configuration is the sample's, rendered for loopback.

Production runs with Piazza's guard in the path (piazza/isso_guard.py): the
blocklist (deploy/comments-blocklist.toml) judges every post and each post
must carry an unspent proof of work. The bench mints the proof cookies itself
with the server's key (the load tool cannot solve challenges at wrk's rate):
the server still checks, spends and records each one, as for a reader. What
the reader's proof costs the server (``POST /pow/verify``, ALTCHA's check)
plus the filter and the spending is measured apart, in-process: Isso's
handling of a post with the guard in front, against without, per post.

Each load runs ``--runs`` times, on the same seeded database (the built-in
server first, then production), and the table shows medians. wrk and nginx
run on the same cores as Isso: the figures are for this machine, whose cores
the output states.

    python bench/bench_comments.py [--duration 10] [--connections 16] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx
from isso import config as isso_config
from isso import make_app
from werkzeug.test import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from isso_server import (  # noqa: E402
    IssoServer,
    config,
    free_port,
    new_comment,
    running_isso,
    running_isso_gunicorn,
    solve,
)

from piazza import isso_guard, spamfilter  # noqa: E402
from piazza.nginxconf import (  # noqa: E402
    BROTLI_STATIC_MODULE,
    SAMPLE,
    Local,
    render_main,
    render_site,
)

THREAD = "/2026/bench-thread/"
WRITES = "/2026/bench-writes/"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk")


def seed(isso: IssoServer) -> None:
    """A thread of 100 comments (20 of them replies) and a thread for writes."""
    parents = []
    for n in range(100):
        fields = {"author": f"Lettore {n}", "website": f"https://lettore{n}.example/"}
        if n % 5 == 4:
            fields["parent"] = parents[-1]
        made = new_comment(
            isso.url,
            THREAD,
            f"Commento numero {n}: la **garanzia** a quattro anni è una buona "
            f"notizia, e [il portapacchi](https://ardesisti.example/) anche.",
            reader=f"198.51.100.{n % 250}",
            title="Filo di prova",
            **fields,
        )
        if "parent" not in fields:
            parents.append(made["id"])
    new_comment(isso.url, WRITES, "Il primo.", reader="198.51.100.1", title="Scritture")


def wrk(url: str, seconds: int, connections: int, lua: Path | None) -> dict:
    # A 30 s timeout: wrk's default (2 s) would drop the built-in server's
    # slow reads from the latency figures instead of counting them.
    command = [
        WRK, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
        "--latency",
    ]  # fmt: skip
    if lua:
        command += ["-s", str(lua)]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "rps": rps,
        "p50": percentile("50"),
        "p99": percentile("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "timeouts": int(
            re.search(r"timeout (\d+)", socket_errors.group(1)).group(1)
            if socket_errors
            else 0
        ),
    }


def lua_post(folder: Path, name: str, body: object) -> Path:
    path = folder / f"{name}.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    return path


LOADS = ("thread read", "counts", "new comment")
BENCH_KEY = "bench-only-altcha-key-0123456789"
PROOFS = isso_guard.Proofs(BENCH_KEY, isso_guard.DEFAULT_DIFFICULTY)


def minted_cookies(how_many: int) -> list[str]:
    """Cookie headers, each with a proof the server will accept once."""
    expires = int(time.time()) + isso_guard.CHALLENGE_LIFETIME
    return [
        f"{isso_guard.COOKIE}={PROOFS.cookie(os.urandom(16).hex(), expires)}"
        for _ in range(how_many)
    ]


def lua_post_with_proofs(folder: Path, name: str, body: object, proofs: int) -> Path:
    """A wrk script posting ``body``, each request with a proof of its own
    (wrk's threads take alternate ones)."""
    cookies = folder / f"{name}.cookies"
    cookies.write_text("\n".join(minted_cookies(proofs)) + "\n")
    path = folder / f"{name}.lua"
    path.write_text(
        f"local body = {json.dumps(json.dumps(body))}\n"
        "local threads = 0\n"
        "function setup(thread) thread:set('id', threads); threads = threads + 1 end\n"
        "local cookies = {}\n"
        f"for line in io.lines({json.dumps(str(cookies))}) do"
        " cookies[#cookies + 1] = line end\n"
        "local n = 0\n"
        "request = function()\n"
        "  local i = (n * 2 + id) % #cookies + 1\n"
        "  n = n + 1\n"
        "  return wrk.format('POST', nil, {['Content-Type'] = 'application/json',"
        " ['Cookie'] = cookies[i]}, body)\n"
        "end\n"
    )
    return path


def load(base: str, args, folder: Path, proofs: int = 0) -> dict[str, list[dict]]:
    """Each load ``args.runs`` times: {load: [wrk result, ...]}. ``proofs``:
    how many proofs of work each run of the writes gets (0: none needed)."""
    count_lua = lua_post(folder, "count", [THREAD, WRITES, "/2026/nessuno/"])
    comment = {"text": "Un commento scritto sotto carico.", "author": "wrk"}
    loads = {
        "thread read": (f"{base}/?uri={THREAD}", None),
        "counts": (f"{base}/count", count_lua),
        "new comment": (f"{base}/new?uri={WRITES}", lua_post(folder, "new", comment)),
    }
    results: dict[str, list[dict]] = {name: [] for name in loads}
    scripts = 0

    def script(name: str, lua: Path | None) -> Path | None:
        # Every wrk call of the writes gets proofs never used before.
        nonlocal scripts
        if name != "new comment" or not proofs:
            return lua
        scripts += 1
        return lua_post_with_proofs(folder, f"new{scripts}", comment, proofs)

    for _ in range(args.runs):
        for name, (url, lua) in loads.items():
            # Let the previous load drain (the built-in server may still be
            # busy with queued slow reads), then warm up, then measure.
            time.sleep(2)
            wrk(url, 1, args.connections, script(name, lua))
            results[name].append(
                wrk(url, args.duration, args.connections, script(name, lua))
            )
    return results


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def comments_in(db: Path, uri: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM comments JOIN threads ON comments.tid = threads.id"
            " WHERE threads.uri = ?",
            (uri,),
        ).fetchone()[0]


def visibility(
    base: str, context: ssl.SSLContext, uri: str, runs: int = 8
) -> list[float]:
    """Seconds from a new comment's POST to another reader seeing it.

    Each try starts with the thread in nginx's cache, at a random point of
    the second (nginx's cache counts whole seconds).
    """
    seen = []
    for _ in range(runs):
        time.sleep(random.random())
        before = get_total(base, uri, context)  # now (or already) cached
        started = time.monotonic()
        post(base, uri, context, "Lo vedete?", title="V")
        while get_total(base, uri, context) <= before:
            time.sleep(0.005)
        seen.append(time.monotonic() - started)
    return seen


def post(base, uri, context, text, **fields):
    request = urllib.request.Request(
        f"{base}/new?uri={uri}",
        data=json.dumps({"text": text, **fields}).encode(),
        headers={"Content-Type": "application/json", "Cookie": minted_cookies(1)[0]},
    )
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.loads(response.read())


def get_total(base, uri, context) -> int:
    with urllib.request.urlopen(
        f"{base}/?uri={uri}", context=context, timeout=10
    ) as response:
        return json.loads(response.read())["total_replies"]


async def concurrent_posts(
    base: str, how_many: int, cafile: Path, uri: str = "/2026/assalto/"
) -> tuple[int, float]:
    limits = httpx.Limits(max_connections=how_many)
    async with httpx.AsyncClient(
        verify=str(cafile), limits=limits, timeout=60
    ) as client:
        cookies = minted_cookies(how_many)

        async def one(n: int) -> int:
            response = await client.post(
                f"{base}/new?uri={uri}",
                json={"text": f"Commento simultaneo {n}.", "title": "Assalto"},
                headers={"Cookie": cookies[n]},
            )
            if response.status_code != 201:
                print(f"post {n}: HTTP {response.status_code}: {response.text[:300]}")
            return response.status_code

        started = time.monotonic()
        statuses = await asyncio.gather(*(one(n) for n in range(how_many)))
        return sum(1 for s in statuses if s == 201), time.monotonic() - started


def guard_cost(folder: Path, posts: int = 300, rounds: int = 3) -> dict:
    """What the guard costs per post, in µs, in this process (werkzeug's test
    client): the guard in front of an app that only answers 201 (so only the
    guard's work is timed: the body, the ban, the blocklist, the proof's
    cookie, the transaction that spends it), against that app alone; the
    reader's ``POST /pow/verify`` (ALTCHA's check, a real solution each);
    and, for scale, Isso's own handling of a post without the guard."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "isso.cfg"
    cfg.write_text(config(folder / "comments.db", 8080, "http://127.0.0.1:8000"))
    settings = isso_config.load(isso_config.default_file(), str(cfg))
    isso = make_app(settings, threading=True)  # creates Isso's tables
    environ = {"PIAZZA_PROOF_OF_WORK": "on", "PIAZZA_ALTCHA_HMAC_KEY": BENCH_KEY}

    def answered(environ, start_response):
        start_response("201 CREATED", [("Content-Type", "application/json")])
        return [b"{}"]

    guard = isso_guard.from_isso(answered, settings, environ)

    def post_all(app, cookies) -> float:
        client = Client(app, use_cookies=False)
        started = time.perf_counter()
        for n, cookie in enumerate(cookies):
            answer = client.post(
                f"/new?uri=/2026/costo-{n % 10}/",
                json={
                    "text": f"Commento {n}: https://ardesisti.example/",
                    "title": "C",
                },
                headers={"Cookie": cookie} if cookie else {},
            )
            assert answer.status_code == 201, answer.get_data(as_text=True)
        return (time.perf_counter() - started) / len(cookies) * 1e6

    alone, guarded, verify, isso_post = [], [], [], []
    client = Client(guard, use_cookies=False)
    for _ in range(rounds):
        payloads = [solve(client.get("/pow/challenge").json) for _ in range(posts)]
        started = time.perf_counter()
        cookies = []
        for payload in payloads:
            answer = client.post("/pow/verify", json={"payload": payload})
            cookies.append(answer.headers["Set-Cookie"].split(";")[0])
        verify.append((time.perf_counter() - started) / posts * 1e6)
        alone.append(post_all(answered, [None] * posts))
        guarded.append(post_all(guard, cookies))
        isso_post.append(post_all(isso, [None] * (posts // 3)))
    blocklist = spamfilter.parse_blocklist(
        isso_guard.DEFAULT_BLOCKLIST.read_text(encoding="utf-8")
    )
    text = "Un commento con [un link](https://ardesisti.example/) e www.altro.example. "
    started = time.perf_counter()
    for _ in range(10_000):
        spamfilter.judge(blocklist, text=text * 4, author="Ada", email="a@example.org")
    return {
        "posts": posts,
        "rounds": rounds,
        "alone": statistics.median(alone),
        "guarded": statistics.median(guarded),
        "verify": statistics.median(verify),
        "isso": statistics.median(isso_post),
        "filter": (time.perf_counter() - started) / 10_000 * 1e6,
    }


def make_cert(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--runs", type=int, default=3, help="runs of each load")
    parser.add_argument(
        "--proofs", type=int, default=10_000, help="proofs of work per run of writes"
    )
    args = parser.parse_args()
    if not WRK:
        sys.exit("wrk is not installed: apt-get install wrk")
    results: dict[str, dict[str, list[dict]]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        cost = guard_cost(tmp / "cost")
        https_port, isso_port = free_port(), free_port()
        site = f"https://127.0.0.1:{https_port}"

        # 1. Isso's built-in server, on a seeded database.
        with running_isso(tmp / "builtin", site) as builtin:
            seed(builtin)
            results["built-in server"] = load(builtin.url, args, tmp)
        seeded = tmp / "seeded.db"
        shutil.copy(tmp / "builtin" / "comments.db", seeded)

        # 2. Production: gunicorn behind nginx (HTTPS), the same database.
        (tmp / "prod").mkdir()
        shutil.copy(seeded, tmp / "prod" / "comments.db")
        prefix = tmp / "nginx"
        for sub in ("logs", "tmp", "root"):
            (prefix / sub).mkdir(parents=True)
        cert, key = make_cert(tmp)
        local = Local(
            root=prefix / "root",
            https_port=https_port,
            http_port=free_port(),
            cert=cert,
            key=key,
            logs=prefix / "logs",
            isso_port=isso_port,
        )
        brotli = BROTLI_STATIC_MODULE.exists()
        site_conf = prefix / "site.conf"
        site_conf.write_text(render_site(SAMPLE.read_text(), local, brotli=brotli))
        (prefix / "nginx.conf").write_text(
            render_main(site_conf, prefix, brotli=brotli, workers=2, connections=4096)
        )
        nginx = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
             "-e", str(prefix / "error.log")],
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        context = ssl.create_default_context(cafile=str(cert))
        base = f"{site}/comments"
        try:
            with running_isso_gunicorn(
                tmp / "prod",
                site,
                port=isso_port,
                workers=args.workers,
                env={"PIAZZA_PROOF_OF_WORK": "on", "PIAZZA_ALTCHA_HMAC_KEY": BENCH_KEY},
            ) as prod:
                for _ in range(100):
                    try:
                        get_total(base, THREAD, context)
                        break
                    except OSError:
                        time.sleep(0.1)
                results["gunicorn + nginx"] = load(base, args, tmp, proofs=args.proofs)
                seen = {
                    "a new thread": visibility(base, context, "/2026/visibile/"),
                    "the 100-comment thread": visibility(base, context, THREAD),
                }
                post(base, "/2026/assalto/", context, "Il primo.", title="Assalto")
                before = comments_in(prod.db, "/2026/assalto/")
                landed, took = asyncio.run(concurrent_posts(base, 200, cert))
                in_db = comments_in(prod.db, "/2026/assalto/") - before
                # The same on a thread that doesn't exist yet: every request
                # races to create it.
                fresh, _ = asyncio.run(
                    concurrent_posts(base, 50, cert, uri="/2026/nuovo-filo/")
                )
                fresh_db = comments_in(prod.db, "/2026/nuovo-filo/")
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)

    print(
        f"Machine: {os.cpu_count()} cores; wrk: 2 threads, {args.connections} "
        f"connections, {args.duration} s a load, {args.runs} runs, medians.\n"
        f"A thread of 100 comments. Baseline: Isso's built-in server (isso run). "
        f"Production: {args.workers} gunicorn workers behind nginx (HTTPS, reads "
        f"cached to the end of their second; Piazza's guard in front: the "
        f"blocklist and a proof of work on every post). Isso's guard is off in "
        f"both (every request comes from 127.0.0.1)."
    )
    header = (
        f"{'':13}{'built-in req/s':>15}{'p50':>8}{'p99 ms':>8}"
        f"{'production req/s':>18}{'p50':>8}{'p99 ms':>8}{'ratio':>8}  target"
    )
    print(header)
    targets = {"thread read": ">= 10,000/s, p99 < 20 ms"}
    for name in LOADS:
        base, prod_ = (
            results["built-in server"][name],
            results["gunicorn + nginx"][name],
        )
        errors = sum(r["errors"] for r in base + prod_)
        timeouts = sum(r["timeouts"] for r in base + prod_)
        print(
            f"{name:13}{median(base, 'rps'):>15.0f}{median(base, 'p50'):>8.2f}"
            f"{median(base, 'p99'):>8.2f}{median(prod_, 'rps'):>18.0f}"
            f"{median(prod_, 'p50'):>8.2f}{median(prod_, 'p99'):>8.2f}"
            + (
                f"{median(prod_, 'rps') / median(base, 'rps'):>7.0f}x  "
                if median(base, "rps")
                else f"{'n/a':>8}  "  # the built-in server finished no request
            )
            + f"{targets.get(name, '')}"
            + (f"  ({errors} non-2xx answers)" if errors else "")
            + (f"  ({timeouts} timed out)" if timeouts else "")
        )
    for where, times in seen.items():
        print(
            f"new comment on {where} visible to another reader (through the "
            f"cache) after: median {statistics.median(times):.2f} s, max "
            f"{max(times):.2f} s ({len(times)} tries; target < 2 s)"
        )
    print(
        f"200 concurrent posts: {landed} answered 201 in {took:.2f} s, "
        f"{in_db} rows in the database (target: all 200)"
    )
    print(
        f"50 concurrent first comments on a new thread: {fresh} answered 201, "
        f"{fresh_db} rows in the database"
    )
    added = cost["guarded"] - cost["alone"]
    print(
        f"guard per post, in-process ({cost['posts']} posts x {cost['rounds']} "
        f"rounds, medians): without {cost['alone']:.0f} µs, with the guard "
        f"{cost['guarded']:.0f} µs: +{added:.0f} µs a post (the blocklist alone "
        f"{cost['filter']:.1f} µs); the reader's POST /pow/verify {cost['verify']:.0f} "
        f"µs; verify + post together +{added + cost['verify']:.0f} µs, against "
        f"{cost['isso']:.0f} µs for Isso's own handling of a post "
        f"({(added + cost['verify']) / cost['isso']:.1%})"
    )
    read = results["gunicorn + nginx"]["thread read"]
    verdict = median(read, "rps") >= 10_000 and median(read, "p99") < 20
    runs = ", ".join(f"{r['rps']:.0f}/s p99 {r['p99']:.1f} ms" for r in read)
    print(
        f"production thread reads: {median(read, 'rps'):.0f}/s, p99 "
        f"{median(read, 'p99'):.2f} ms: target {'met' if verdict else 'MISSED'} "
        f"(runs: {runs})"
    )


if __name__ == "__main__":
    main()
