"""piazza.release: whole uploads, atomic switches, pruning, on a folder or over ssh."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sshd import running_sshd

from piazza import release
from piazza.errors import PublishError
from piazza.release import (
    Build,
    LocalTarget,
    Manifest,
    Release,
    RemoteTarget,
    open_target,
    parse_checksums,
    plan_prune,
    release_name,
    sort_key,
)


def make_build(root: Path, files: dict[str, str]) -> Build:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Build.scan(root)


SITE_V1 = {
    "index.html": "<title>v1</title>",
    "2026/post/index.html": "<title>post</title>" + "x" * 5000,
    "theme/css/main.css": "body{}" * 100,
    "feeds/all.atom.xml": "<feed/>",
}
SITE_V2 = {**SITE_V1, "index.html": "<title>v2</title>", "new/index.html": "<p>new"}


def manifest(name: str, build: Build) -> Manifest:
    return Manifest(
        name=name,
        built_at="2026-01-01T00:00:00+00:00",
        commit="0" * 40,
        files=len(build.checksums),
        bytes=build.bytes,
    )


def publish_build(target, build: Build, name: str) -> None:
    current = next((r.name for r in target.releases() if r.current), None)
    target.upload(build, manifest(name, build), basis=current)
    target.switch(name)


def served(root: Path) -> dict[str, str]:
    return Build.scan(root / "current").checksums


# ------------------------------------------------------------------ naming


def test_release_names_are_utc_timestamps_that_sort_in_time_order():
    now = datetime(2026, 5, 22, 12, 15, 30, tzinfo=UTC)
    assert release_name(now, []) == "20260522T121530Z"
    assert release_name(now, ["20260522T121530Z"]) == "20260522T121530Z-2"
    taken = ["20260522T121530Z", "20260522T121530Z-2"]
    assert release_name(now, taken) == "20260522T121530Z-3"
    # A clock that went back still yields a name after the newest.
    assert release_name(now, ["20270101T000000Z"]) == "20270101T000000Z-2"
    names = ["20260522T121530Z-10", "20260522T121530Z-2", "20260522T121530Z"]
    assert sorted(names, key=sort_key) == [
        "20260522T121530Z",
        "20260522T121530Z-2",
        "20260522T121530Z-10",
    ]


def test_prune_keeps_the_newest_and_the_current_release():
    names = [f"2026010{i}T000000Z" for i in range(1, 8)]
    releases = [Release(n, None, current=(n == names[1])) for n in names]
    assert plan_prune(releases, 3) == [names[0], names[2], names[3]]
    assert plan_prune(releases, 0) == names[:1] + names[2:-1]


@pytest.mark.parametrize(
    ("spec", "kind", "host", "path"),
    [
        ("/srv/piazza", LocalTarget, None, "/srv/piazza"),
        (
            "deploy@example.com:/srv/piazza",
            RemoteTarget,
            "deploy@example.com",
            "/srv/piazza",
        ),
        ("example.com:site", RemoteTarget, "example.com", "site"),
        (
            "ssh://deploy@example.com:2222/srv/p",
            RemoteTarget,
            "deploy@example.com",
            "/srv/p",
        ),
    ],
)
def test_targets_are_local_folders_or_ssh_hosts(spec, kind, host, path):
    target = open_target(spec)
    assert isinstance(target, kind)
    if host:
        assert target.host == host
        assert target.path == path
    else:
        assert target.root == Path(path)


def test_an_ssh_url_port_reaches_ssh():
    target = open_target("ssh://u@h:2222/srv", ssh=("ssh", "-i", "key"))
    assert target.ssh == ["ssh", "-i", "key", "-p", "2222"]


def test_an_empty_target_says_how_to_configure_one():
    with pytest.raises(PublishError, match="PIAZZA_TARGET"):
        open_target("  ")


def test_checksums_round_trip_in_sha256sum_format(tmp_path):
    build = make_build(tmp_path, SITE_V1)
    assert parse_checksums(build.checksum_text()) == build.checksums
    if shutil.which("sha256sum"):
        check = subprocess.run(
            ["sha256sum", "--check", "--quiet", "-"],
            input=build.checksum_text(),
            cwd=tmp_path,
            text=True,
            capture_output=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_a_scan_lists_files_by_their_paths_parts_with_sizes_and_digests(tmp_path):
    files = {"a-b.html": b"one", "a/b.html": b"two" * 400_000, "a/a.css": b""}
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    build = Build.scan(tmp_path)
    # a folder's files before a name that only starts like it (as Path sorts)
    assert list(build.checksums) == ["a/a.css", "a/b.html", "a-b.html"]
    assert build.checksums == {
        rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()
    }
    assert build.sizes == {rel: len(data) for rel, data in files.items()}


# ------------------------------------------------------------------- local


@pytest.fixture
def target(tmp_path) -> LocalTarget:
    root = tmp_path / "target"
    root.mkdir()
    site = open_target(str(root))
    site.preflight()
    return site


def test_a_release_is_uploaded_whole_then_switched_atomically(target, tmp_path):
    build = make_build(tmp_path / "b1", SITE_V1)
    publish_build(target, build, "20260101T000000Z")
    current = target.root / "current"
    assert current.is_symlink()
    assert os.readlink(current) == "releases/20260101T000000Z"  # relative
    assert served(target.root) == build.checksums
    assert [r.name for r in target.releases()] == ["20260101T000000Z"]
    assert target.releases()[0].manifest == manifest("20260101T000000Z", build)
    assert target.checksums("20260101T000000Z") == build.checksums
    assert not list(target.releases_dir.glob(".incoming-*"))
    assert not list(target.root.glob(".current.*"))


def test_unchanged_files_are_hard_links_to_the_live_release(target, tmp_path):
    first = make_build(tmp_path / "b1", SITE_V1)
    second = make_build(tmp_path / "b2", SITE_V2)
    publish_build(target, first, "20260101T000000Z")
    transfer = target.upload(
        second, manifest("20260102T000000Z", second), basis="20260101T000000Z"
    )
    target.switch("20260102T000000Z")
    assert transfer.files_sent == 2  # index.html changed, new/index.html is new
    assert transfer.files_linked == len(SITE_V1) - 1
    assert (
        transfer.bytes_sent
        == second.sizes["index.html"] + second.sizes["new/index.html"]
    )
    old, new = (
        target.releases_dir / "20260101T000000Z",
        target.releases_dir / "20260102T000000Z",
    )
    post = "2026/post/index.html"
    assert (old / post).stat().st_ino == (new / post).stat().st_ino
    assert (old / "index.html").read_text() == "<title>v1</title>"
    assert served(target.root) == second.checksums


def test_released_files_are_world_readable(target, tmp_path):
    build_dir = tmp_path / "b1"
    build = make_build(build_dir, SITE_V1)
    os.chmod(build_dir / "index.html", 0o600)
    publish_build(target, build, "20260101T000000Z")
    live = target.root / "current"
    assert (live / "index.html").stat().st_mode & 0o777 == 0o644
    assert (live / "2026" / "post").stat().st_mode & 0o777 == 0o755
    assert (target.releases_dir / "20260101T000000Z").stat().st_mode & 0o777 == 0o755


def test_a_broken_upload_leaves_the_live_release_alone(target, tmp_path, monkeypatch):
    first = make_build(tmp_path / "b1", SITE_V1)
    second = make_build(tmp_path / "b2", SITE_V2)
    publish_build(target, first, "20260101T000000Z")
    copied = []

    def failing_copy(source: Path, dest: Path) -> None:
        if copied:
            raise OSError(28, "No space left on device")
        copied.append(dest)
        shutil.copyfile(source, dest)

    monkeypatch.setattr(release, "copy_file", failing_copy)
    with pytest.raises(PublishError, match="live site is unchanged"):
        target.upload(
            second, manifest("20260102T000000Z", second), basis="20260101T000000Z"
        )
    assert os.readlink(target.root / "current") == "releases/20260101T000000Z"
    assert served(target.root) == first.checksums
    assert [r.name for r in target.releases()] == ["20260101T000000Z"]
    assert not list(target.releases_dir.glob(".incoming-*"))
    monkeypatch.undo()
    publish_build(target, second, "20260102T000000Z")
    assert served(target.root) == second.checksums


def test_switch_refuses_a_release_that_is_not_there(target):
    with pytest.raises(PublishError, match="no release 20990101T000000Z"):
        target.switch("20990101T000000Z")


def test_remove_keeps_the_current_release_and_clears_stale_uploads(target, tmp_path):
    build = make_build(tmp_path / "b1", SITE_V1)
    for day in (1, 2, 3):
        publish_build(target, build, f"2026010{day}T000000Z")
    target.switch("20260101T000000Z")
    (target.releases_dir / ".incoming-20260104T000000Z").mkdir()
    target.remove(["20260101T000000Z", "20260102T000000Z"])
    assert [r.name for r in target.releases()] == [
        "20260101T000000Z",
        "20260103T000000Z",
    ]
    assert not (target.releases_dir / "20260102T000000Z.json").exists()
    assert not (target.releases_dir / ".incoming-20260104T000000Z").exists()


def test_preflight_names_a_missing_target(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(PublishError, match=f"{missing} does not exist"):
        open_target(str(missing)).preflight()


def test_preflight_names_an_unwritable_target(tmp_path, monkeypatch):
    # root may write anywhere, so the permission answer is faked here.
    monkeypatch.setattr(release.os, "access", lambda path, mode: False)
    with pytest.raises(PublishError, match="not writable"):
        open_target(str(tmp_path)).preflight()


def test_preflight_refuses_a_current_that_is_a_real_folder(tmp_path):
    (tmp_path / "current").mkdir()
    with pytest.raises(PublishError, match="real folder"):
        open_target(str(tmp_path)).preflight()


def test_two_publishes_to_one_folder_exclude_each_other(target):
    with target.lock(), pytest.raises(PublishError, match="Another publish"):
        # A second process would block on the same lock file.
        subprocess_lock(target.root)


def subprocess_lock(root: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from piazza.release import open_target
        from piazza.errors import PublishError
        try:
            with open_target({str(root)!r}).lock():
                pass
        except PublishError as exc:
            print(exc)
            sys.exit(3)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    if proc.returncode == 3:
        raise PublishError(proc.stdout.strip())
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------ remote


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def remote(sshd, tmp_path) -> RemoteTarget:
    root = tmp_path / "remote"
    root.mkdir()
    site = open_target(sshd.spec(root), ssh=sshd.ssh)
    site.preflight()
    return site


def test_over_ssh_a_release_is_uploaded_switched_and_listed(remote, tmp_path):
    root = Path(remote.path)
    first = make_build(tmp_path / "b1", SITE_V1)
    second = make_build(tmp_path / "b2", SITE_V2)
    publish_build(remote, first, "20260101T000000Z")
    assert served(root) == first.checksums
    t2 = remote.upload(
        second, manifest("20260102T000000Z", second), basis="20260101T000000Z"
    )
    remote.switch("20260102T000000Z")
    assert os.readlink(root / "current") == "releases/20260102T000000Z"
    assert served(root) == second.checksums
    assert t2.files_sent == 2
    assert t2.files_linked == len(SITE_V2) - 2
    post = "2026/post/index.html"
    assert (root / "releases/20260101T000000Z" / post).stat().st_ino == (
        root / "releases/20260102T000000Z" / post
    ).stat().st_ino
    listed = remote.releases()
    assert [(r.name, r.current) for r in listed] == [
        ("20260101T000000Z", False),
        ("20260102T000000Z", True),
    ]
    assert listed[1].manifest == manifest("20260102T000000Z", second)
    assert remote.checksums("20260102T000000Z") == second.checksums
    remote.remove(["20260101T000000Z"])
    assert [r.name for r in remote.releases()] == ["20260102T000000Z"]


def test_over_ssh_a_missing_folder_is_named(sshd, tmp_path):
    site = open_target(sshd.spec(tmp_path / "nope"), ssh=sshd.ssh)
    with pytest.raises(PublishError, match="does not exist"):
        site.preflight()


KILLER = """\
import os, signal, subprocess, sys, time
args = sys.argv[1:]
incoming = args[-1].split(":", 1)[1]
proc = subprocess.Popen(["rsync", "--bwlimit=20", *args])
deadline = time.monotonic() + 60
while time.monotonic() < deadline and proc.poll() is None:
    if os.path.isdir(incoming) and any(os.scandir(incoming)):
        break
    time.sleep(0.01)
