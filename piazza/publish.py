"""The bodies of `invoke publish`, `rollback`, `releases` and `check`.

tasks.py wraps each in a thin task and turns a PublishError into a clean exit.
They print for the person at the terminal (rich) and return what they did, so
tests and benchmarks can read the figures.

The target comes from, in order: the ``target`` argument (``--target``), the
``PIAZZA_TARGET`` environment variable, ``piazza.target`` in invoke.yaml.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from piazza import scratch, terminal
from piazza.check import (
    CHECK_CACHE,
    DEFAULT_SIZE_BUDGET,
    CheckReport,
    check_site,
    format_report,
)
from piazza.errors import PublishError
from piazza.pelican_run import run_pelican
from piazza.release import (
    BUILD_INPUTS,
    DEFAULT_KEEP,
    Build,
    LocalTarget,
    Manifest,
    Release,
    RemoteTarget,
    Transfer,
    git_commit,
    open_target,
    plan_prune,
    release_name,
)
from piazza.s3target import S3Target, is_s3, open_s3
from piazza.search import EarlyIndex, SearchIndexError, folder_bytes, index_site
from wording import counted

ROOT = Path(__file__).resolve().parents[1]
ENV_TARGET = "PIAZZA_TARGET"
ENV_SSH = "PIAZZA_SSH"
ENV_RSYNC = "PIAZZA_RSYNC"
ENV_BUILD_DIR = "PIAZZA_BUILD_DIR"
BUILD_PREFIX = "piazza-build-"
# A first release against its sources, for sizing a first publish's build:
# 9 times for the sample site, 16 for a synthetic one of 2,000 posts.
FIRST_RELEASE_RATIO = 16


@dataclass(frozen=True)
class Timings:
    """Seconds spent in each step of a publish."""

    build: float = 0.0  # Pelican, then the search index
    check: float = 0.0
    upload: float = 0.0
    pelican: float = 0.0  # of ``build``, Pelican's part

    @property
    def total(self) -> float:
        return self.build + self.check + self.upload


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the release now live, and what it cost."""

    target: str
    release: str
    previous: str | None
    timings: Timings
    transfer: Transfer | None  # None when nothing had changed
    report: CheckReport
    pruned: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.transfer is not None


def project_config(root: Path = ROOT) -> Mapping[str, Any]:
    """The ``piazza`` section of invoke.yaml (empty if there is none)."""
    from invoke import Config  # noqa: PLC0415 (invoke is only needed here)

    config = Config(project_location=str(root))
    config.load_project()
    section = config.get("piazza") or {}
    return dict(section)


def resolve_target(target: str | None, root: Path = ROOT) -> str:
    """The target spec: the argument, else $PIAZZA_TARGET, else invoke.yaml."""
    spec = target or os.environ.get(ENV_TARGET) or project_config(root).get("target")
    if not spec:
        raise PublishError(
            "No publish target configured: pass --target, set PIAZZA_TARGET, or set "
            "piazza.target in invoke.yaml (a folder, user@host:/srv/piazza or "
            "s3://bucket/prefix)."
        )
    return str(spec)


def _open(
    target: str | None, root: Path = ROOT, *, force: bool = False
) -> LocalTarget | RemoteTarget | S3Target:
    spec = resolve_target(target, root)
    if is_s3(spec):  # --force also lifts the S3 target's deletion guard
        return open_s3(spec, force=force)
    ssh = shlex.split(os.environ.get(ENV_SSH, "ssh"))
    return open_target(spec, ssh=ssh, rsync=os.environ.get(ENV_RSYNC, "rsync"))


