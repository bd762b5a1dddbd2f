"""Releases on a publish target: upload whole, switch atomically, keep a few.

A target is a folder, on this machine or on a server reached by ssh, laid out as::

    releases/20260522T101530Z/        the site as built (nginx serves current/)
    releases/20260522T101530Z.json    manifest: build time, git commit, sizes
    releases/20260522T101530Z.sha256  checksums of every file (sha256sum -c works)
    current -> releases/20260522T101530Z

An upload goes to ``releases/.incoming-<name>/`` and is renamed into place only
once complete; ``current`` is switched by renaming a new symlink over it, so a
reader sees either the old site or the new one, never a mix. Unchanged files are
hard links to the live release: locally by checksum, remotely with rsync
``--checksum --link-dest``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Protocol

from piazza.errors import PublishError

_CHUNK = 1 << 20  # what a build's file is read by, at most

DEFAULT_KEEP = 5
RELEASES = "releases"
CURRENT = "current"
INCOMING = ".incoming-"
LOCK = ".piazza-publish.lock"
_NAME = re.compile(r"^\d{8}T\d{6}Z(?:-\d+)?$")
_REMOTE = re.compile(r"^(?P<host>[^/:@\s]+@[^/:\s]+|[^/:\s]+):(?P<path>.*)$")
_SSH_URL = re.compile(
    r"^ssh://(?P<host>[^/:\s]+@[^/:\s]+|[^/:\s]+)(?::(?P<port>\d+))?(?P<path>/.*)$"
)
_FILE_MODE = 0o644
_DIR_MODE = 0o755


@dataclass(frozen=True)
class Manifest:
    """What a release is: when it was built, from which commit, how big."""

    name: str
    built_at: str
    commit: str | None = None
    dirty: bool = False
    siteurl: str = ""
    files: int = 0
    bytes: int = 0

    def to_json(self) -> str:
        """One line of JSON (the remote listing reads it line by line)."""
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Manifest | None:
        """The manifest in ``text``, or None if it's unreadable."""
        try:
            data = json.loads(text)
            known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            return cls(**known)
        except (ValueError, TypeError, KeyError):
            return None


