"""Build cost of the ideas board: 500 ideas and 50,000 votes.

Writes 500 idea files (about 40% with an English translation, every status),
puts the same ideas with their history and 50,000 votes into a database
(services/ideas/seed.insert), serves it with the real ideas service under
gunicorn on loopback (tests/ideas_server.py), and times, in the same run and
alternating, the sample site's build without the board and with it (the
board reading those files and that service's snapshot). The board's cost is
the difference; the target is under 5% of the sample site's build. With
``--posts N`` the same is measured on a synthetic site of N posts
(bench/synth.py, as bench_build.py uses). Medians of CPU seconds (steadier on
a shared machine) and of wall seconds.

    python bench/bench_board.py [--ideas 500] [--votes 50000] [--runs 3] [--posts 0]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from bench_build import pelican  # noqa: E402
from ideas_server import running_ideas  # noqa: E402
from synth import make_site  # noqa: E402

from services.ideas.db import Database, connect  # noqa: E402
from services.ideas.rules import CATEGORIES  # noqa: E402
from services.ideas.seed import SeedIdea, insert  # noqa: E402

STATUSES = ("proposed", "under-review", "planned", "in-progress", "done", "declined")
SETTINGS = ROOT / "pelicanconf.py"
WORDS = [
    "moto",
    "telaio",
    "sella",
    "manubrio",
    "portapacchi",
    "luce",
    "freno",
    "catena",
    "ruota",
    "raduno",
    "officina",
    "colore",
    "serbatoio",
    "scarico",
    "pedana",
    "borsa",
    "casco",
    "giacca",
]


def _plugins_without_board() -> list[str]:
    sys.path.insert(0, str(ROOT / "plugins"))
    import pelicanconf  # noqa: PLC0415 - the project's own settings

    return [p for p in pelicanconf.PLUGINS if p != "ideaboard"]


def make_ideas(folder: Path, count: int, votes: int) -> list[SeedIdea]:
    """Idea files in ``folder`` and the same ideas for the database, with
    ``votes`` supporters in all (a long tail: a few ideas get most)."""
    rng = random.Random(count)
    folder.mkdir(parents=True, exist_ok=True)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(count)]
    scale = votes / sum(weights)
    shares = [int(w * scale) for w in weights]
    shares[0] += votes - sum(shares)
    rng.shuffle(shares)
    start = time.time() - 400 * 86400
    ideas = []
    for number in range(1, count + 1):
        created = start + number * 60000
        status = STATUSES[number % len(STATUSES)]
        category = list(CATEGORIES)[number % len(CATEGORIES)]
        title = " ".join(rng.sample(WORDS, 4)).capitalize()
        body = "".join(
            f"<p>{' '.join(rng.choices(WORDS, k=40))}.</p>\n" for _ in range(3)
        )
        history = [("proposed", "", "", created)]
        if status != "proposed":
            history.append((status, "Risposta.", "Answer.", created + 86400))
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(created))
        decided = time.strftime("%Y-%m-%d %H:%M", time.localtime(created + 86400))
        for lang in ("it", "en") if number % 5 < 2 else ("it",):
            (folder / f"idea-{number:04d}.{lang}.md").write_text(
                f"Title: {title} {number} ({lang})\nDate: {stamp}\n"
                f"Category: {category}\nIdea-Id: {number}\nLang: {lang}\n"
                f"Slug: idea-{number:04d}-{lang}\nStatus: {status}\n"
                f"Status-Date: {decided}\nAnswer-It: Risposta.\nAnswer-En: Answer.\n"
                f"\n{body}",
                encoding="utf-8",
            )
        ideas.append(
            SeedIdea(
                id=number,
                title=title,
                description_html=body,
                category=category,
                lang="it",
                author="",
                status=status,
                created=created,
                history=tuple(history),
                supporters=shares[number - 1],
            )
        )
    return ideas


def _time(content: Path, output: Path, overrides: dict, runs: int) -> list:
    return [pelican(content, output, SETTINGS, overrides) for _ in range(runs)]


def measure(content: Path, tmp: Path, board: dict, runs: int) -> tuple:
    """(without, with) build times, each a list of (wall, cpu), alternating."""
    without = {
        "PLUGINS": _plugins_without_board(),
        "COMMUNITY_CACHE_DIR": str(tmp / "no-cache"),
    }
    with_board = {"COMMUNITY_CACHE_DIR": str(tmp / "no-cache"), **board}
    plain, boarded = [], []
    for _ in range(runs):
        plain += _time(content, tmp / "out-plain", without, 1)
        boarded += _time(content, tmp / "out-board", with_board, 1)
    return plain, boarded


def _row(label: str, plain: list, boarded: list) -> list[str]:
    rows = []
    for name, index in (("CPU", 1), ("wall", 0)):
        base = statistics.median(t[index] for t in plain)
        full = statistics.median(t[index] for t in boarded)
        ours = full - base
        rows.append(
            f"{label + ', ' + name + ' (s)':34}{ours:>10.2f}{base:>12.2f}"
            f"{ours / base:>9.1%}{'< 5%':>9}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=500)
    parser.add_argument("--votes", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--posts", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        ideas = make_ideas(tmp / "ideas", args.ideas, args.votes)
        service = tmp / "service"
        Database(service / "ideas.db").create()
        db = connect(service / "ideas.db")
        inserted = insert(db, ideas, now=time.time())
        db.close()
        rows = []
        with running_ideas(service) as server:
            board = {
                "IDEAS_API_URL": server.url,
                "IDEAS_CONTENT_DIR": str(tmp / "ideas"),
                "IDEAS_SNAPSHOT_CACHE": str(tmp / "snapshot.json"),
            }
            plain, boarded = measure(ROOT / "content", tmp, board, args.runs)
            rows += _row("sample site", plain, boarded)
            pages = len(list((tmp / "out-board").rglob("*.html")))
            pages -= len(list((tmp / "out-plain").rglob("*.html")))
            if args.posts:
                content = make_site(tmp / "synth", args.posts)
                plain, boarded = measure(content, tmp, board, args.runs)
                rows += _row(f"{args.posts}-post site", plain, boarded)
    print(
        f"Board build benchmark: {args.ideas} ideas, {inserted} votes, "
        f"{pages} board pages; {args.runs} runs each, alternating, medians; "
        f"{os.cpu_count()} cores"
    )
    print(f"{'':34}{'board':>10}{'site alone':>12}{'ratio':>9}{'target':>9}")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
