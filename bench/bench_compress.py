"""Pre-compression of a published site: which brotli quality, and what the
cache spares (plugins/compressed).

Builds a synthetic bilingual site of N posts (bench/synth.py) once with the
development settings, then on its text files:

1. each brotli quality and gzip level: bytes against time (a sample of the
   pages, the same for every level), to choose COMPRESSED_BROTLI_QUALITY;
2. compress_output on the whole output, cold (an empty cache) and warm (the
   cache of a build where one post differs), at the chosen quality, against
   the baseline of what publishing did before: every file at brotli 11, every
   time.

    python bench/bench_compress.py [--posts 2000] [--sample 600]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "plugins"))

from compressed import codecs, settings  # noqa: E402
from compressed.store import compress_output, text_files  # noqa: E402
from synth import make_site  # noqa: E402

from piazza.pelican_run import run_pelican  # noqa: E402


def levels(output: Path, sample: int) -> None:
    chosen = settings.read({})
    files = [p for p in text_files(output, chosen) if p.stat().st_size >= 256]
    random.Random(1).shuffle(files)
    data = [p.read_bytes() for p in files[:sample]]
    total = sum(map(len, data))
    print(f"\n1. {len(data)} pages, {total / 2**20:.1f} MiB: size after, time")
    print(f"  {'codec':12}{'size':>9}{'time':>10}{'× q5 time':>11}")
    base = None
    for fmt, level in [("br", q) for q in (5, 7, 9, 10, 11)] + [("gz", 6), ("gz", 9)]:
        started = time.perf_counter()
        size = sum(len(codecs.compress(d, fmt, level) or d) for d in data)
        spent = time.perf_counter() - started
        base = base or spent
        print(f"  {fmt} {level:<9}{size / total:9.2%}{spent:9.2f}s{spent / base:10.1f}")


def whole(output: Path, work: Path) -> None:
    print("\n2. the whole output, end to end (both cores)")
    ours = settings.read({"COMPRESSED_CACHE_PATH": str(work / "cache")})
    before = settings.read(
        {"COMPRESSED_CACHE_PATH": str(work / "b"), "COMPRESSED_BROTLI_QUALITY": 11}
    )
    rows = []
    cold = compress_output(shutil.copytree(output, work / "o1"), ours)
    rows.append(("ours, first publish (cold cache)", cold))
    changed = shutil.copytree(output, work / "o2")
    page = sorted((changed / "2021").rglob("index.html"))[0]
    page.write_bytes(page.read_bytes().replace(b"</main>", b"<p>Una riga.</p></main>"))
    warm = compress_output(changed, ours)
    rows.append(("ours, republish (one post changed)", warm))
    then = compress_output(shutil.copytree(output, work / "o3"), before)
    rows.append(("before: brotli 11, every file, every time", then))
    for label, outcome in rows:
        print(
            f"  {label:44}{outcome.seconds:8.2f} s  "
            f"{outcome.compressed:6,} made, {outcome.variants:6,} written"
        )
    print(
        f"  republish: {warm.seconds:.2f} s against {then.seconds:.2f} s before "
        f"(ratio {warm.seconds / then.seconds:.3f}); first publish "
        f"{cold.seconds:.2f} s (ratio {cold.seconds / then.seconds:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=600)
    args = parser.parse_args()
    print(f"bench_compress: {os.cpu_count()} cores, {args.posts:,} posts")
    with tempfile.TemporaryDirectory(prefix="bench-compress-") as tmp:
        work = Path(tmp)
        content = make_site(work / "content", args.posts)
        output = work / "output"
        started = time.perf_counter()
        built = run_pelican(
            output,
            settings=ROOT / "pelicanconf.py",
            content=content,
            overrides={"COMMUNITY_CACHE_DIR": str(work / "none")},
        )
        if built.returncode != 0:
            sys.exit(built.stdout + built.stderr)
        print(f"  development build: {time.perf_counter() - started:.1f} s")
        levels(output, args.sample)
        whole(output, work)


if __name__ == "__main__":
    main()