os.kill(proc.pid, signal.SIGKILL)
proc.wait()
sys.exit(137)
"""


def test_over_ssh_a_killed_rsync_leaves_the_live_release(sshd, tmp_path):
    root = tmp_path / "remote"
    root.mkdir()
    killer = tmp_path / "rsync-killer"
    killer.write_text(f"#!{sys.executable}\n{KILLER}")
    killer.chmod(0o755)
    site = open_target(sshd.spec(root), ssh=sshd.ssh)
    site.preflight()
    first = make_build(tmp_path / "b1", SITE_V1)
    publish_build(site, first, "20260101T000000Z")
    big = {**SITE_V2, **{f"p{i}/index.html": "y" * 20_000 for i in range(30)}}
    second = make_build(tmp_path / "b2", big)
    broken = open_target(sshd.spec(root), ssh=sshd.ssh, rsync=str(killer))
    with pytest.raises(PublishError, match="broke off"):
        broken.upload(
            second, manifest("20260102T000000Z", second), basis="20260101T000000Z"
        )
    assert os.readlink(root / "current") == "releases/20260101T000000Z"
    assert served(root) == first.checksums
    assert [r.name for r in site.releases()] == ["20260101T000000Z"]
    publish_build(site, second, "20260102T000000Z")
    assert served(root) == second.checksums


# ------------------------------------------------------------ the dirty flag


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """A real git repository laid out like the project, everything committed."""
    root = tmp_path / "repo"
    for rel, text in {
        "content/posts/a.it.md": "Title: A\n",
        "theme/templates/base.html": "<html></html>",
        "plugins/x/__init__.py": "",
        "pelicanconf.py": "SITENAME = 'x'\n",
        "tasks.py": "",
        ".gitignore": "/var/\n/output/\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    git(root.parent, "init", "-q", str(root))
    git(root, "add", "-A")
    git(
        root,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "commit",
        "-qm",
        "Start",
    )
    return root


def test_a_build_from_a_clean_commit_is_not_dirty(repo):
    (repo / "var").mkdir()
    (repo / "var" / "cache.db").write_text("ignored", encoding="utf-8")
    (repo / "notes.txt").write_text("not a build input", encoding="utf-8")
    commit, dirty = release.git_commit(repo)
    assert commit == git(repo, "rev-parse", "HEAD").strip()
    assert dirty is False


@pytest.mark.parametrize(
    "rel",
    [
        "content/posts/never-committed.it.md",
        "theme/static/css/new.css",
        "plugins/x/new.py",
        "publishconf.py",
    ],
)
def test_an_untracked_build_input_makes_the_build_dirty(repo, rel):
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text("new", encoding="utf-8")
    assert release.git_commit(repo)[1] is True


def test_a_modified_or_staged_file_makes_the_build_dirty(repo):
    post = repo / "content/posts/a.it.md"
    post.write_text("Title: B\n", encoding="utf-8")
    assert release.git_commit(repo)[1] is True
    git(repo, "add", "-A")
    assert release.git_commit(repo)[1] is True


def test_content_from_outside_the_repository_is_dirty(repo, tmp_path):
    elsewhere = tmp_path / "content"
    elsewhere.mkdir()
    assert release.git_commit(repo, [*release.BUILD_INPUTS, elsewhere])[1] is True
    assert release.git_commit(repo, [*release.BUILD_INPUTS, repo / "content"]) == (
        git(repo, "rev-parse", "HEAD").strip(),
        False,
    )


def test_outside_a_repository_there_is_no_commit(tmp_path):
    assert release.git_commit(tmp_path) == (None, False)
