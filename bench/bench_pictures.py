"""Image variants of the demo covers (plugins/pictures): cold and warm, one
process against a pool, and the bytes a reader downloads.

1. cold: every variant of the 13 demo covers (4 widths x AVIF/WebP/JPEG)
   made in this process (PICTURES_WORKERS=1) against a pool of one process
   per core (the default), each from an empty cache; the baseline of the
   ratio is the single process;
2. warm: what a rebuild does with a full cache (hash each source, read its
   header, find every variant in the cache), against the cold default;
3. bytes: the original covers against the variant a 1x phone (480 px) and a
   2x laptop (1600 px) get in each format.

    python bench/bench_pictures.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from pictures import glue, images  # noqa: E402
from pictures import settings as configuration  # noqa: E402

COVERS = sorted((ROOT / "content" / "images" / "covers").glob("*.jpg"))


def plan_all(cache: Path, workers: int) -> glue.Run:
    values = configuration.read(
        {"PICTURES_CACHE_PATH": str(cache), "PICTURES_WORKERS": workers}
    )
    run = glue.Run(values, ROOT / "content", Path(tempfile.gettempdir()), "")
    for cover in COVERS:
        run.plan(cover)
    return run


def cold(workers: int) -> tuple[float, int]:
    """Every variant from an empty cache, as a build makes them: with a pool,
    each source goes to a worker as soon as it is planned."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        run = plan_all(Path(tmp), workers)
        results = [
            run.futures[key].result()
            if key in run.futures
            else images.make_or_error(job)
            for key, job in run.jobs.items()
        ]
        if run.pool is not None:
            run.pool.shutdown()
        return time.perf_counter() - started, sum(count for count, _ in results)


def warm(cache: Path) -> float:
    started = time.perf_counter()
    run = plan_all(cache, 1)
    assert not run.jobs, "the cache should hold every variant"
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"{len(COVERS)} covers, {cores} cores, {args.runs} runs (medians)")
    single = statistics.median(cold(1)[0] for _ in range(args.runs))
    pooled_runs = [cold(cores) for _ in range(args.runs)]
    pooled = statistics.median(t for t, _ in pooled_runs)
    made = pooled_runs[0][1]
    with tempfile.TemporaryDirectory() as tmp:
        run = plan_all(Path(tmp), 1)
        for job in run.jobs.values():
            images.make(job)
        warm_time = statistics.median(warm(Path(tmp)) for _ in range(args.runs))
        print(f"\n1-2. {made} variants: seconds")
        print(f"  {'':28}{'time':>8}{'ratio':>8}")
        print(f"  {'cold, one process (base)':28}{single:8.2f}{1:8.2f}")
        print(f"  {f'cold, pool of {cores}':28}{pooled:8.2f}{pooled / single:8.2f}")
        print(f"  {'warm (all cached)':28}{warm_time:8.3f}{warm_time / single:8.3f}")
        print("  target: warm makes nothing (a test asserts it); pool <= one process")
        originals = sum(c.stat().st_size for c in COVERS)
        print(f"\n3. bytes: originals {originals / 1024:,.0f} KiB in all")
        print(f"  {'variant':14}{'KiB, all covers':>16}{'vs original':>13}")
        for width in (480, 1600):
            for fmt in ("avif", "webp", "jpeg"):
                total = sum(
                    images.cache_entry(
                        Path(tmp), images.variant_name(p.key, width, fmt)
                    )
                    .stat()
                    .st_size
                    for p in run.plans.values()
                )
                label = f"{width} {fmt}"
                print(f"  {label:14}{total / 1024:16,.0f}{total / originals:13.2f}")


if __name__ == "__main__":
    main()