@dataclass(frozen=True)
class Release:
    """A release on a target, as listed."""

    name: str
    manifest: Manifest | None
    current: bool = False

    @property
    def published_at(self) -> datetime:
        """When it was uploaded (from its name, which is a UTC timestamp)."""
        return datetime.strptime(self.name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Transfer:
    """What an upload cost: files and bytes actually sent, and files reused."""

    files_sent: int
    bytes_sent: int
    files_linked: int
    files_total: int
    bytes_total: int


@dataclass(frozen=True)
class Build:
    """A built site ready to upload: its folder and the checksum of every file."""

    path: Path
    checksums: dict[str, str] = field(repr=False)
    sizes: dict[str, int] = field(repr=False)

    @classmethod
    def scan(cls, path: Path) -> Build:
        """Hash every file under ``path`` (sha256), in the order of their
        paths' parts. Strings and os calls rather than Path objects: at
        22,000 files that is 0.5 s instead of 0.8."""
        root = os.fspath(path)
        cut = len(root.rstrip(os.sep)) + 1
        found = [
            os.path.join(folder, name)
            for folder, _dirs, names in os.walk(root)
            for name in names
        ]
        found.sort(key=lambda full: full[cut:].split(os.sep))
        checksums: dict[str, str] = {}
        sizes: dict[str, int] = {}
        for full in found:
            rel = full[cut:].replace(os.sep, "/")
            digest = hashlib.sha256()
            size = 0
            with open(full, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            checksums[rel] = digest.hexdigest()
            sizes[rel] = size
        return cls(path, checksums, sizes)

    @property
    def bytes(self) -> int:
        """Total size of the build."""
        return sum(self.sizes.values())

    def checksum_text(self) -> str:
        """The checksums in ``sha256sum`` format."""
        return "".join(f"{digest}  {rel}\n" for rel, digest in self.checksums.items())


def parse_checksums(text: str) -> dict[str, str]:
    """Read ``sha256sum`` output back into {path: digest}."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        digest, sep, rel = line.partition("  ")
        if sep and len(digest) == 64:
            result[rel] = digest
    return result


def release_name(now: datetime, taken: Sequence[str]) -> str:
    """A new release's name: the UTC time, sorting after every name in ``taken``.

    Two publishes in the same second (or a clock that went back) get the latest
    name with -2, -3... appended, so the newest release always sorts last.
    """
    name = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if taken:
        latest = max(taken, key=sort_key)
        if sort_key(name) <= sort_key(latest):
            base, number = sort_key(latest)
            name = f"{base}-{number + 1}"
    return name


def sort_key(name: str) -> tuple[str, int]:
    """Order release names by time, then by collision number."""
    base, _, number = name.partition("-")
    return base, int(number or 1)


class Target(Protocol):
    """A place releases live: a local folder or a folder on an ssh server."""

    spec: str

    def preflight(self) -> None:
        """Fail with PublishError unless the target exists and is writable."""

    def releases(self) -> list[Release]:
        """Releases on the target, oldest first."""

    def checksums(self, name: str) -> dict[str, str]:
        """The checksums recorded for release ``name`` ({} if none)."""

    def upload(self, build: Build, manifest: Manifest, basis: str | None) -> Transfer:
        """Upload ``build`` as release ``manifest.name``, reusing ``basis``."""

    def switch(self, name: str) -> None:
        """Point ``current`` at release ``name``, atomically."""

    def remove(self, names: Sequence[str]) -> None:
        """Delete releases (never the current one) and stale incoming uploads."""

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the target's publish lock for the duration."""


def open_target(
    spec: str, *, ssh: Sequence[str] = ("ssh",), rsync: str = "rsync"
) -> LocalTarget | RemoteTarget:
    """The target named by ``spec``: a local path, ``user@host:path`` or ssh://.

    ``ssh`` is the ssh command (with options such as ``-i key``) rsync and the
    remote commands use; ``rsync`` is the rsync program.
    """
    spec = spec.strip()
    if not spec:
        raise PublishError(
            "No publish target: set piazza.target in invoke.yaml or PIAZZA_TARGET, "
            "or pass --target PATH or --target user@host:path."
        )
    match = _SSH_URL.match(spec)
    if match:
        port = match.group("port")
        command = [*ssh, "-p", port] if port else list(ssh)
        return RemoteTarget(
            spec, match.group("host"), match.group("path"), command, rsync
        )
    match = _REMOTE.match(spec)
    if match and not Path(spec).exists():
        path = match.group("path") or "."
        return RemoteTarget(spec, match.group("host"), path, list(ssh), rsync)
    return LocalTarget(spec, Path(spec).expanduser())


def plan_prune(releases: Sequence[Release], keep: int) -> list[str]:
    """Names of the releases to delete to keep the newest ``keep`` (and current)."""
    keep = max(keep, 1)
    names = [r.name for r in releases]
    kept = set(names[-keep:]) | {r.name for r in releases if r.current}
    return [name for name in names if name not in kept]


BUILD_INPUTS = (
    "content",
    "theme",
    "plugins",
    "pelicanconf.py",
    "publishconf.py",
    "requirements.txt",
)
"""What a build reads from the repository: untracked files here change a site."""


def git_commit(
    repo: Path, inputs: Sequence[Path | str] = BUILD_INPUTS
) -> tuple[str | None, bool]:
    """The commit ``repo`` is at, and whether a build from it is "dirty".

    Dirty means the built site may differ from that commit: a tracked file is
    modified (staged or not), an untracked file sits among the build's
    ``inputs`` (relative to ``repo``; ignored files don't count), or an input
    lies outside the repository altogether.
    """
    repo = Path(repo).resolve()
    inside: list[str] = []
    outside = False
    for item in inputs:
        path = (repo / item).resolve()
        if path == repo or repo in path.parents:
            inside.append(path.relative_to(repo).as_posix() or ".")
        else:
            outside = True
    try:
        head = _git(repo, "rev-parse", "HEAD")
        changed = _git(repo, "status", "--porcelain", "--untracked-files=no")
        untracked = (
            _git(repo, "ls-files", "--others", "--exclude-standard", "--", *inside)
            if inside
            else ""
        )
    except (OSError, subprocess.SubprocessError):
        return None, False
    return head.strip() or None, bool(changed.strip() or untracked.strip() or outside)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


# --------------------------------------------------------------------- local


@dataclass(frozen=True)
class LocalTarget:
    """Releases in a folder on this machine; unchanged files are hard-linked."""

    spec: str
    root: Path

    @property
    def releases_dir(self) -> Path:
        return self.root / RELEASES

    def preflight(self) -> None:
        if not self.root.is_dir():
            raise PublishError(
                f"The publish target {self.root} does not exist (or is not a folder): "
                "create it (mkdir -p) or fix piazza.target / PIAZZA_TARGET / --target."
            )
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise PublishError(
                f"The publish target {self.root} is not writable by this user: "
                "fix its owner or permissions, or publish as the user that owns it."
            )
        current = self.root / CURRENT
        if current.exists() and not current.is_symlink():
            raise PublishError(
                f"{current} is a real folder, not a symlink to a release: move it "
                "away (it is probably an old rsync deploy), then publish again."
            )
        self.releases_dir.mkdir(exist_ok=True)

    def releases(self) -> list[Release]:
        if not self.releases_dir.is_dir():
            return []
        current = self._current_name()
        found = []
        for entry in os.scandir(self.releases_dir):
            if entry.is_dir(follow_symlinks=False) and _NAME.match(entry.name):
                manifest_file = self.releases_dir / f"{entry.name}.json"
                manifest = (
                    Manifest.from_json(manifest_file.read_text(encoding="utf-8"))
                    if manifest_file.is_file()
                    else None
                )
                found.append(Release(entry.name, manifest, entry.name == current))
        return sorted(found, key=lambda r: sort_key(r.name))

    def _current_name(self) -> str | None:
        try:
            link = os.readlink(self.root / CURRENT)
        except OSError:
            return None
        return PurePosixPath(link).name

    def checksums(self, name: str) -> dict[str, str]:
        path = self.releases_dir / f"{name}.sha256"
        if not path.is_file():
            return {}
        return parse_checksums(path.read_text(encoding="utf-8"))

    def upload(self, build: Build, manifest: Manifest, basis: str | None) -> Transfer:
        incoming = self.releases_dir / f"{INCOMING}{manifest.name}"
        final = self.releases_dir / manifest.name
        if final.exists():
            raise PublishError(f"{final} exists already: publish again in a second.")
        old = self.checksums(basis) if basis else {}
        old_root = self.releases_dir / basis if basis else None
        sent = linked = sent_bytes = 0
        try:
            incoming.mkdir(mode=_DIR_MODE)
            os.chmod(incoming, _DIR_MODE)
            into, old_dir = str(incoming), str(old_root) if old_root else ""
            folders: set[str] = set()
            for rel in build.checksums:
                folder = posixpath.dirname(rel)
                while folder and folder not in folders:
                    folders.add(folder)
                    folder = posixpath.dirname(folder)
            for folder in sorted(folders):  # a parent sorts before its children
                path = os.path.join(into, folder)
                os.mkdir(path)
                os.chmod(path, _DIR_MODE)
            for rel, digest in build.checksums.items():
                dest = os.path.join(into, rel)
                if old_dir and old.get(rel) == digest:
                    source = os.path.join(old_dir, rel)
                    with contextlib.suppress(OSError):
                        if os.stat(source).st_size == build.sizes[rel]:
                            os.link(source, dest)
                            linked += 1
                            continue
                copy_file(build.path / rel, Path(dest))
                sent += 1
                sent_bytes += build.sizes[rel]
            _write_atomic(
                self.releases_dir / f"{manifest.name}.sha256", build.checksum_text()
            )
            _write_atomic(
                self.releases_dir / f"{manifest.name}.json", manifest.to_json() + "\n"
            )
            os.rename(incoming, final)
        except OSError as exc:
            _rmtree(incoming)
            raise PublishError(
                f"Uploading to {incoming} failed: {exc}. The live site is unchanged; "
                "fix the cause (disk space? permissions?) and publish again."
            ) from exc
        except BaseException:
            _rmtree(incoming)
            raise
        return Transfer(sent, sent_bytes, linked, len(build.checksums), build.bytes)

    def switch(self, name: str) -> None:
        release = self.releases_dir / name
        if not release.is_dir():
            raise PublishError(
                f"There is no release {name} in {self.releases_dir}: "
                "`invoke releases` lists the ones there are."
            )
        temp = self.root / f".{CURRENT}.{uuid.uuid4().hex}"
        os.symlink(f"{RELEASES}/{name}", temp)
        try:
            os.replace(temp, self.root / CURRENT)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise PublishError(
                f"Could not switch {self.root / CURRENT} to {name}: {exc}"
            ) from exc
        _fsync_dir(self.root)

    def remove(self, names: Sequence[str]) -> None:
        current = self._current_name()
        for name in names:
            if name == current or not _NAME.match(name):
                continue
            _rmtree(self.releases_dir / name)
            for suffix in (".json", ".sha256"):
                (self.releases_dir / f"{name}{suffix}").unlink(missing_ok=True)
        if self.releases_dir.is_dir():
            for entry in os.scandir(self.releases_dir):
                if entry.name.startswith(INCOMING):
                    _rmtree(Path(entry.path))

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        path = self.root / LOCK
        with path.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PublishError(
                    f"Another publish to {self.root} is running (it holds {path}): "
                    "wait for it to finish, then try again."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def copy_file(source: Path, dest: Path) -> None:
    """Copy one file into a new release (a seam tests use to break uploads)."""
    shutil.copyfile(source, dest)
    os.chmod(dest, _FILE_MODE)


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temp.write_text(text, encoding="utf-8")
    os.chmod(temp, _FILE_MODE)
    os.replace(temp, path)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


# -------------------------------------------------------------------- remote

_RSYNC_STATS = {
    "files_sent": re.compile(r"Number of regular files transferred:\s*([\d,.]+)"),
    "bytes_sent": re.compile(r"Total bytes sent:\s*([\d,.]+)"),
}


@dataclass(frozen=True)
class RemoteTarget:
    """Releases in a folder on a server, reached with ssh; uploads with rsync."""

    spec: str
    host: str
    path: str
    ssh: list[str]
    rsync: str = "rsync"
    run: Callable[..., subprocess.CompletedProcess] = field(
        default=subprocess.run, repr=False, compare=False
    )

    def _exec(self, script: str, *, stdin: str | None = None):
        """Run a POSIX shell script on the server; ssh failures are PublishErrors."""
        command = [*self.ssh, "-o", "BatchMode=yes", self.host, script]
        try:
            return self.run(
                command,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PublishError(f"Could not run ssh to {self.host}: {exc}") from exc

    def _sh(self, script: str, *, what: str, stdin: str | None = None) -> str:
        """Run ``script`` in the target folder; fail with a message about ``what``."""
        proc = self._exec(f"cd {shlex.quote(self.path)} && {script}", stdin=stdin)
        if proc.returncode == 0:
            return proc.stdout
        said = (proc.stderr or proc.stdout).strip() or f"exit {proc.returncode}"
        if proc.returncode == 255:
            raise PublishError(
                f"ssh to {self.host} failed while trying to {what}: {said}. "
                "Check the host, your key (ssh-add -l) and known_hosts."
            )
        raise PublishError(f"On {self.host}:{self.path}, could not {what}: {said}")

    def preflight(self) -> None:
        quoted = shlex.quote(self.path)
        proc = self._exec(
            f"test -d {quoted} || exit 3; test -w {quoted} || exit 4; cd {quoted}; "
            "if [ -e current ] && [ ! -L current ]; then exit 5; fi; "
            "mkdir -p releases || exit 4; command -v rsync >/dev/null || exit 6"
        )
        where = f"{self.host}:{self.path}"
        user = self.host.split("@")[0] if "@" in self.host else "this user"
        problems = {
            3: f"The publish target {where} does not exist: create it on the server "
            "(mkdir -p) or fix piazza.target / PIAZZA_TARGET / --target.",
            4: f"The publish target {where} is not writable by {user}: "
            "fix its owner or permissions on the server.",
            5: f"{where}/current is a real folder, not a symlink to a release: move it "
            "away on the server (an old rsync deploy?), then publish again.",
            6: f"rsync is not installed on {self.host}: install it there "
            "(apt-get install rsync).",
        }
        if proc.returncode in problems:
            raise PublishError(problems[proc.returncode])
        if proc.returncode != 0:
            raise PublishError(
                f"Cannot reach the publish target {where}: "
                f"{(proc.stderr or proc.stdout).strip()}. Check the host name, your "
                "ssh key (ssh-add -l) and that the server's key is in known_hosts."
            )

    def releases(self) -> list[Release]:
        out = self._sh(
            'printf "current %s\\n" "$(readlink current 2>/dev/null)"; '
            'for d in releases/*/; do [ -d "$d" ] || continue; '
            'n=$(basename "$d"); printf "release %s " "$n"; '
            'head -n 1 "releases/$n.json" 2>/dev/null; printf "\\n"; done',
            what="list releases",
        )
        current = None
        found = []
        for line in out.splitlines():
            kind, _, rest = line.partition(" ")
            if kind == "current":
                current = PurePosixPath(rest.strip()).name if rest.strip() else None
            elif kind == "release":
                name, _, manifest = rest.partition(" ")
                if _NAME.match(name):
                    found.append(Release(name, Manifest.from_json(manifest), False))
        return sorted(
            (Release(r.name, r.manifest, r.name == current) for r in found),
            key=lambda r: sort_key(r.name),
        )

    def checksums(self, name: str) -> dict[str, str]:
        out = self._sh(
            f"cat releases/{shlex.quote(name)}.sha256 2>/dev/null || true",
            what="read the checksums",
        )
        return parse_checksums(out)

    def upload(self, build: Build, manifest: Manifest, basis: str | None) -> Transfer:
        name = manifest.name
        incoming = f"{RELEASES}/{INCOMING}{name}"
        remote_root = self.path.rstrip("/") or "/"
        rsh = shlex.join([*self.ssh, "-o", "BatchMode=yes"])
        args = [
            self.rsync,
            "--recursive",
            "--links",
            "--perms",
            "--checksum",
            "--chmod=Du=rwx,Dgo=rx,Fu=rw,Fgo=r",
            "--stats",
            "--rsh",
            rsh,
        ]
        if basis:
            args.append(f"--link-dest=../{basis}")
        args += [f"{build.path}/", f"{self.host}:{remote_root}/{incoming}/"]
        proc = self.run(args, capture_output=True, text=True, timeout=3600, check=False)
        if proc.returncode != 0:
            with contextlib.suppress(PublishError):
                self._sh(f"rm -rf {shlex.quote(incoming)}", what="remove the upload")
            raise PublishError(
                f"The upload to {self.host}:{remote_root}/{incoming} broke off "
                f"(rsync exit {proc.returncode}: {proc.stderr.strip()[-500:]}). "
                "The live site is unchanged; publish again when the cause is fixed."
            )
        stats = {
            key: int(re.sub(r"[,.]", "", m.group(1)))
            for key, pattern in _RSYNC_STATS.items()
            if (m := pattern.search(proc.stdout))
        }
        quoted = shlex.quote(name)
        self._sh(
            f"cat > releases/.{quoted}.meta && "
            f"sed -n '1p' releases/.{quoted}.meta > releases/{quoted}.json && "
            f"sed '1d' releases/.{quoted}.meta > releases/{quoted}.sha256 && "
            f"rm releases/.{quoted}.meta && "
            f"chmod 644 releases/{quoted}.json releases/{quoted}.sha256 && "
            f"mv {shlex.quote(incoming)} releases/{quoted}",
            what="finish the release",
            stdin=manifest.to_json() + "\n" + build.checksum_text(),
        )
        files_sent = stats.get("files_sent", len(build.checksums))
        return Transfer(
            files_sent=files_sent,
            bytes_sent=stats.get("bytes_sent", build.bytes),
            files_linked=len(build.checksums) - files_sent,
            files_total=len(build.checksums),
            bytes_total=build.bytes,
        )

    def switch(self, name: str) -> None:
        quoted = shlex.quote(name)
        temp = f".current.{uuid.uuid4().hex}"
        self._sh(
            f"test -d releases/{quoted} || {{ echo 'no such release' >&2; exit 1; }}; "
            f"ln -s releases/{quoted} {temp} && mv -T {temp} current",
            what=f"switch current to {name}",
        )

    def remove(self, names: Sequence[str]) -> None:
        safe = [n for n in names if _NAME.match(n)]
        quoted = " ".join(shlex.quote(n) for n in safe)
        script = (
            'cur=$(basename "$(readlink current 2>/dev/null)"); '
            f'for n in {quoted}; do [ "$n" = "$cur" ] && continue; '
            'rm -rf "releases/$n" "releases/$n.json" "releases/$n.sha256"; done; '
            if safe
            else ""
        )
        # Uploads that broke off more than an hour ago (a concurrent publish
        # may own a younger one: remote targets have no lock).
        script += (
            f"find releases -maxdepth 1 -name '{INCOMING}*' -mmin +60 "
            "-exec rm -rf {} +"
        )
        self._sh(script, what="remove old releases")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        # No lock across ssh calls; uploads go to unique incoming folders and the
        # switch is atomic, so two publishes at once can't mix files.
        yield
