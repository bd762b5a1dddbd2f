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
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from synth import make_site  # noqa: E402

BARE_SETTINGS = """
AUTHOR = "Chiara Valsecchi"
SITENAME = "Bare"
SITEURL = "http://localhost:8000"
TIMEZONE = "Europe/Rome"
DEFAULT_LANG = "it"
PLUGINS = []
"""


def pelican(
    content: Path, output: Path, settings: Path, extra: dict | None = None
) -> float:
    args = [
        sys.executable,
        "-m",
        "pelican",
        str(content),
        "-s",
        str(settings),
        "-o",
        str(output),
        "-d",
        "--fatal",
        "warnings",
        "-q",
    ]
    if extra:
        args += ["-e", *(f"{k}={json.dumps(v)}" for k, v in extra.items())]
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def page_weight(output: Path, page: Path) -> tuple[int, int]:
    """Raw and gzipped bytes of an HTML page and the CSS/JS it loads."""
    doc = html.fromstring(page.read_bytes())
    assets = doc.xpath('//link[@rel="stylesheet"]/@href | //script/@src')
    blobs = [page.read_bytes()]
    for url in assets:
        rel = url.split("://", 1)[-1].split("/", 1)[-1]
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
        ours = statistics.median(ours_times)
        bare = statistics.median(bare_times)

        sample_times = [
            pelican(ROOT / "content", tmp_path / "sample", ROOT / "pelicanconf.py")
            for _ in range(args.runs)
        ]
        sample = statistics.median(sample_times)
        articles = sorted((tmp_path / "sample").glob("20*/*/index.html"))
        raw, zipped = (
            page_weight(tmp_path / "sample", articles[0]) if articles else (0, 0)
        )

    print(
        f"Build benchmark: {args.posts} posts ({files} Markdown files), "
        f"{args.runs} runs each, medians; {os.cpu_count()} cores"
    )
    print(f"{'':28}{'ours':>12}{'bare Pelican':>14}{'ratio':>8}{'target':>10}")
    ratio = ours / bare
    print(f"{'full build (s)':28}{ours:12.2f}{bare:14.2f}{ratio:8.2f}{'<= 1.15':>10}")
    print(
        f"{'per post (ms)':28}{ours / args.posts * 1000:12.2f}"
        f"{bare / args.posts * 1000:14.2f}"
    )
    print(f"{'sample site build (s)':28}{sample:12.2f}{'':14}{'':8}{'< 2':>10}")
    print(f"{'article page raw (KB)':28}{raw / 1024:12.1f}")
    print(
        f"{'article page gzip (KB)':28}{zipped / 1024:12.1f}{'':14}{'':8}{'< 30':>10}"
    )


if __name__ == "__main__":
    main()
