"""Social cards: what drawing them costs, cold and warm.

In the same run:

- drawing alone (plugins/socialcards/draw.py, in this process): ms per card,
  branded (no cover) and over a cover (tests/fixtures/socialcards/lake.jpg),
  distinct titles so nothing is reused;
- a synthetic bilingual site of N posts (bench/synth.py) built with our
  settings, alternating: without the plugin (the baseline), with it and an
  empty card cache (cold: every card drawn), and with it again (warm: every
  card reused from the cache). Medians of wall time; the warm build's ratio to
  the baseline is what an editor pays on every build.

    python bench/bench_socialcards.py [--posts 300] [--runs 3] [--cards 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT), str(ROOT / "plugins")]

from bench_build import pelican  # noqa: E402
from pelican.settings import read_settings  # noqa: E402
from synth import make_site  # noqa: E402

from socialcards.draw import draw, open_cover  # noqa: E402
from socialcards.model import Card  # noqa: E402
from socialcards.settings import SocialCardsSettings  # noqa: E402

LAKE = ROOT / "tests" / "fixtures" / "socialcards" / "lake.jpg"


def draw_times(cards: int) -> tuple[float, float, int, int]:
    """Median ms per card, branded and over a cover, and their median bytes."""
    style = SocialCardsSettings.from_pelican(
        {"THEME": str(ROOT / "theme"), "SITENAME": "Officine Ardesia"}
    ).style
    branded, covered, branded_bytes, covered_bytes = [], [], [], []
    for i in range(cards):
        title = f"Giornata {i} in fabbrica: la Sebino 800 e i suoi dieci anni"
        card = Card(title, "Officine Ardesia", "it", None, "bench")
        started = time.perf_counter()
        result = draw(card, style)
        branded.append(time.perf_counter() - started)
        branded_bytes.append(len(result.data))
        started = time.perf_counter()
        result = draw(card, style, open_cover(LAKE, "bench"))  # opening included
        covered.append(time.perf_counter() - started)
        covered_bytes.append(len(result.data))
    return (
        statistics.median(branded) * 1000,
        statistics.median(covered) * 1000,
        int(statistics.median(branded_bytes)),
        int(statistics.median(covered_bytes)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cards", type=int, default=40)
    args = parser.parse_args()

    branded_ms, covered_ms, branded_kb, covered_kb = draw_times(args.cards)
    plugins = read_settings(str(ROOT / "pelicanconf.py"))["PLUGINS"]
    without = [p for p in plugins if p != "socialcards"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        content = make_site(tmp_path / "content", args.posts)
        files = len(list(content.rglob("*.md")))
        settings = ROOT / "pelicanconf.py"
        cache = tmp_path / "cards"
        extra = {"SOCIAL_CARDS_CACHE_DIR": str(cache), "COMMUNITY_CACHE_DIR": tmp}
        baseline, cold, warm = [], [], []
        for _ in range(args.runs):  # alternate, so drift hits all alike
            baseline.append(
                pelican(
                    content, tmp_path / "o", settings, {**extra, "PLUGINS": without}
                )
            )
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(pelican(content, tmp_path / "o", settings, extra))
            warm.append(pelican(content, tmp_path / "o", settings, extra))
        cards = len(list(cache.iterdir()))

    base = statistics.median(t for t, _ in baseline)
    cold_s = statistics.median(t for t, _ in cold)
    warm_s = statistics.median(t for t, _ in warm)
    print(
        f"Social cards benchmark: {args.cards} cards drawn alone; a site of "
        f"{args.posts} posts ({files} files, {cards} cards), {args.runs} runs, "
        f"alternating, medians; {os.cpu_count()} cores"
    )
    print(f"{'':34}{'ours':>10}{'baseline':>10}{'ratio':>8}{'target':>10}")
    rows = [
        ("draw one card, branded (ms)", f"{branded_ms:.0f}", "", "", "< 150"),
        ("draw one card, over a cover (ms)", f"{covered_ms:.0f}", "", "", "< 250"),
        ("card size, branded PNG (KB)", f"{branded_kb / 1024:.1f}", "", "", "< 40"),
        ("card size, cover JPEG (KB)", f"{covered_kb / 1024:.1f}", "", "", "< 150"),
        (
            "site build, cold cache (s)",
            f"{cold_s:.2f}",
            f"{base:.2f}",
            f"{cold_s / base:.2f}",
            "",
        ),
        (
            "site build, warm cache (s)",
            f"{warm_s:.2f}",
            f"{base:.2f}",
            f"{warm_s / base:.2f}",
            "<= 1.05",
        ),
        (
            "per card, cold minus baseline (ms)",
            f"{(cold_s - base) / max(cards, 1) * 1000:.0f}",
            "",
            "",
            "",
        ),
    ]
    for label, *cells in rows:
        print(f"{label:34}{cells[0]:>10}{cells[1]:>10}{cells[2]:>8}{cells[3]:>10}")


if __name__ == "__main__":
    main()
