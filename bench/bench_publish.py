"""Time of `invoke publish` to a local target: build, check and upload apart.

For the sample site and a synthetic bilingual site of N posts (bench/synth.py):
a first publish to an empty target, then a republish after changing one post.
The baseline, measured in the same run, is what pelican-quickstart's publish
does: a bare ``rsync -a --delete`` of a fresh build over the live folder.

    python bench/bench_publish.py [--posts 2000] [--runs 3] [--before]

Targets (issue 5): at 2,000 posts the check takes under 25% of the build; the
upload of a one-post change takes under 2 s and sends under 5% of the site.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "plugins"))  # piazza uses the shared wording

from synth import make_site  # noqa: E402

from piazza.publish import PublishResult, publish  # noqa: E402

# "Before" (--before): what the build did until plugins/compressed, with
# pelican-precompress: every file compressed again at every publish, brotli at
# quality 11. Reproduced with the same plugin: quality 11 and an empty cache
# for each publish.
BEFORE = {"COMPRESSED_BROTLI_QUALITY": 11}


@dataclass(frozen=True)
class Run:
    first: PublishResult
    again: PublishResult
    baseline_seconds: float
    baseline_bytes: int


def fresh_copy(source: Path, dest: Path, mtime: float) -> Path:
    """A copy whose files all have ``mtime``, as a Pelican build at that time."""
    copy = Path(shutil.copytree(source, dest, copy_function=shutil.copyfile))
    for dirpath, _dirs, files in os.walk(copy):
        for name in files:
            os.utime(Path(dirpath, name), (mtime, mtime))
    return copy


def bare_rsync(source: Path, dest: Path) -> tuple[float, int]:
    """pelican-quickstart's upload: seconds and bytes sent."""
    started = time.perf_counter()
    proc = subprocess.run(
        ["rsync", "-a", "--delete", "--stats", f"{source}/", f"{dest}/"],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    match = re.search(r"Total bytes sent:\s*([\d,.]+)", proc.stdout)
    return elapsed, int(re.sub(r"[,.]", "", match.group(1))) if match else -1


def change_one_post(content: Path) -> None:
    posts = sorted((content / "posts").glob("*.md"))
    post = posts[len(posts) // 2]
    with post.open("a", encoding="utf-8") as handle:
        handle.write("\n\nUna frase aggiunta per il benchmark.\n")


def one_run(content_source: Path, work: Path, *, before: bool = False) -> Run:
    """A first publish (an empty compression cache), then one after a
    one-post change (the cache warm; with ``before``, empty again)."""
    quiet = Console(file=io.StringIO())
    content = shutil.copytree(content_source, work / "content")
    target = work / "target"
    target.mkdir()
    settings = BEFORE if before else {}

    def overrides(publish_number: int) -> dict:
        cache = work / f"compressed-{publish_number if before else 0}"
        return {**settings, "COMPRESSED_CACHE_PATH": str(cache)}

    first = publish(str(target), content=content, overrides=overrides(1), console=quiet)
    change_one_post(content)
    again = publish(str(target), content=content, overrides=overrides(2), console=quiet)
    mirror = work / "mirror"
    now = time.time()
    releases = target / "releases"
    bare_rsync(fresh_copy(releases / first.release, work / "b1", now - 600), mirror)
    seconds, sent = bare_rsync(
        fresh_copy(releases / again.release, work / "b2", now), mirror
    )
    return Run(first, again, seconds, sent)


def median(values) -> float:
    return statistics.median(list(values))


def report(label: str, runs: list[Run]) -> None:
    first = [r.first for r in runs]
    again = [r.again for r in runs]
    size = again[0].transfer.bytes_total
    files = again[0].transfer.files_total
    build = median(p.timings.build for p in first)
    check = median(p.timings.check for p in first)
    mib = size / 2**20
    print(f"\n{label}: {files:,} files, {mib:.1f} MiB ({len(runs)} runs, medians)")
    print(f"  {'':34}{'build':>9}{'check':>9}{'upload':>9}{'total':>9}")
    for name, results in (
        ("first publish", first),
        ("republish, one post changed", again),
    ):
        t = [r.timings for r in results]
        print(
            f"  {name:34}"
            f"{median(x.build for x in t):8.2f}s{median(x.check for x in t):8.2f}s"
            f"{median(x.upload for x in t):8.2f}s{median(x.total for x in t):8.2f}s"
        )
    sent = median(p.transfer.bytes_sent for p in again)
    files_sent = median(p.transfer.files_sent for p in again)
    upload = median(p.timings.upload for p in again)
    base_sent = median(r.baseline_bytes for r in runs)
    base_time = median(r.baseline_seconds for r in runs)
    print(f"  republish sent {files_sent:,.0f} files, {sent:,.0f} bytes")
    print()
    print(f"  {'figure':40}{'ours':>14}{'baseline':>14}{'ratio':>8}  target")
    print(f"  {'check / build':40}{check / build:13.1%} {'—':>13} {'':>7}  < 25%")
    print(
        f"  {'upload of a one-post change':40}{upload:12.2f} s{base_time:12.2f} s"
        f"{upload / base_time if base_time else 0:8.2f}  < 2 s"
    )
    print(
        f"  {'bytes sent on republish, % of site':40}{sent / size:13.2%} "
        f"{base_sent / size:13.2%}{sent / base_sent if base_sent else 0:8.3f}  < 5%"
    )


def compare(ours: list[Run], before: list[Run]) -> None:
    """Ours against the way publishing compressed before, side by side."""
    print(f"\n  {'publish (end to end)':40}{'ours':>12}{'before':>12}{'ratio':>8}")
    for name, pick in (
        ("first publish", lambda run: run.first),
        ("republish, one post changed", lambda run: run.again),
    ):
        mine = median(pick(r).timings.total for r in ours)
        then = median(pick(r).timings.total for r in before)
        print(f"  {name:40}{mine:10.2f} s{then:10.2f} s{mine / then:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument(
        "--before",
        action="store_true",
        help="also measure once how publishing compressed before plugins/compressed",
    )
    args = parser.parse_args()
    print(
        f"bench_publish: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"target: a local folder; baseline: rsync -a --delete of a fresh build"
    )
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        work = Path(tmp)
        sample = [
            one_run(ROOT / "content", work / f"sample-{i}") for i in range(args.runs)
        ]
        report("sample site", sample)
        if not args.skip_synthetic:
            content = make_site(work / "synth-content", args.posts)
            for folder in ("extra", "images"):  # favicon and images the theme uses
                if not (content / folder).exists():
                    shutil.copytree(ROOT / "content" / folder, content / folder)
            synthetic = [
                one_run(content, work / f"synth-{i}") for i in range(args.runs)
            ]
            report(f"synthetic site, {args.posts:,} posts (it + en)", synthetic)
            if args.before:
                before = [one_run(content, work / "before", before=True)]
                report(
                    f"BEFORE (all recompressed, brotli 11), {args.posts:,} posts",
                    before,
                )
                compare(synthetic, before)


if __name__ == "__main__":
    main()
