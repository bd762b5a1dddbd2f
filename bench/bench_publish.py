"""Time of `invoke publish` to a local target: build, check and upload apart.

For the sample site and a synthetic bilingual site of N posts (bench/synth.py):
a first publish to an empty target, then a republish after changing one post.
The baseline, measured in the same run, is what pelican-quickstart's publish
does: a bare ``rsync -a --delete`` of a fresh build over the live folder.

    python bench/bench_publish.py [--posts 2000] [--runs 3] [--before] [--s3]

With --before, also once the way publishing compressed before plugins/
compressed (every file, every time, brotli 11), side by side with ours.
With --s3, also to an S3 target (moto's S3 server on loopback, as in the
tests): time, requests and bytes sent of a first publish and of a one-post
republish; the baseline is the first publish's upload (every file sent).

Targets (issue 5): at 2,000 posts the check takes under 25% of the build; the
upload of a one-post change takes under 2 s and sends under 5% of the site.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import socket
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
        return {
            **settings,
            "COMPRESSED_CACHE_PATH": str(cache),
            # this run's own caches: the first publish starts cold
            "READ_CACHE_PATH": str(work / "read"),
            "RENDER_CACHE_PATH": str(work / "render"),
        }

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
    parser.add_argument(
        "--s3", action="store_true", help="also publish to S3 (moto on loopback)"
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
                f"{sys.version.split()[0]}, target: s3:// on moto_server (loopback)"
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
        if args.s3:
            bench_s3(args, {"COMPRESSED_CACHE_PATH": str(work / "s3-comp")}, work)


# ---------------------------------------------------------------- S3 target


@dataclass(frozen=True)
class S3Run:
    first: PublishResult
    again: PublishResult
    first_requests: int
    again_requests: int
    first_bytes: int  # request bodies, as sent on the wire
    again_bytes: int


@contextlib.contextmanager
def s3_server(work: Path):
    """moto's S3 server on a free loopback port, a bucket, boto3's env set."""
    import boto3  # noqa: PLC0415 (only --s3 needs it)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench-secret",
        AWS_REGION="us-east-1",
    )
    os.environ.pop("AWS_PROFILE", None)
    moto = Path(sys.executable).with_name("moto_server")
    log = (work / "moto.log").open("w")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("moto_server did not start") from None
                time.sleep(0.05)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
        yield
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def s3_publish(
    spec: str, content: Path, overrides: dict
) -> tuple[PublishResult, int, int]:
    """A publish to ``spec`` and the requests and bytes its S3 client sent."""
    import piazza.publish as publishing  # noqa: PLC0415
    from piazza import s3target  # noqa: PLC0415

    opened = []

    def recording(*args, **kwargs):
        opened.append(s3target.open_s3(*args, **kwargs))
        return opened[-1]

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
    return result, stats.requests, stats.bytes_sent


def one_s3_run(content_source: Path, work: Path, overrides: dict, prefix: str) -> S3Run:
    content = shutil.copytree(content_source, work / "content")
    spec = f"s3://bench/{prefix}"
    first, first_requests, first_bytes = s3_publish(spec, content, overrides)
    change_one_post(content)
    again, again_requests, again_bytes = s3_publish(spec, content, overrides)
    return S3Run(first, again, first_requests, again_requests, first_bytes, again_bytes)


def report_s3(label: str, runs: list[S3Run]) -> None:
    files = runs[0].again.transfer.files_total
    size = runs[0].again.transfer.bytes_total
    print(
        f"\n{label}, to S3 on loopback: {files:,} files, {size / 2**20:.1f} MiB "
        f"({len(runs)} runs, medians)"
    )
    print(
        f"  {'':30}{'build':>9}{'check':>9}{'upload':>9}{'total':>9}"
        f"{'requests':>10}{'bytes sent':>14}"
    )
    for name, results, requests, sent in (
        (
            "first publish",
            [r.first for r in runs],
            [r.first_requests for r in runs],
            [r.first_bytes for r in runs],
        ),
        (
            "republish, one post changed",
            [r.again for r in runs],
            [r.again_requests for r in runs],
            [r.again_bytes for r in runs],
        ),
    ):
        t = [r.timings for r in results]
        print(
            f"  {name:30}"
            f"{median(x.build for x in t):8.2f}s{median(x.check for x in t):8.2f}s"
            f"{median(x.upload for x in t):8.2f}s{median(x.total for x in t):8.2f}s"
            f"{median(requests):10,.0f}{median(sent):14,.0f}"
        )
    upload = median(r.again.timings.upload for r in runs)
    base = median(r.first.timings.upload for r in runs)
    total = median(r.again.timings.total for r in runs)
    sent = median(r.again_bytes for r in runs)
    base_sent = median(r.first_bytes for r in runs)
    print(f"\n  {'figure':40}{'ours':>14}{'baseline':>14}{'ratio':>8}  target")
    print(
        f"  {'republish upload (baseline: all files)':40}{upload:12.2f} s"
        f"{base:12.2f} s{upload / base if base else 0:8.3f}"
    )
    print(f"  {'republish end to end':40}{total:12.2f} s{'':>14}{'':>8}  <= 20 s")
    print(
        f"  {'bytes sent on republish, % of site':40}{sent / size:13.2%} "
        f"{base_sent / size:13.2%}{sent / base_sent if base_sent else 0:8.3f}  < 5%"
    )


def bench_s3(args, overrides: dict, work: Path) -> None:
    with s3_server(work):
        sample = [
            one_s3_run(
                ROOT / "content", work / f"s3-sample-{i}", overrides, f"sample{i}"
            )
            for i in range(args.runs)
        ]
        report_s3("sample site", sample)
        if not args.skip_synthetic:
            content = work / "synth-content"
            if not content.exists():
                content = synthetic_content(work, args.posts)
            synthetic = [
                one_s3_run(content, work / f"s3-synth-{i}", overrides, f"synth{i}")
                for i in range(args.runs)
            ]
            report_s3(f"synthetic site, {args.posts:,} posts (it + en)", synthetic)


def synthetic_content(work: Path, posts: int) -> Path:
    content = make_site(work / "synth-content", posts)
    for folder in ("extra", "images"):  # favicon and images the theme uses
        if not (content / folder).exists():
            shutil.copytree(ROOT / "content" / folder, content / folder)
    return content


if __name__ == "__main__":
    main()