def build_parent(
    root: Path = ROOT, *, last_size: int = 0, memory: Path = scratch.MEMORY
) -> tuple[Path | None, str]:
    """The folder a publish builds in, and why.

    A publish's build is thrown away once uploaded, and most of a republish's
    time on a disk goes to creating its files (about 20,000 pages, variants
    and index fragments at 2,000 posts): in memory it takes a third less.
    So, unless ``$PIAZZA_BUILD_DIR`` or ``piazza.build_dir`` in invoke.yaml
    names a folder, it goes to ``/dev/shm`` when that is a tmpfs with room
    for four times ``last_size`` (the last release; for a first publish,
    FIRST_RELEASE_RATIO times the sources) and at least 512 MiB, else to the
    system's temporary folder (None: $TMPDIR, /tmp).
    """
    chosen = os.environ.get(ENV_BUILD_DIR) or project_config(root).get("build_dir")
    if chosen:
        folder = root / Path(str(chosen)).expanduser()  # relative: the project's
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise PublishError(
                f"The build folder {folder} (from ${ENV_BUILD_DIR} or piazza.build_dir "
                "in invoke.yaml) is not a folder this user can write to: create it, "
                "or unset it to build in memory or in the temporary folder."
            )
        return folder, "chosen"
    if scratch.memory_folder(4 * last_size, memory) is not None:
        return memory, "memory"
    return None, "disk"


def _console(console: Console | None) -> Console:
    return console if console is not None else terminal.console()


def build_site(
    output: Path,
    *,
    settings: Path,
    content: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    root: Path = ROOT,
) -> float:
    """Build with Pelican in a subprocess into ``output`` (warnings are fatal),
    then its search index (piazza/search.py); the seconds Pelican took.

    The index starts as soon as Pelican has written the pages, while it
    compresses the files and checks its caches (search.EarlyIndex), and is
    taken only if the pages it read are the pages of the finished build.
    """
    early: list[EarlyIndex] = []
    started = time.perf_counter()
    try:
        proc = run_pelican(
            output,
            settings=settings,
            content=content,
            overrides=overrides,
            root=root,
            on_pages_written=lambda: early.append(EarlyIndex(output)),
        )
    except BaseException:
        for index in early:
            index.cancel()
        raise
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        for index in early:
            index.cancel()
        log = (proc.stdout + proc.stderr).strip().splitlines()
        tail = "\n".join(log[-30:])
        raise PublishError(
            f"The build failed (pelican exited {proc.returncode}); nothing was "
            f"uploaded and the live site is unchanged. Fix what Pelican reports, "
            f"then publish again:\n{tail}"
        )
    cache = root / "var" / "search"
    try:
        if early:
            early[0].finish(cache)
        else:
            index_site(output, cache=cache)
    except SearchIndexError as exc:
        raise PublishError(
            f"{exc}\nNothing was uploaded; the live site is unchanged."
        ) from None
    return seconds


def read_siteurl(settings: Path, overrides: Mapping[str, Any] | None = None) -> str:
    """SITEURL as the build will see it (settings file, then overrides)."""
    if overrides and "SITEURL" in overrides:
        return str(overrides["SITEURL"])
    from pelican.settings import read_settings  # noqa: PLC0415 (slow import)

    return str(read_settings(str(settings)).get("SITEURL", ""))


