"""Time of `invoke publish` to a local target: build, check and upload apart.

For the sample site and a synthetic bilingual site of N posts (bench/synth.py):
a first publish to an empty target, then a republish after changing one post.
The baseline, measured in the same run, is what pelican-quickstart's publish
does: a bare ``rsync -a --delete`` of a fresh build over the live folder.

    python bench/bench_publish.py [--posts 2000] [--runs 3] [--before] [--s3]

With --before, also once the way publishing compressed before plugins/
compressed (every file, every time, brotli 11), side by side with ours.
With --search-before, also the search step of the republish's build the way
it ran before (Pagefind over every page, its scripts compressed again), side
by side with ours on the same build (both as index_site runs it, after the
build). In a publish the index starts while Pelican finishes
(search.EarlyIndex): what is printed for every build is the part of the
search step left once Pelican is done.
With --s3, also to an S3 target (rclone serve s3 on loopback, as in the
tests; --s3-server moto or both for moto's server): time, requests and bytes
sent of a first publish and of a one-post republish end to end, and the
republish's upload against the baseline measured in the same run on the same
builds (every release whole, its unchanged files copied server-side).

Targets (issue 5): at 2,000 posts the check takes under 25% of the build; the
upload of a one-post change takes under 2 s and sends under 5% of the site.
Issue 16: a one-post republish within 15 s end to end (20 s to S3); the
check of a one-post republish, with what the check learnt of the previous
build (var/check/, piazza/checkcache.py), about 1.5 s, printed against the
same check of the same build without a cache, and with an empty one. The
publishes build where `invoke publish` does (in memory when /dev/shm has
room; PIAZZA_BUILD_DIR=/tmp measures a build on the disk).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import os
import re
import resource
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

from piazza.check import check_site  # noqa: E402
from piazza.publish import PublishResult, publish, read_siteurl  # noqa: E402
from piazza.scratch import memory_folder  # noqa: E402
from piazza.search import index_site, marked_pages  # noqa: E402
from wording import counted  # noqa: E402

# "Before" (--before): what the build did until plugins/compressed, with
# pelican-precompress: every file compressed again at every publish, brotli at
# quality 11, every source read and every page rendered. Reproduced with the
# same plugins: quality 11 and an empty cache for each publish, the reader
# and render caches off.
BEFORE = {"COMPRESSED_BROTLI_QUALITY": 11, "READ_CACHE": False, "RENDER_CACHE": False}


@dataclass(frozen=True)
class Run:
    first: PublishResult
    again: PublishResult
    baseline_seconds: float
    baseline_bytes: int
    searched: tuple[float, float] = (0.0, 0.0)  # the search step of each build
    # the check of the republished build: no cache (as before), cold, warm
    checks: tuple[float, float, float] | None = None
    # the warm check: files it parsed, files the cache knew
    check_files: tuple[int, int] = (0, 0)
    # with --search-before: wall ours, before; CPU ours, before; HTML pages read
    search_same_build: tuple[float, ...] | None = None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def search_same_build(release: Path, work: Path) -> tuple[float, ...]:
    """The search step on copies of ``release`` (hard links; their bundle
    removed untimed, as a fresh build has none): the way it ran before (every
    page read, the scripts compressed again: an empty cache), then ours (its
    cache warm from the publishes). Wall and CPU seconds (ours, before: this
    process and Pagefind's), and the HTML pages Pagefind reads each way."""
    measured = {}
    for name, options in (
        ("before", {"marked_only": False, "cache": work / "search-before-cache"}),
        ("ours", {}),
    ):
        copy = Path(
            shutil.copytree(release, work / f"search-{name}", copy_function=os.link)
        )
        shutil.rmtree(copy / "pagefind")
        cpu = _children_cpu() + time.process_time()
        started = time.perf_counter()
        index_site(copy, **options)
        measured[name] = (
            time.perf_counter() - started,
            _children_cpu() + time.process_time() - cpu,
        )
    every = sum(1 for _ in copy.rglob("*.html")) - sum(
        1 for _ in (copy / "pagefind").rglob("*.html")
    )
    (ours, ours_cpu), (before, before_cpu) = measured["ours"], measured["before"]
    return ours, before, ours_cpu, before_cpu, len(marked_pages(copy)), every


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


def one_run(
    content_source: Path, work: Path, *, before: bool = False, search: bool = False
) -> Run:
    """A first publish (an empty compression cache), then one after a
    one-post change (the cache warm; with ``before``, empty again)."""
    quiet = Console(file=io.StringIO())
    content = shutil.copytree(content_source, work / "content")
    target = work / "target"
    target.mkdir()
    settings = BEFORE if before else {}

    def overrides(publish_number: int) -> dict:
        cache = work / f"compressed-{publish_number if before else 0}"
        return {
            **settings,
            "COMPRESSED_CACHE_PATH": str(cache),
            # this run's own caches: the first publish starts cold
            "READ_CACHE_PATH": str(work / "read"),
            "RENDER_CACHE_PATH": str(work / "render"),
        }

    # this run's own check cache: the first publish starts cold (before: an
    # empty one for each publish)
    check_cache = work / "check"
    first = publish(
        str(target),
        content=content,
        overrides=overrides(1),
        console=quiet,
        check_cache=check_cache,
    )
    learnt = None if before else shutil.copytree(check_cache, work / "check-first")
    change_one_post(content)
    again = publish(
        str(target),
        content=content,
        overrides=overrides(2),
        console=quiet,
        check_cache=work / "check-2" if before else check_cache,
    )
    # the search step: what of it is left once Pelican is done (it starts
    # while Pelican finishes: piazza/search.py EarlyIndex)
    searched = tuple(p.timings.build - p.timings.pelican for p in (first, again))
    mirror = work / "mirror"
    now = time.time()
    releases = target / "releases"
    bare_rsync(fresh_copy(releases / first.release, work / "b1", now - 600), mirror)
    seconds, sent = bare_rsync(
        fresh_copy(releases / again.release, work / "b2", now), mirror
    )
    checks = learnt and time_checks(releases / again.release, learnt, work)
    files = (again.report.parsed, again.report.reused)
    same = search_same_build(releases / again.release, work) if search else None
    return Run(
        first,
        again,
        seconds,
        sent,
        searched=searched,
        search_same_build=same,
        checks=checks,
        check_files=files,
    )


def time_checks(output: Path, learnt: Path, work: Path) -> tuple[float, float, float]:
    """The check of a republished build three ways: without a cache (as the
    check was before piazza/checkcache.py), with an empty one, and with what
    it learnt checking the previous build (as a republish finds it)."""
    siteurl = read_siteurl(ROOT / "publishconf.py")

    def timed(cache: Path | None) -> float:
        started = time.perf_counter()
        check_site(output, siteurl, cache=cache)
        return time.perf_counter() - started

    return timed(None), timed(work / "check-cold"), timed(learnt)


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
    print(
        f"  {'of the build, Pelican (then Pagefind)':34}"
        f"{median(p.timings.pelican for p in first):8.2f}s"
        f"{median(p.timings.pelican for p in again):8.2f}s"
        "  (first publish, republish)"
    )
    sent = median(p.transfer.bytes_sent for p in again)
    files_sent = median(p.transfer.files_sent for p in again)
    upload = median(p.timings.upload for p in again)
    base_sent = median(r.baseline_bytes for r in runs)
    base_time = median(r.baseline_seconds for r in runs)
    print(f"  republish sent {files_sent:,.0f} files, {sent:,.0f} bytes")
    first_search = median(r.searched[0] for r in runs)
    print(
        f"  of the build, the search step after Pelican: first publish "
        f"{first_search:.2f} s, "
        f"republish {median(r.searched[1] for r in runs):.2f} s"
    )
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
    same = [r.search_same_build for r in runs if r.search_same_build]
    if same:
        for measure, at in (("wall", 0), ("CPU", 2)):
            ours = median(s[at] for s in same)
            before = median(s[at + 1] for s in same)
            print(
                f"  {f'search step, same build, {measure}':40}{ours:12.2f} s"
                f"{before:12.2f} s{ours / before:8.2f}  (baseline: before)"
            )
        ours, before = same[0][4], same[0][5]
        print(
            f"  {'  HTML pages Pagefind reads':40}{ours:14,.0f}{before:14,.0f}"
            f"{ours / before:8.2f}"
        )
    if all(r.checks for r in runs):
        none = median(r.checks[0] for r in runs)
        for name, seconds, target in (
            (
                "check after one post, warm cache",
                median(r.checks[2] for r in runs),
                "<= 1.5 s",
            ),
            ("  the same, cold cache", median(r.checks[1] for r in runs), ""),
        ):
            print(
                f"  {name:40}{seconds:12.2f} s{none:12.2f} s"
                f"{seconds / none:8.2f}  {target}"
            )
        parsed, reused = runs[0].check_files
        print(
            "  (the check's baseline: the same check of the same build, no cache;"
            f" the republish's parsed {counted(parsed, 'file')}, knew {reused:,})"
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
    parser.add_argument(
        "--search-before",
        action="store_true",
        help="also the republish's search step as it ran before, on the same build",
    )
    parser.add_argument(
        "--s3", action="store_true", help="also publish to S3 (on loopback)"
    )
    parser.add_argument(
        "--s3-server",
        choices=("rclone", "moto", "both"),
        default="rclone",
        help="the S3 server on loopback (both: rclone, then moto for comparison)",
    )
    parser.add_argument(
        "--s3-compare",
        type=int,
        default=1,
        help="with --s3-server both: how many runs' builds moto gets too",
    )
    parser.add_argument(
        "--s3-only", action="store_true", help="only the S3 figures (implies --s3)"
    )
    args = parser.parse_args()
    if args.s3_only:
        with tempfile.TemporaryDirectory(prefix="bench-publish-s3-") as tmp:
            overrides = {"COMPRESSED_CACHE_PATH": f"{tmp}/compressed"}
            print(
                f"bench_publish --s3: {os.cpu_count()} cores, Python "
                f"{sys.version.split()[0]}, target: s3:// on {args.s3_server}"
            )
            bench_s3(args, overrides, Path(tmp))
        return
    print(
        f"bench_publish: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"target: a local folder; baseline: rsync -a --delete of a fresh build"
    )
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        work = Path(tmp)
        sample = [
            one_run(ROOT / "content", work / f"sample-{i}", search=args.search_before)
            for i in range(args.runs)
        ]
        report("sample site", sample)
        if not args.skip_synthetic:
            content = make_site(work / "synth-content", args.posts)
            for folder in ("extra", "images"):  # favicon and images the theme uses
                if not (content / folder).exists():
                    shutil.copytree(ROOT / "content" / folder, content / folder)
            synthetic = [
                one_run(content, work / f"synth-{i}", search=args.search_before)
                for i in range(args.runs)
            ]
            report(f"synthetic site, {args.posts:,} posts (it + en)", synthetic)
            if args.before:
                before = [one_run(content, work / "before", before=True)]
                report(
                    f"BEFORE (all recompressed, brotli 11), {args.posts:,} posts",
                    before,
                )
                compare(synthetic, before)
        if args.s3:
            bench_s3(args, {"COMPRESSED_CACHE_PATH": str(work / "s3-comp")}, work)


# ---------------------------------------------------------------- S3 target
#
# Per run, on rclone serve s3 (files on disk; tests/s3_server.py starts it):
# a first publish and a one-post republish end to end with `publish()` (our
# layout: a republish writes an overlay of what changed over the live base).
# The two builds are kept, then uploaded again under fresh prefixes, the same
# steps publish() times as "upload" (scan, list, upload, switch), twice:
# ours, and the baseline measured in the same run, main's layout before
# overlays (every release whole, each unchanged file copied server-side with
# CopyObject, 16 at a time: `rebase_above=0`). With --s3-server moto (or
# both), the same builds go to moto's server too, for comparison.


@dataclass(frozen=True)
class Sent:
    """Seconds, requests and request-body bytes of one step against S3."""

    seconds: float
    requests: int
    bytes: int
    copies: int = 0


@dataclass(frozen=True)
class S3Run:
    first: PublishResult  # end to end, our layout
    again: PublishResult
    first_sent: Sent
    again_sent: Sent
    builds: tuple[Path, Path]  # the two builds, kept for the replays


@contextlib.contextmanager
def s3_server(kind: str, work: Path):
    """An S3 server of ``kind`` on loopback (tests/s3_server.py) with a
    bucket, its endpoint and credentials in os.environ for boto3."""
    sys.path.insert(0, str(ROOT / "tests"))
    from s3_server import serving_s3  # noqa: PLC0415 (tests/ only for --s3)

    data = work / f"{kind}-data"
    with serving_s3(kind, data) as server:
        saved = {name: os.environ.get(name) for name in server.env}
        os.environ.update(server.env)
        os.environ.pop("AWS_PROFILE", None)
        try:
            yield server
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def s3_publish(
    spec: str, content: Path, overrides: dict, keep: Path
) -> tuple[PublishResult, Sent]:
    """A publish to ``spec``, what its S3 client sent, and the build kept in
    ``keep`` (hard links: the publish deletes its own)."""
    import piazza.publish as publishing  # noqa: PLC0415
    from piazza import s3target  # noqa: PLC0415

    opened = []

    def recording(*args, **kwargs):
        target = s3target.open_s3(*args, **kwargs)
        upload = target.upload

        def keeping(build, manifest, basis):
            shutil.copytree(build.path, keep, copy_function=os.link)
            return upload(build, manifest, basis)

        target.upload = keeping
        opened.append(target)
        return target

    publishing.open_s3 = recording
    try:
        result = publish(
            spec,
            content=content,
            overrides=overrides,
            console=Console(file=io.StringIO()),
        )
    finally:
        publishing.open_s3 = s3target.open_s3
    stats = opened[-1].stats
    sent = Sent(
        result.timings.upload,
        stats.requests,
        stats.bytes_sent,
        stats.calls["CopyObject"],
    )
    return result, sent


def replay(spec: str, builds: tuple[Path, Path], rebase_above: float) -> Sent:
    """``builds`` published in turn to ``spec`` as publish() does once a build
    is checked; what the last one cost (seconds: scan, list, upload, switch)."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from piazza import s3target  # noqa: PLC0415
    from piazza.release import Build, Manifest, plan_prune, release_name  # noqa: PLC0415

    for path in builds:
        target = s3target.open_s3(spec, rebase_above=rebase_above)
        started = time.perf_counter()
        scan = Build.scan(path)
        with target.lock():
            releases = target.releases()
            current = next((r.name for r in releases if r.current), None)
            if current:
                target.checksums(current)
            name = release_name(datetime.now(UTC), [r.name for r in releases])
            manifest = Manifest(
                name, datetime.now(UTC).isoformat(), files=len(scan.checksums)
            )
            target.upload(scan, manifest, basis=current)
            target.switch(name)
            seconds = time.perf_counter() - started
            target.remove(plan_prune(target.releases(), 5))
    stats = target.stats
    return Sent(seconds, stats.requests, stats.bytes_sent, stats.calls["CopyObject"])


def one_s3_run(content_source: Path, work: Path, overrides: dict, prefix: str) -> S3Run:
    content = shutil.copytree(content_source, work / "content")
    spec = f"s3://piazza/{prefix}"
    # kept beside the publish's own build (in memory where it builds there),
    # so keeping it is hard links, not a copy inside the timed upload
    kept = Path(tempfile.mkdtemp(prefix="bench-publish-", dir=memory_folder()))
    atexit.register(shutil.rmtree, kept, ignore_errors=True)
    builds = (kept / "build-1", kept / "build-2")
    first, first_sent = s3_publish(spec, content, overrides, builds[0])
    change_one_post(content)
    again, again_sent = s3_publish(spec, content, overrides, builds[1])
    return S3Run(first, again, first_sent, again_sent, builds)


def report_s3(
    label: str, kind: str, runs: list[S3Run], replays: dict, end_to_end: bool
) -> None:
    """End to end (if ``runs`` were published here), then ours against the
    baseline for the republish's upload, on the S3 server ``kind``."""
    files = runs[0].again.transfer.files_total
    size = runs[0].again.transfer.bytes_total
    print(
        f"\n{label}, to {kind} on loopback: {files:,} files, {size / 2**20:.1f} MiB "
        f"({len(replays['ours'])} runs, medians)"
    )
    if end_to_end:
        print(
            f"  {'end to end (ours)':30}{'build':>9}{'check':>9}{'upload':>9}"
            f"{'total':>9}{'requests':>10}{'bytes sent':>14}"
        )
        for name, results, sent in (
            ("first publish", [r.first for r in runs], [r.first_sent for r in runs]),
            (
                "republish, one post changed",
                [r.again for r in runs],
                [r.again_sent for r in runs],
            ),
        ):
            t = [r.timings for r in results]
            print(
                f"  {name:30}"
                f"{median(x.build for x in t):8.2f}s{median(x.check for x in t):8.2f}s"
                f"{median(x.upload for x in t):8.2f}s{median(x.total for x in t):8.2f}s"
                f"{median(x.requests for x in sent):10,.0f}"
                f"{median(x.bytes for x in sent):14,.0f}"
            )
    ours, base = replays["ours"], replays["baseline"]
    print(
        f"\n  {'republish upload (same builds)':40}{'ours':>14}{'baseline':>14}"
        f"{'ratio':>8}  target"
    )
    rows = (
        ("seconds", lambda x: x.seconds, "{:12.2f} s", ""),
        ("requests", lambda x: x.requests, "{:14,.0f}", ""),
        ("  of which CopyObject", lambda x: x.copies, "{:14,.0f}", ""),
        ("bytes sent", lambda x: x.bytes, "{:14,.0f}", ""),
        ("bytes sent, % of site", lambda x: x.bytes / size, "{:14.2%}", "< 5%"),
        ("ms per request", lambda x: 1000 * x.seconds / x.requests, "{:12.2f}ms", ""),
    )
    for name, pick, fmt, goal in rows:
        a, b = median(map(pick, ours)), median(map(pick, base))
        ratio = f"{a / b:8.3f}" if b else f"{'—':>8}"
        print(f"  {name:40}{fmt.format(a)}{fmt.format(b)}{ratio}  {goal}")
    if end_to_end:
        total = median(r.again.timings.total for r in runs)
        build = median(r.again.timings.build + r.again.timings.check for r in runs)
        print(
            f"  {'republish end to end (ours)':40}{total:12.2f} s"
            f"{build + median(x.seconds for x in base):12.2f} s"
            f"{'':>8}  <= 20 s (baseline: same build + check)"
        )


def bench_s3(args, overrides: dict, work: Path) -> None:
    kinds = ["rclone", "moto"] if args.s3_server == "both" else [args.s3_server]
    sites = [("sample site", ROOT / "content", "sample")]
    if not args.skip_synthetic:
        content = work / "synth-content"
        if not content.exists():
            content = synthetic_content(work, args.posts)
        sites.append(
            (f"synthetic site, {args.posts:,} posts (it + en)", content, "synth")
        )
    published: dict[str, list[S3Run]] = {}
    for kind in kinds:
        with s3_server(kind, work):
            for label, content, slug in sites:
                if slug not in published:  # end to end once, on the first server
                    published[slug] = [
                        one_s3_run(
                            content, work / f"s3-{slug}-{i}", overrides, f"{slug}{i}"
                        )
                        for i in range(args.runs)
                    ]
                    here = True
                else:
                    here = False
                runs = published[slug] if here else published[slug][: args.s3_compare]
                replays = {"ours": [], "baseline": []}
                for i, run in enumerate(runs):
                    for layout, above in (("baseline", 0.0), ("ours", None)):
                        spec = f"s3://piazza/{kind}-{layout}-{slug}{i}"
                        replays[layout].append(replay(spec, run.builds, above))
                report_s3(label, kind, runs, replays, here)


def synthetic_content(work: Path, posts: int) -> Path:
    content = make_site(work / "synth-content", posts)
    for folder in ("extra", "images"):  # favicon and images the theme uses
        if not (content / folder).exists():
            shutil.copytree(ROOT / "content" / folder, content / folder)
    return content


if __name__ == "__main__":
    main()
