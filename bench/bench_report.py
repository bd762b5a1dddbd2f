"""The leader's report at scale: 10,000 comments, 2,000 community entries,
500 ideas (targets: under 10 s and under 300 MB).

The comment database is Isso's own (made by a real Isso, then filled in
bulk with SQL in Isso's schema, a staff proof row for each staff reply); the
community cache is written by the real cache code; the ideas snapshot is
served on loopback. Each run is a fresh process (its peak memory is its
own): the whole report (read, analyse, render) against the baseline, the
same report without keyphrase extraction (themes), so the ratio is what
YAKE and simplemma cost. Medians of ``--runs``.

    python bench/bench_report.py [--comments 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "plugins")]

from community_cache import write_cache  # noqa: E402
from conftest import serving  # noqa: E402
from isso_server import new_comment, running_isso  # noqa: E402

from piazza import commentstore  # noqa: E402
from piazza.report.model import Period  # noqa: E402
from piazza.report.render import render_html  # noqa: E402
from piazza.report.run import Sources, build_report  # noqa: E402

TARGET_SECONDS = 10.0
TARGET_MB = 300.0
END = datetime(2026, 3, 29, tzinfo=UTC)
ASKS = {
    "it": ["Potreste fare un {x} più {y}?", "Vorrei un {x} {y} per la Sebino.",
           "Quando arriva il {x} {y}?", "Per favore, un {x} {y}!"],
    "en": ["Could you make a {y} {x}?", "Please add a {y} {x}.",
           "When will the {y} {x} ship?", "I would like a {y} {x}."],
}  # fmt: skip
SAYS = {
    "it": ["Bellissima giornata al raduno sul {x}.", "Complimenti per il {x}, è {y}."],
    "en": ["Great day at the {x} meeting.", "Congratulations on the {x}, it is {y}."],
}
WORDS = {
    "it": (["portapacchi", "sella", "freno", "parabrezza", "cavalletto", "serbatoio",
            "manubrio", "faro", "motore", "telaio", "bauletto", "scarico"],
           ["robusto", "comodo", "leggero", "nero", "basso", "alto", "silenzioso"]),
    "en": (["luggage rack", "seat", "brake", "windscreen", "stand", "tank",
            "handlebar", "headlight", "engine", "frame", "top case", "exhaust"],
           ["sturdy", "comfortable", "light", "black", "low", "tall", "quiet"]),
}  # fmt: skip


def _text(rng: random.Random, lang: str, asking: bool) -> str:
    nouns, adjectives = WORDS[lang]
    pattern = rng.choice((ASKS if asking else SAYS)[lang])
    return pattern.format(x=rng.choice(nouns), y=rng.choice(adjectives))


def make_comments(folder: Path, count: int) -> Path:
    with running_isso(folder / "isso") as isso:
        new_comment(isso.url, "/2026/01/seed/", "Seed.", author="Seed")
        db = isso.db
    rng = random.Random(11)
    threads = [(f"/2026/{n:03d}/post/" if n % 3 else f"/en/2026/{n:03d}/post/")
               for n in range(200)]  # fmt: skip
    with commentstore.connect(db) as connection:
        commentstore.ensure_schema(connection)
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)",
            [(n + 10, uri, f"Post {n}") for n, uri in enumerate(threads)],
        )
        rows, staff, last_top = [], [], {}
        for n in range(count):
            tid = rng.randrange(len(threads))
            lang = "en" if threads[tid].startswith("/en/") else "it"
            created = (END - timedelta(days=rng.uniform(0, 365))).timestamp()
            cid = n + 100
            is_staff = rng.random() < 0.15 and tid in last_top
            parent = last_top.get(tid) if (is_staff or rng.random() < 0.3) else None
            text = _text(rng, lang, rng.random() < 0.5 and not is_staff)
            rows.append((tid + 10, cid, parent, created, text,
                         "Chiara Valsecchi" if is_staff else f"Reader {n % 3000}",
                         None if n % 2 else f"reader{n % 3000}@example.org",
                         f"198.51.{n % 250}.0"))  # fmt: skip
            if is_staff:
                staff.append((cid, "chiara", created))
            elif parent is None:
                last_top[tid] = cid
        connection.executemany(
            "INSERT INTO comments (tid, id, parent, created, modified, mode,"
            " remote_addr, text, author, email, website, likes, dislikes, voters,"
            " notification) VALUES (?, ?, ?, ?, NULL, 1, ?, ?, ?, ?, NULL, 0, 0,"
            " x'', 0)",
            [(t, i, p, c, a, x, au, e) for t, i, p, c, x, au, e, a in rows],
        )
        connection.executemany(
            "INSERT INTO piazza_staff_comments (comment_id, staff, created)"
            " VALUES (?, ?, ?)",
            staff,
        )
        connection.execute("COMMIT")
    return db


def make_community(root: Path, count: int) -> None:
    rng = random.Random(12)
    per_source = count // 50
    posts = {
        f"source-{s:02d}": [END - timedelta(days=rng.uniform(0, 365))
                            for _ in range(per_source)]
        for s in range(50)
    }  # fmt: skip
    write_cache(root, posts, END)


def make_snapshot(count: int) -> bytes:
    rng = random.Random(13)
    statuses = ["proposed", "under-review", "planned", "in-progress", "done",
                "declined"]  # fmt: skip
    ideas = []
    for n in range(1, count + 1):
        published = END - timedelta(days=rng.uniform(1, 400))
        status = rng.choice(statuses)
        history = []
        if status != "proposed":
            history.append({
                "status": status,
                "date": (published + timedelta(days=rng.uniform(0, 60))).isoformat(),
                "answer": {"it": "Risposta.", "en": "Answer."} if rng.random() < 0.7
                else {},
            })  # fmt: skip
        ideas.append({
            "id": n, "title": f"Idea {n}", "description_html": "<p>Testo.</p>",
            "category": "accessori", "lang": rng.choice(["it", "en"]),
            "author": f"Reader {n}", "status": status, "duplicate_of": None,
            "created": published.isoformat(), "published": published.isoformat(),
            "counts": {"supporters": rng.randrange(200), "confirmed": 0},
            "recent": rng.randrange(20), "history": history,
        })  # fmt: skip
    return json.dumps({"generated": END.isoformat(), "ideas": ideas}).encode()


def child(args: argparse.Namespace) -> None:
    """One run in this fresh process: print seconds and peak MB as JSON."""
    folder = Path(args.folder)
    sources = Sources(
        isso_db=folder / "isso" / "comments.db",
        community_dir=folder / "community",
        ideas_url=args.ideas,
        ideas_cache=folder / f"snapshot-{os.getpid()}.json",
        glossary=ROOT / "content" / "glossary.toml",
        site_url="https://www.officineardesia.example",
    )
    started = time.perf_counter()
    report = build_report(
        sources, Period(END - timedelta(days=28), END), keyphrases=args.mode == "full"
    )
    render_html(report, "it")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    themes = sum(len(t) for t in report.themes.values())
    found = {"seconds": seconds, "peak_mb": peak, "themes": themes,
             "comments": report.comments, "lacks": len(report.lacks)}  # fmt: skip
    print(json.dumps(found))


def run(folder: Path, ideas: str, mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--folder", str(folder),
         "--ideas", ideas],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=2_000)
    parser.add_argument("--ideas-count", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("full", "baseline"))
    parser.add_argument("--folder")
    parser.add_argument("--ideas")
    args = parser.parse_args()
    if args.child:
        args.mode = args.child
        child(args)
        return
    snapshot = make_snapshot(args.ideas_count)

    class Snapshot(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(snapshot)))
            self.end_headers()
            self.wfile.write(snapshot)

        def log_message(self, format, *args):
            pass

    with tempfile.TemporaryDirectory() as tmp, serving(Snapshot) as url:
        folder = Path(tmp)
        make_comments(folder, args.comments)
        make_community(folder / "community", args.entries)
        results = {mode: [run(folder, url, mode) for _ in range(args.runs)]
                   for mode in ("full", "baseline")}  # fmt: skip
    full, base = results["full"], results["baseline"]
    seconds = statistics.median(r["seconds"] for r in full)
    base_seconds = statistics.median(r["seconds"] for r in base)
    peak = statistics.median(r["peak_mb"] for r in full)
    base_peak = statistics.median(r["peak_mb"] for r in base)
    print(f"bench_report: {args.comments} comments, {args.entries} community entries, "
          f"{args.ideas_count} ideas; {os.cpu_count()} cores; median of {args.runs} "
          f"fresh processes; {full[0]['themes']} themes found")  # fmt: skip
    print(f"{'':28}{'ours':>10}{'baseline':>10}{'ratio':>8}{'target':>10}")
    print(f"{'time (s)':28}{seconds:>10.2f}{base_seconds:>10.2f}"
          f"{seconds / base_seconds:>8.2f}{TARGET_SECONDS:>10.0f}")  # fmt: skip
    print(f"{'peak memory (MB)':28}{peak:>10.0f}{base_peak:>10.0f}"
          f"{peak / base_peak:>8.2f}{TARGET_MB:>10.0f}")  # fmt: skip
    print("baseline: the same report without keyphrase extraction (no themes)")
    ok = seconds < TARGET_SECONDS and peak < TARGET_MB
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