def publish(
    target: str | None = None,
    keep: int | None = None,
    *,
    settings: Path | None = None,
    content: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    size_budget: int = DEFAULT_SIZE_BUDGET,
    force: bool = False,
    console: Console | None = None,
    root: Path = ROOT,
    check_cache: Path | None = None,
) -> PublishResult:
    """Build, check, upload as a new release, switch `current`, prune old releases.

    Nothing on the target changes unless the build and the check pass and the
    upload completes. ``force`` makes a new release even when nothing changed.
    The check keeps what it learnt of each file in ``check_cache`` (default
    var/check/), so a republish re-reads only the files whose bytes changed.
    """
    out = _console(console)
    settings = settings or root / "publishconf.py"
    if keep is None:
        keep = int(project_config(root).get("keep") or DEFAULT_KEEP)
    site = _open(target, root, force=force)
    site.preflight()
    with contextlib.ExitStack() as stack:
        stack.enter_context(site.lock())
        started = time.perf_counter()
        releases = site.releases()  # its size chooses where to build
        live = next((r for r in releases if r.current), None)
        last_size = (
            live.manifest.bytes
            if live and live.manifest
            else FIRST_RELEASE_RATIO * folder_bytes(content or root / "content")
        )
        parent, where = build_parent(root, last_size=last_size)
        # what an earlier publish, killed before cleaning up, left behind
        scratch.sweep(Path(parent or tempfile.gettempdir()), BUILD_PREFIX)
        tmp = stack.enter_context(
            tempfile.TemporaryDirectory(prefix=BUILD_PREFIX, dir=parent)
        )
        output = Path(tmp) / "output"
        with out.status(
            "Building the site with the production settings"
            + (" (in memory)…" if where == "memory" else f" (in {tmp})…")
        ):
            pelican = build_site(
                output, settings=settings, content=content, overrides=overrides
            )
        built = time.perf_counter()
        built_at = datetime.now(UTC)
        siteurl = read_siteurl(settings, overrides)
        with out.status("Checking links, assets, feeds and pages…"):
            report = check_site(
                output,
                siteurl,
                size_budget=size_budget,
                cache=check_cache or root / CHECK_CACHE,
            )
        checked = time.perf_counter()
        if not report.ok:
            out.print(format_report(report), markup=False, highlight=False)
            raise PublishError(
                f"The check found {counted(len(report.errors), 'error')} in the build "
                f"(listed above); nothing was uploaded and {site.spec} is unchanged."
            )
        if report.warnings:
            out.print(format_report(report), markup=False, highlight=False)

        with out.status(f"Uploading to {site.spec}…"):
            scan = Build.scan(output)
            current = live.name if live else None
            if current and not force and site.checksums(current) == scan.checksums:
                timings = Timings(built - started, checked - built, 0.0, pelican)
                out.print(
                    f"[bold]Nothing changed[/] since release {current}: "
                    f"{site.spec} is left as it is (use --force for a new release)."
                )
                _print_timings(out, timings, None)
                return PublishResult(site.spec, current, current, timings, None, report)
            inputs = [*BUILD_INPUTS, settings, *([content] if content else [])]
            commit, dirty = git_commit(root, inputs)
            name = release_name(datetime.now(UTC), [r.name for r in releases])
            manifest = Manifest(
                name=name,
                built_at=built_at.isoformat(timespec="seconds"),
                commit=commit,
                dirty=dirty,
                siteurl=siteurl,
                files=len(scan.checksums),
                bytes=scan.bytes,
            )
            transfer = site.upload(scan, manifest, basis=current)
            site.switch(name)
        uploaded = time.perf_counter()
        pruned = plan_prune(site.releases(), keep)
        site.remove(pruned)  # also clears uploads that broke off earlier

    timings = Timings(built - started, checked - built, uploaded - checked, pelican)
    out.print(
        f"[bold green]Published[/] release {name} to {site.spec}"
        + (f" (commit {commit[:10]}{'+changes' if dirty else ''})" if commit else "")
    )
    _print_timings(out, timings, transfer)
    if pruned:
        out.print(f"Removed {counted(len(pruned), 'old release')}: {', '.join(pruned)}")
    return PublishResult(
        site.spec, name, current, timings, transfer, report, tuple(pruned)
    )


def rollback(
    target: str | None = None,
    to: str | None = None,
    *,
    console: Console | None = None,
    root: Path = ROOT,
) -> Release:
    """Point `current` at the release before it, or at release ``to``."""
    out = _console(console)
    site = _open(target, root)
    site.preflight()
    releases = site.releases()
    names = [r.name for r in releases]
    current = next((r.name for r in releases if r.current), None)
    if to is not None:
        if to not in names:
            raise PublishError(
                f"There is no release {to!r} on {site.spec}; there are: "
                f"{', '.join(names) or 'none'}. `invoke releases` lists them."
            )
        chosen = to
    else:
        if current is None or current not in names:
            raise PublishError(
                f"{site.spec} has no current release to roll back from: "
                "publish first, or pick one with --to RELEASE."
            )
        index = names.index(current)
        if index == 0:
            raise PublishError(
                f"Release {current} is the oldest on {site.spec}: there is nothing "
                "earlier to roll back to."
            )
        chosen = names[index - 1]
    with site.lock():
        site.switch(chosen)
    out.print(
        f"[bold green]Rolled back[/] {site.spec}: current is now {chosen}"
        + (f" (was {current})" if current else "")
    )
    return next(Release(r.name, r.manifest, True) for r in releases if r.name == chosen)


