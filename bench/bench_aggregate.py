"""Fetching community feeds: our aggregate step against a sequential loop.

Serves N feeds of 20 entries each from a loopback HTTP server (in its own
process) that adds a fixed latency to every response, then measures, in the
same run:

- the baseline: ``feedparser.parse(url)`` over every feed, one after the other
  (what pelican-planet does on every build);
- a cold ``invoke aggregate`` (empty cache): fetch, parse, sanitise, store;
- a warm one (every feed answers 304 Not Modified);

each in a fresh child process, reporting wall time and peak RSS (the child
and the parser processes it starts).

A real planet's feeds live on many hosts; here they are spread over a number of
loopback ports (each its own origin for the client, 8 feeds each by default),
and the aggregate step runs with its default settings (32 at once, 6 per host).

    python bench/bench_aggregate.py [--feeds 200] [--latency 0.05] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]


def feed_body(number: int, entries: int = 20) -> bytes:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    items = []
    for i in range(entries):
        when = format_datetime(now - timedelta(hours=number + 7 * i))
        items.append(
            f"<item><title>Feed {number}, post {i}: a ride around the lake</title>"
            f"<link>https://feed{number}.example/posts/{i}</link>"
            f"<guid>https://feed{number}.example/posts/{i}</guid>"
            f"<pubDate>{when}</pubDate><category>uscite</category>"
            "<description><![CDATA[<p>Eighteen bikes left Lovere at eight; "
            "<strong>fourteen</strong> reached Iseo. The road to Zorzino was wet "
            '<a href="/route">but clean</a>.</p><p>Polenta in Riva.</p>'
            '<img src="/pics/lake.jpg" alt="the lake">]]></description></item>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {number}</title><link>https://feed{number}.example/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def serve(port_out, feeds: int, latency: float, hosts: int) -> None:
    """Small asyncio HTTP/1.1 servers (keep-alive, ETag/304), one port per
    "host": light enough that the client, not the server, is measured."""
    bodies = {f"/feed/{n}.xml": feed_body(n) for n in range(feeds)}
    tags = {p: '"' + hashlib.sha1(b).hexdigest()[:12] + '"' for p, b in bodies.items()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                await asyncio.sleep(latency)
                body, tag = bodies.get(path), tags.get(path)
                if body is None:
                    status, body, extra = "404 Not Found", b"", ""
                elif headers.get("if-none-match") == tag:
                    status, body, extra = "304 Not Modified", b"", f"ETag: {tag}\r\n"
                else:
                    status = "200 OK"
                    extra = f"ETag: {tag}\r\nContent-Type: application/rss+xml\r\n"
                writer.write(
                    f"HTTP/1.1 {status}\r\n{extra}"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [
            await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
            for _ in range(hosts)
        ]
        port_out.send([server.sockets[0].getsockname()[1] for server in servers])
        await asyncio.gather(*(server.serve_forever() for server in servers))

    asyncio.run(main())


# --- What each child process measures ------------------------------------------


def feed_url(bases: list[str], n: int) -> str:
    return f"{bases[n % len(bases)]}/feed/{n}.xml"


def child_baseline(bases: list[str], feeds: int) -> None:
    # Imported here: each child pays for its own imports, inside the timing.
    import feedparser  # noqa: PLC0415

    for n in range(feeds):
        parsed = feedparser.parse(feed_url(bases, n))
        assert len(parsed.entries) == 20, (n, parsed.get("bozo_exception"))


def child_aggregate(bases: list[str], feeds: int, cache: str) -> None:
    from community.aggregate import run_aggregate  # noqa: PLC0415
    from community.settings import CommunitySettings  # noqa: PLC0415
    from community.subscriptions import parse_subscriptions  # noqa: PLC0415

    toml = "".join(
        f'[[feeds]]\nname = "Feed {n}"\nurl = "{feed_url(bases, n)}"\n\n'
        for n in range(feeds)
    )
    subscriptions = parse_subscriptions(toml, "bench.toml")
    settings = CommunitySettings.from_pelican(
        {
            "PATH": cache,
            "COMMUNITY_CACHE_DIR": cache,
            "COMMUNITY_SNAPSHOT_DIR": cache + "/no-snapshot",
            "SITENAME": "Bench",
        }
    )
    report = run_aggregate(subscriptions, settings)
    bad = [f for f in report.feeds if not f.status.ok]
    assert not bad, bad[:3]


def invoke_cold(bases: list[str], feeds: int) -> float:
    """The editor's command, whole: `invoke aggregate` on a fresh cache."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "content" / "community").mkdir(parents=True)
        (tmp / "content" / "community" / "feeds.toml").write_text(
            "".join(
                f'[[feeds]]\nname = "Feed {n}"\nurl = "{feed_url(bases, n)}"\n\n'
                for n in range(feeds)
            )
        )
        (tmp / "conf.py").write_text(
            'PATH = "content"\nSITENAME = "Bench"\nCOMMUNITY_CACHE_DIR = "cache"\n'
        )
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "invoke", "-r", str(ROOT), "aggregate",
             "--settings", str(tmp / "conf.py")],
            check=True, capture_output=True, cwd=ROOT, env=ENV,
        )  # fmt: skip
        return time.perf_counter() - started


