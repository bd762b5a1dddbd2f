"""piazza.publish end to end: the sample site built, checked, released, rolled back."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, build_site, run_pelican
from isso_server import new_comment, running_isso
from rich.console import Console
from sshd import running_sshd

from piazza import publish as publishing
from piazza import release, scratch
from piazza.check import Kind, check_site
from piazza.errors import PublishError
from piazza.publish import (
    check,
    list_releases,
    publish,
    read_siteurl,
    resolve_target,
    rollback,
)
from piazza.release import Build
from piazza.search import index_site

POST = """\
Title: {title}
Date: 2026-04-01 10:00
Category: Azienda
Tags: test
Slug: {slug}
Lang: it
Summary: Un articolo di prova.

{body}
"""


@pytest.fixture
def content(tmp_path) -> Path:
    return shutil.copytree(ROOT / "content", tmp_path / "content")


@pytest.fixture
def target(tmp_path) -> Path:
    path = tmp_path / "target"
    path.mkdir()
    return path


@pytest.fixture
def console() -> Console:
    return Console(file=io.StringIO(), width=160, color_system=None)


def printed(console: Console) -> str:
    return console.file.getvalue()


def add_post(content: Path, slug: str, body: str = "Testo di prova.") -> Path:
    path = content / "posts" / f"{slug}.it.md"
    path.write_text(POST.format(title=slug, slug=slug, body=body), encoding="utf-8")
    return path


def live(target: Path) -> str:
    return Path(os.readlink(target / "current")).name


def served(target: Path) -> dict[str, str]:
    return Build.scan(target / "current").checksums


def names(target: Path) -> list[str]:
    return sorted(p.name for p in (target / "releases").iterdir() if p.is_dir())


def test_publish_twice_then_roll_back(content, target, tmp_path, console):
    first = publish(str(target), content=content, console=console)
    assert first.changed
    assert live(target) == first.release
    add_post(content, "nuovo-articolo")
    second = publish(str(target), content=content, console=console)
    assert second.previous == first.release
    assert live(target) == second.release
    assert names(target) == [first.release, second.release]
    # What is served is exactly what this content builds to.
    reference = run_pelican(tmp_path / "reference", content=content)
    assert reference.returncode == 0, reference.log
    index_site(reference.output)  # as publishing does, after Pelican
    assert served(target) == Build.scan(reference.output).checksums
    assert (target / "current" / "2026" / "nuovo-articolo" / "index.html").is_file()
    # Only what changed was copied; the rest are links to the first release.
    assert 0 < second.transfer.files_sent < second.transfer.files_total / 2
    assert second.transfer.files_linked > 0

    rolled = rollback(str(target), console=console)
    assert rolled.name == first.release
    assert live(target) == first.release
    assert served(target) == release.parse_checksums(
        (target / "releases" / f"{first.release}.sha256").read_text()
    )
    assert not (target / "current" / "2026" / "nuovo-articolo").exists()
    rollback(str(target), to=second.release, console=console)
    assert live(target) == second.release
    assert "Rolled back" in printed(console)


def test_publishing_the_same_site_twice_changes_nothing(content, target, console):
    first = publish(str(target), content=content, console=console)
    again = publish(str(target), content=content, console=console)
    assert not again.changed
    assert again.release == first.release
    assert names(target) == [first.release]
    assert "Nothing changed" in printed(console)


def test_the_manifest_records_the_commit_and_build(content, target, console):
    result = publish(str(target), content=content, console=console)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    listed = list_releases(str(target), console=console)
    assert [r.name for r in listed] == [result.release]
    manifest = listed[0].manifest
    assert manifest.commit == head
    # Built from a copy of content/ outside the repository: not that commit.
    assert manifest.dirty is True
    assert manifest.files == result.transfer.files_total
    assert manifest.siteurl == "https://www.officineardesia.example"
    assert result.release in printed(console)
    assert head[:10] in printed(console)


def test_a_broken_post_fails_the_build_and_the_live_site_stays(
    content, target, console
):
    first = publish(str(target), content=content, console=console)
    before = served(target)
    add_post(content, "rotto", body="[link]({filename}/posts/non-esiste.md)")
    with pytest.raises(PublishError, match="build failed") as failure:
        publish(str(target), content=content, console=console)
    assert "live site is unchanged" in str(failure.value)
    assert live(target) == first.release
    assert names(target) == [first.release]
    assert served(target) == before


def test_a_post_that_fails_the_check_is_not_published(content, target, console):
    first = publish(str(target), content=content, console=console)
    add_post(
        content, "immagine", body='<img src="/images/non-esiste.png" alt="una foto">'
    )
    with pytest.raises(PublishError, match="check found 1 error"):
        publish(str(target), content=content, console=console)
    assert "images/non-esiste.png" in printed(console)
    assert live(target) == first.release
    assert names(target) == [first.release]


def test_an_interrupted_upload_leaves_live_and_the_next_publish_recovers(
    content, target, console, monkeypatch
):
    first = publish(str(target), content=content, console=console)
    before = served(target)
    add_post(content, "dopo-il-guasto")
    calls = []

    def breaks_after_one(source: Path, dest: Path) -> None:
        if calls:
            raise OSError(5, "Input/output error")
        calls.append(dest)
        shutil.copyfile(source, dest)

    monkeypatch.setattr(release, "copy_file", breaks_after_one)
    with pytest.raises(PublishError, match="live site is unchanged"):
        publish(str(target), content=content, console=console)
    assert live(target) == first.release
    assert served(target) == before
    assert not list((target / "releases").glob(".incoming-*"))
    monkeypatch.undo()
    second = publish(str(target), content=content, console=console)
    assert live(target) == second.release
    assert (target / "current" / "2026" / "dopo-il-guasto" / "index.html").is_file()


def test_a_missing_target_fails_before_anything_is_built(tmp_path, monkeypatch):
    def no_build(*args, **kwargs):
        raise AssertionError("built although the target is missing")

    monkeypatch.setattr(publishing, "build_site", no_build)
    missing = tmp_path / "not-there"
    with pytest.raises(PublishError, match=f"{missing} does not exist"):
        publish(str(missing))


def test_the_search_index_starts_while_pelican_finishes(
    content, target, console, caplog
):
    with caplog.at_level(logging.DEBUG, logger="piazza.search"):
        made = publish(str(target), content=content, console=console)
    assert made.changed
    # plugins/search said the pages were written before Pelican ended, and
    # the index Pagefind started then was the index of the finished pages
    assert "started while the build finished and kept" in caplog.text


def test_a_publish_builds_where_it_is_told_and_leaves_nothing_there(
    content, target, tmp_path, console, monkeypatch
):
    builds = tmp_path / "builds"
    builds.mkdir()
    monkeypatch.setenv("PIAZZA_BUILD_DIR", str(builds))
    outputs = []
    real = publishing.build_site

    def spied(output, **kwargs):
        outputs.append(output)
        assert output.parent.parent == builds  # piazza-build-*/output
        return real(output, **kwargs)

    monkeypatch.setattr(publishing, "build_site", spied)
    made = publish(str(target), content=content, console=console)
    assert made.changed and len(outputs) == 1
    assert list(builds.iterdir()) == []  # the build went with the publish
    monkeypatch.setenv("PIAZZA_BUILD_DIR", str(tmp_path / "not-there"))
    with pytest.raises(
        PublishError, match=r"build folder .*not-there .*PIAZZA_BUILD_DIR"
    ):
        publish(str(target), content=content, console=console)
    assert len(outputs) == 1  # refused before building


def test_a_publish_builds_in_memory_when_there_is_room(tmp_path, monkeypatch):
    monkeypatch.delenv("PIAZZA_BUILD_DIR", raising=False)
    (tmp_path / "invoke.yaml").write_text("piazza:\n  target:\n")
    # a folder on the disk is not memory, whatever its name
    if scratch.filesystem_type(tmp_path) != "tmpfs":
        assert publishing.build_parent(tmp_path, memory=tmp_path) == (None, "disk")
    memory = scratch.memory_folder()
    if memory is None and not os.environ.get("CI"):
        pytest.skip("no tmpfs with room in /dev/shm")
    assert memory is not None, "CI machines have a tmpfs in /dev/shm"
    assert publishing.build_parent(tmp_path) == (memory, "memory")
    free = os.statvfs(memory).f_bavail * os.statvfs(memory).f_frsize
    # a site four times the size of what is free is built on the disk
    assert publishing.build_parent(tmp_path, last_size=free // 4 + 1) == (None, "disk")
    (tmp_path / "invoke.yaml").write_text(f"piazza:\n  build_dir: {tmp_path}\n")
    assert publishing.build_parent(tmp_path) == (tmp_path, "chosen")
    (tmp_path / "builds").mkdir()  # a relative folder is the project's
    (tmp_path / "invoke.yaml").write_text("piazza:\n  build_dir: builds\n")
    assert publishing.build_parent(tmp_path) == (tmp_path / "builds", "chosen")


def test_a_first_publish_too_big_for_memory_builds_on_disk(
    content, target, console, monkeypatch
):
    monkeypatch.delenv("PIAZZA_BUILD_DIR", raising=False)
    memory = scratch.memory_folder()
    if memory is None and not os.environ.get("CI"):
        pytest.skip("no tmpfs with room in /dev/shm")
    outputs = []
    real = publishing.build_site

    def spied(output, **kwargs):
        outputs.append(output)
        return real(output, **kwargs)

    monkeypatch.setattr(publishing, "build_site", spied)
    # sources said to make a release larger than the memory that is free
    monkeypatch.setattr(publishing, "FIRST_RELEASE_RATIO", 10**9)
    publish(str(target), content=content, console=console)
    assert not outputs[0].is_relative_to(memory)
    monkeypatch.setattr(publishing, "FIRST_RELEASE_RATIO", 16)
    publish(str(target), content=content, console=console, force=True)
    assert outputs[1].is_relative_to(memory)  # sized by the release now live


def test_builds_left_by_a_killed_publish_are_swept_and_others_kept(tmp_path):
    old, new, other = (tmp_path / n for n in ("piazza-build-a", "piazza-build-b", "x"))
    for folder in (old, new, other):
        (folder / "output").mkdir(parents=True)
    day_ago = time.time() - 25 * 3600
    for folder in (old, other):
        os.utime(folder, (day_ago, day_ago))
    link = tmp_path / "piazza-build-link"
    link.symlink_to(other)
    assert scratch.sweep(tmp_path, "piazza-build-") == [old]
    assert not old.exists() and new.is_dir() and other.is_dir() and link.is_symlink()


def test_pelican_runs_without_teardown_and_keeps_its_exit_status(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "piazza.pelican_main", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip()
    wrong = run("--no-such-option")
    assert wrong.returncode == 2 and "--no-such-option" in wrong.stderr
    missing = run(str(tmp_path / "no-content"), "-s", str(tmp_path / "no-settings.py"))
    assert missing.returncode != 0
    assert "no-settings.py" in missing.stdout + missing.stderr


def test_a_build_that_fails_with_a_pool_still_running_ends(tmp_path):
    # A build that fails before a plugin shuts its process pool down (pictures
    # does in `finalized`) must end as `python -m pelican` did, not wait for
    # the pool's workers for ever.
    script = (
        "import concurrent.futures, os\n"
        "from piazza import pelican_main\n"
        "pool = concurrent.futures.ProcessPoolExecutor(2)\n"
        "pool.submit(os.getpid).result()\n"
        "pelican_main._exit_now(3)\n"
    )
    ended = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ended.returncode == 3, ended.stderr


def test_only_the_newest_releases_are_kept(content, target, console):
    made = [
        publish(str(target), keep=2, content=content, force=True, console=console)
        for _ in range(3)
    ]
    assert names(target) == [made[1].release, made[2].release]
    assert made[2].pruned == (made[0].release,)
    assert not (target / "releases" / f"{made[0].release}.json").exists()


def test_the_target_comes_from_argument_env_or_invoke_yaml(tmp_path, monkeypatch):
    (tmp_path / "invoke.yaml").write_text("piazza:\n  target: /srv/from-yaml\n")
    monkeypatch.delenv("PIAZZA_TARGET", raising=False)
    assert resolve_target(None, tmp_path) == "/srv/from-yaml"
    monkeypatch.setenv("PIAZZA_TARGET", "deploy@host:/srv/from-env")
    assert resolve_target(None, tmp_path) == "deploy@host:/srv/from-env"
    assert resolve_target("/srv/from-arg", tmp_path) == "/srv/from-arg"
    monkeypatch.delenv("PIAZZA_TARGET")
    (tmp_path / "invoke.yaml").write_text("piazza:\n  target:\n")
    with pytest.raises(PublishError, match="No publish target"):
        resolve_target(None, tmp_path)


def test_rollback_needs_an_earlier_release(content, target, console):
    only = publish(str(target), content=content, console=console)
    with pytest.raises(PublishError, match=f"{only.release} is the oldest"):
        rollback(str(target), console=console)
    with pytest.raises(PublishError, match="no release '2001"):
        rollback(str(target), to="20010101T000000Z", console=console)


def test_check_reports_and_fails_on_errors(tmp_path, console):
    output = build_site(tmp_path / "output")
    report = check(output, console=console)
    assert report.ok
    assert "check OK" in printed(console)
    assert check_site(output, "https://www.officineardesia.example").ok
    (output / "feeds" / "all.atom.xml").write_text("<feed>", encoding="utf-8")
    with pytest.raises(PublishError, match="1 error"):
        check(output, console=console)
    assert "invalid-feed" in printed(console)


def test_publish_over_ssh(content, tmp_path, console, monkeypatch):
    with running_sshd(tmp_path / "sshd") as sshd:
        monkeypatch.setenv("PIAZZA_SSH", " ".join(sshd.ssh))
        root = tmp_path / "remote"
        root.mkdir()
        spec = sshd.spec(root)
        first = publish(spec, content=content, console=console)
        add_post(content, "via-ssh")
        second = publish(spec, content=content, console=console)
        assert live(root) == second.release
        assert (root / "current" / "2026" / "via-ssh" / "index.html").is_file()
        assert second.transfer.bytes_sent < second.transfer.bytes_total / 2
        assert [r.name for r in list_releases(spec, console=console)] == [
            first.release,
            second.release,
        ]
        rollback(spec, console=console)
        assert live(root) == first.release


def test_a_readers_links_never_stop_a_publish(content, target, tmp_path, console):
    """A published comment with a link to a page that is gone, a fragment and
    a javascript: link (Isso disarms it as #harmful-link) is reported, and
    the publish goes on; a broken link in a post still stops it."""
    siteurl = read_siteurl(ROOT / "publishconf.py")
    with running_isso(tmp_path / "isso") as isso:
        made = new_comment(
            isso.url,
            "/2026/lettera-di-un-cliente/",
            f"Come dicevo [sopra](#inizio) e [qui]({siteurl}/2020/non-esiste/): "
            "[clic](javascript:alert(1))",
            author="Lettore",
        )
        overrides = {"ISSO_API_URL": isso.url}
        result = publish(
            str(target), content=content, overrides=overrides, console=console
        )
        assert live(target) == result.release
        reader = [w for w in result.report.warnings if w.kind == Kind.READER_CONTENT]
        assert reader, printed(console)
        assert {w.page for w in reader} == {"2026/lettera-di-un-cliente/index.html"}
        label = f"comment isso-{made['id']}: "
        details = [w.detail for w in reader]
        assert all(d.startswith(label) for d in details), details
        for link in ("#inizio", "/2020/non-esiste/", "#harmful-link"):
            assert any(link in d for d in details), (link, details)
        assert label in printed(console)
        assert result.report.errors == []

        add_post(content, "link-rotto", body="[vecchio](/2020/non-esiste/)")
        with pytest.raises(PublishError, match="check found 1 error"):
            publish(str(target), content=content, overrides=overrides, console=console)
        assert live(target) == result.release