def list_releases(
    target: str | None = None, *, console: Console | None = None, root: Path = ROOT
) -> list[Release]:
    """Print the releases on the target with their dates and commits."""
    out = _console(console)
    site = _open(target, root)
    site.preflight()
    releases = site.releases()
    if not releases:
        out.print(f"No releases on {site.spec} yet: `invoke publish` makes one.")
        return releases
    table = Table(title=f"Releases on {site.spec}")
    table.add_column("")
    table.add_column("release (UTC)", no_wrap=True)
    table.add_column("built", no_wrap=True)
    table.add_column("commit", no_wrap=True)
    table.add_column("files", justify="right")
    table.add_column("size", justify="right", no_wrap=True)
    for release in reversed(releases):
        m = release.manifest
        commit = ""
        if m and m.commit:
            commit = m.commit[:10] + ("+changes" if m.dirty else "")
        table.add_row(
            "▶" if release.current else "",
            release.name,
            _local_time(m.built_at) if m else "?",
            commit or "?",
            f"{m.files:,}" if m else "?",
            _size(m.bytes) if m else "?",
        )
    out.print(table)
    return releases


def check(
    output_dir: Path | str,
    *,
    siteurl: str | None = None,
    size_budget: int = DEFAULT_SIZE_BUDGET,
    console: Console | None = None,
    drafts: bool = False,
    cache: Path | None = ROOT / CHECK_CACHE,
) -> CheckReport:
    """Check a built site and print the report; PublishError if it has errors.

    Drafts are left out unless ``drafts`` (a preview's output).

    ``siteurl`` defaults to the one the site was built with (read from the
    canonical link of its home page).
    """
    out = _console(console)
    output_dir = Path(output_dir)
    if not (output_dir / "index.html").is_file():
        raise PublishError(
            f"{output_dir} has no index.html: build the site first (`invoke build`)."
        )
    if siteurl is None:
        siteurl = guess_siteurl(output_dir)
    started = time.perf_counter()
    report = check_site(
        output_dir, siteurl, size_budget=size_budget, drafts=drafts, cache=cache
    )
    elapsed = time.perf_counter() - started
    out.print(format_report(report), markup=False, highlight=False)
    reused = f", {report.reused:,} known from {cache}" if cache else ""
    out.print(
        f"({elapsed:.2f} s, {counted(report.parsed, 'file')} parsed{reused}, "
        f"site URL {siteurl or '(relative)'})"
    )
    if not report.ok:
        raise PublishError(
            f"{output_dir} has {counted(len(report.errors), 'error')}: fix "
            f"{'it' if len(report.errors) == 1 else 'them'} and build again."
        )
    return report


def guess_siteurl(output_dir: Path) -> str:
    """The SITEURL a site was built with, from its home page's canonical link."""
    from lxml import etree  # noqa: PLC0415

    try:
        doc = etree.parse(str(output_dir / "index.html"), etree.HTMLParser())
    except (OSError, etree.ParseError):
        return ""
    hrefs = doc.xpath(
        '//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content'
    )
    if not hrefs:
        return ""
    url = str(hrefs[0]).strip()
    return url.removesuffix("index.html").rstrip("/")


def _print_timings(out: Console, timings: Timings, transfer: Transfer | None) -> None:
    table = Table(show_header=True, header_style="bold")
    for column in ("build", "check", "upload", "total", "sent", "reused"):
        table.add_column(column, justify="right")
    sent = reused = "—"
    if transfer is not None:
        sent = f"{transfer.files_sent:,} files, {_size(transfer.bytes_sent)}"
        reused = f"{transfer.files_linked:,} of {transfer.files_total:,} files"
    table.add_row(
        f"{timings.build:.2f} s",
        f"{timings.check:.2f} s",
        f"{timings.upload:.2f} s",
        f"{timings.total:.2f} s",
        sent,
        reused,
    )
    out.print(table)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


__all__: Sequence[str] = (
    "PublishResult",
    "Timings",
    "check",
    "list_releases",
    "publish",
    "resolve_target",
    "rollback",
)