def child(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    bases = args.base.split(",")
    if args.child == "baseline":
        child_baseline(bases, args.feeds)
    else:
        child_aggregate(bases, args.feeds, args.cache)
    wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_cpu = own.ru_utime + own.ru_stime
    cpu = own_cpu + children.ru_utime + children.ru_stime
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,  # the process and its parser processes
                "own_cpu": own_cpu,  # fetching (and, with no workers, parsing)
                "rss_mb": own.ru_maxrss / 1024,
                "child_rss_mb": children.ru_maxrss / 1024,
            }
        )
    )


# Every child runs with its modules' bytecode compiled once, as on any
# installed site (pip compiles site-packages; the project's own modules are
# compiled on first import). A machine that sets PYTHONDONTWRITEBYTECODE would
# otherwise make each child recompile the project, not feedparser: a cost the
# baseline never pays, and a real deployment neither.
ENV: dict[str, str] = {}


def compile_once(bytecode: str) -> None:
    ENV.update(os.environ, PYTHONPYCACHEPREFIX=bytecode)
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    imports = (
        "import sys; sys.path[:0] = sys.argv[1:]; "
        "import tasks, piazza.community, community.aggregate"
    )
    subprocess.run(
        [sys.executable, "-c", imports, str(ROOT), str(ROOT / "plugins")],
        check=True, env=ENV, cwd=ROOT,
    )  # fmt: skip


def measure(kind: str, base: str, feeds: int, cache: str = "") -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--base",
            base,
            "--feeds",
            str(feeds),
            "--cache",
            cache,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=25, help="feeds spread on N ports")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(
        target=serve, args=(send, args.feeds, args.latency, args.hosts), daemon=True
    )
    server.start()
    base = ",".join(f"http://127.0.0.1:{port}" for port in receive.recv())
    print(
        f"{args.feeds} feeds x 20 entries on {args.hosts} loopback ports (hosts), "
        f"{args.latency * 1000:.0f} ms latency, "
        f"{args.runs} runs, medians; bytecode compiled once (for both); "
        f"{os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the start"
    )
    bytecode = tempfile.mkdtemp(prefix="bench-aggregate-pyc-")
    compile_once(bytecode)
    results: dict[str, list[dict]] = {"baseline": [], "cold": [], "warm": []}
    invoked = []
    try:
        for _ in range(args.runs):
            results["baseline"].append(measure("baseline", base, args.feeds))
            with tempfile.TemporaryDirectory() as cache:
                results["cold"].append(measure("aggregate", base, args.feeds, cache))
                results["warm"].append(measure("aggregate", base, args.feeds, cache))
            invoked.append(invoke_cold(base.split(","), args.feeds))
    finally:
        server.terminate()
        shutil.rmtree(bytecode, ignore_errors=True)

    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in results[kind])

    base_wall, cold, warm = (median(k, "wall") for k in ("baseline", "cold", "warm"))
    print(f"{'':28}{'wall':>10}{'CPU':>10}{'peak RSS':>12}")
    for label, kind in (
        ("baseline (sequential)", "baseline"),
        ("aggregate, cold", "cold"),
        ("aggregate, warm (304)", "warm"),
    ):
        print(
            f"{label:28}{median(kind, 'wall'):>9.2f}s{median(kind, 'cpu'):>9.2f}s"
            f"{median(kind, 'rss_mb'):>10.0f} MB"
        )
    whole = statistics.median(invoked)
    print(
        f"{'invoke aggregate, cold':28}{whole:>9.2f}s  (the whole command: invoke, "
        f"the settings file, progress bar and table: {base_wall / whole:.1f}x)"
    )
    peak = max(r["rss_mb"] for kind in ("cold", "warm") for r in results[kind])
    parser_rss = max(
        r["child_rss_mb"] for kind in ("cold", "warm") for r in results[kind]
    )
    print(
        f"cold: ours {cold:.2f} s, baseline {base_wall:.2f} s, speed-up "
        f"{base_wall / cold:.1f}x (target >= 10x); load average now "
        f"{os.getloadavg()[0]:.1f} (other work on the machine slows the CPU-bound "
        "parsing, ours in parallel, more than the baseline's waiting)"
    )
    print(
        f"cold CPU: {median('cold', 'cpu'):.2f} s, of which the main process "
        f"(starting, fetching) {median('cold', 'own_cpu'):.2f} s and the parser "
        f"processes the rest, on {os.cpu_count()} cores"
    )
    print(f"warm: {warm:.2f} s (target < 1 s)")
    print(
        f"peak RSS of aggregate: {peak:.0f} MB (target < 150 MB); its largest "
        f"parser process: {parser_rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
