"""Build time of our site against bare Pelican, and the weight of an article.

Generates a synthetic bilingual site of N posts (bench/synth.py), then times,
in the same run and alternating, our full build (theme and plugins, the
settings of pelicanconf.py) and bare Pelican (same content, default theme, no
plugins). Prints medians in ms per post, the ratio and the targets; then the
sample site's build time and the weight of one of its article pages.

    python bench/bench_build.py [--posts 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import html

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

from synth import make_site  # noqa: E402

from piazza.pelican_run import pelican_args  # noqa: E402

BARE_SETTINGS = """
AUTHOR = "Chiara Valsecchi"
SITENAME = "Bare"
SITEURL = "http://localhost:8000"
TIMEZONE = "Europe/Rome"
DEFAULT_LANG = "it"
PLUGINS = []
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pelican(
    content: Path, output: Path, settings: Path, extra: dict | None = None
) -> tuple[float, float]:
    """Build once in a subprocess; return (wall seconds, CPU seconds)."""
    args = [
        *pelican_args(output, settings=settings, content=content, overrides=extra),
        "-d",
        "-q",
    ]
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started, _children_cpu() - cpu


def page_weight(output: Path, page: Path) -> tuple[int, int]:
    """Raw and gzipped bytes of an HTML page and the CSS/JS it loads."""
    doc = html.fromstring(page.read_bytes())
    assets = doc.xpath('//link[@rel="stylesheet"]/@href | //script/@src')
    blobs = [page.read_bytes()]
    for url in assets:
        rel = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        blobs.append((output / rel).read_bytes())
    raw = sum(len(b) for b in blobs)
    zipped = sum(len(gzip.compress(b, 9)) for b in blobs)
    return raw, zipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        content = make_site(tmp_path / "content", args.posts)
        files = len(list(content.rglob("*.md")))
        bare_settings = tmp_path / "bare.py"
        bare_settings.write_text(BARE_SETTINGS)
        ours_times, bare_times = [], []
        for _ in range(args.runs):  # alternate, so drift hits both alike
            bare_times.append(pelican(content, tmp_path / "bare", bare_settings))
            ours_times.append(
                pelican(content, tmp_path / "ours", ROOT / "pelicanconf.py")
            )
        ours = statistics.median(t for t, _ in ours_times)
        bare = statistics.median(t for t, _ in bare_times)
        ours_cpu = statistics.median(c for _, c in ours_times)
        bare_cpu = statistics.median(c for _, c in bare_times)

        sample_times = [
            pelican(ROOT / "content", tmp_path / "sample", ROOT / "pelicanconf.py")
            for _ in range(args.runs)
        ]
        sample = statistics.median(t for t, _ in sample_times)
        articles = sorted((tmp_path / "sample").glob("20*/*/index.html"))
        raw, zipped = (
            page_weight(tmp_path / "sample", articles[0]) if articles else (0, 0)
        )

    n = args.posts
    rows = [
        (
            "full build, wall (s)",
            f"{ours:.2f}",
            f"{bare:.2f}",
            f"{ours / bare:.2f}",
            "<= 1.15",
        ),
        (
            "full build, CPU (s)",
            f"{ours_cpu:.2f}",
            f"{bare_cpu:.2f}",
            f"{ours_cpu / bare_cpu:.2f}",
            "<= 1.15",
        ),
        (
            "per post, wall (ms)",
            f"{ours / n * 1000:.2f}",
            f"{bare / n * 1000:.2f}",
            "",
            "",
        ),
        ("sample site build (s)", f"{sample:.2f}", "", "", "< 2"),
        ("article page raw (KB)", f"{raw / 1024:.1f}", "", "", ""),
        ("article page gzip (KB)", f"{zipped / 1024:.1f}", "", "", "< 30"),
    ]
    print(
        f"Build benchmark: {n} posts ({files} Markdown files), {args.runs} runs "
        f"each, alternating, medians; {os.cpu_count()} cores"
    )
    print(f"{'':26}{'ours':>10}{'bare Pelican':>14}{'ratio':>8}{'target':>10}")
    for label, *cells in rows:
        print(f"{label:26}{cells[0]:>10}{cells[1]:>14}{cells[2]:>8}{cells[3]:>10}")


if __name__ == "__main__":
    main()
