"""The development loop behind `invoke dev` and `invoke livereload`.

``DevSession`` builds in child processes of a warm Pelican
(piazza/buildworker.py), so no content error can end the session: a failed
build is printed in the terminal and shown over the pages (by the script
piazza/siteserver.py adds to them), and the last good site stays served.
Builds alternate between two folders under ``var/dev/``, and the served one
flips only when a build succeeds. After a change to posts or pages the site
already has, a first build of just those posts (with their translations and
the pages) writes their pages into the served site within a second; the whole
site is then rebuilt in the other folder, and served when it is done.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import watchfiles

from piazza import comments, ideasservice
from piazza.pelican_run import pelican_args
from piazza.processes import stop
from piazza.siteserver import (
    IDEAS_DOWN,
    ISSO_DOWN,
    BuildError,
    SiteServer,
    SiteState,
    where,
)

ROOT = Path(__file__).resolve().parents[1]
# Files an editor's save leaves behind, never content.
IGNORED = re.compile(r"(^\.#|~$|\.sw[a-p]$|^#.*#$|^4913$|\.tmp$|\.partial$)")


_RECORD = re.compile(r"^(?:\[[\d:]+\]\s+)?\s*(WARNING|ERROR|CRITICAL)\s+(.*)$")
_PATH = re.compile(r"((?:/|\b)[\w./\-]+\.(?:md|markdown|rst|html|py|po|toml|cfg))\b")
_LINE = re.compile(r"(?:\bline\s+|:)(\d+)\b")
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
_SOURCE_COLUMN = re.compile(r"\s{2,}[\w.]+\.py:\d+$")
# Pelican's own words when a warning was fatal: the problem is the record before.
_STOPPED = ("Build stopped", "RuntimeError: Warning")


def _records(log: str) -> list[tuple[str, str]]:
    """(level, message) of each record of a Pelican log, continuation
    lines joined (a traceback stays with its record)."""
    records: list[tuple[str, str]] = []
    for raw in log.splitlines():
        line = _SOURCE_COLUMN.sub("", raw.rstrip())
        match = _RECORD.match(line)
        if match:
            records.append((match.group(1), match.group(2).strip()))
        elif records and line.strip() and line.startswith((" ", "Traceback")):
            # Rich indents a record's continuation; a plain handler (when the
            # output is no terminal, plugins/contentcheck/piped.py) prints a
            # traceback as logging does, its first line unindented.
            level, text = records[-1]
            records[-1] = (level, f"{text}\n{line.strip()}")
    return records


def _problem(records: list[tuple[str, str]]) -> str | None:
    """The record that stopped the build: a critical one, or, when that only
    says a warning was fatal, the last warning or error before it."""
    for index, (level, text) in enumerate(records):
        if level != "CRITICAL":
            continue
        if text.startswith(_STOPPED):
            earlier = [t for lvl, t in records[:index] if lvl in ("WARNING", "ERROR")]
            return earlier[-1] if earlier else text
        return text
    errors = [t for level, t in records if level == "ERROR"]
    return (errors or [t for _, t in records] or [None])[0]


def parse_error(log: str, root: Path, content: Path) -> BuildError:
    """The problem that stopped a Pelican build, with the file (relative to
    the project) and line it names; in a traceback, the last frame in the
    project's own files (a template, a plugin)."""
    message = _problem(_records(log)) or (log.strip().splitlines() or ["?"])[-1]
    headline, _, details = message.partition("\nTraceback")
    site_packages = os.sep + "site-packages" + os.sep
    frames = [
        (Path(path), int(number))
        for path, number in _FRAME.findall(details)
        if Path(path).is_relative_to(root) and site_packages not in path
    ]
    if frames:
        path, number = frames[-1]
        return BuildError(_relative(path, root), number, headline, log)
    for candidate in _PATH.finditer(headline):
        path = Path(candidate.group(1))
        for base in (content, root):
            full = path if path.is_absolute() else base / path
            if full.is_file():
                after = headline[candidate.end() : candidate.end() + 40]
                found = _LINE.match(after) or _LINE.search(after)
                number = int(found.group(1)) if found else None
                return BuildError(_relative(full, root), number, headline, log)
    return BuildError(None, None, headline, log)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


# --- Building ---------------------------------------------------------------


class _Build:
    def __init__(self) -> None:
        self.pid: int | None = None
        self.rc: int | None = None
        self.done = threading.Event()


class BuildWorker:
    """The warm Pelican (python -m piazza.buildworker) and its builds."""

    def __init__(self, root: Path, settings: Path) -> None:
        self.root = root
        self._builds: dict[int, _Build] = {}
        self._ids = 0
        self._lock = threading.Lock()
        env = {
            **os.environ,
            "PYTHONPATH": str(root),
            "NO_COLOR": "1",
            "COLUMNS": "400",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "piazza.buildworker", str(settings)],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # Ctrl-C reaches us; we stop the builds
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            message = json.loads(line)
            build = self._builds.get(message["id"])
            if build is None:
                continue
            if "pid" in message:
                build.pid = message["pid"]
            if "rc" in message:
                build.rc = message["rc"]
                build.done.set()
        for build in list(self._builds.values()):  # the worker died
            if build.rc is None:
                build.rc = -1
                build.done.set()

    def start(
        self,
        argv: list[str],
        log: Path,
        source_map: Path | None,
        *,
        templates: Path | None = None,
        only: Iterable[str] | None = None,
    ) -> _Build:
        with self._lock:
            self._ids += 1
            build = self._builds[self._ids] = _Build()
            request = {
                "id": self._ids,
                "argv": argv,
                "log": str(log),
                "map": str(source_map) if source_map else None,
                "templates": str(templates) if templates else None,
                "only": sorted(only) if only is not None else None,
            }
            try:
                self.process.stdin.write(json.dumps(request) + "\n")
                self.process.stdin.flush()
            except OSError:
                build.rc = -1
                build.done.set()
        return build

    def cancel(self, build: _Build) -> None:
        deadline = time.monotonic() + 5
        while build.pid is None and not build.done.is_set():
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        if build.pid and not build.done.is_set():
            with contextlib.suppress(ProcessLookupError):
                os.kill(build.pid, signal.SIGTERM)
        build.done.wait(10)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop(self.process)


@dataclass(frozen=True)
class Project:
    """Where a dev session reads and writes."""

    root: Path
    settings: Path
    content: Path
    work: Path  # var/dev: the two site folders, the fast pass, logs, cache
    overrides: dict[str, Any]

    def watched(self) -> list[Path]:
        paths = [self.content, self.root / "theme", self.root / "plugins"]
        paths += [self.settings]
        return [p for p in paths if p.exists()]


class DevSession:
    """Build, watch, rebuild; serve the last good build; never die of content."""

    def __init__(
        self,
        project: Project,
        state: SiteState,
        say: Callable[[str], None] = print,
    ) -> None:
        self.project = project
        self.state = state
        self.say = say
        self.work = project.work
        self.work.mkdir(parents=True, exist_ok=True)
        self.map_path = self.work / "sources.json"
        self.templates = self.work / "templates"
        self._trash = 0
        for old in self.work.glob("old-*"):  # left by a session that was killed
            shutil.rmtree(old, ignore_errors=True)
        self.templates.mkdir(exist_ok=True)
        self.sources: dict[str, dict[str, Any]] = {}
        self.worker = BuildWorker(project.root, project.settings)
        self._changes: set[Path] = set()
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self.serving: Path | None = None

    # Pelican's command lines.
    def _argv(self, output: Path, extra: dict[str, Any]) -> list[str]:
        args = pelican_args(
            output,
            settings=self.project.settings,
            content=self.project.content,
            overrides={**self.project.overrides, **extra},
            root=self.project.root,
        )
        return args[3:]  # without "python -m pelican"

    def _full_argv(self, output: Path) -> list[str]:
        return [
            *self._argv(
                output,
                {
                    "CACHE_CONTENT": True,
                    "LOAD_CONTENT_CACHE": True,
                    "CACHE_PATH": str(self.work / "cache"),
                },
            ),
        ]

    # Lifecycle.
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def close(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread:
            self._thread.join(timeout=15)
        self.worker.close()

    def changed(self, paths: Iterable[Path]) -> None:
        with self._changed:
            self._changes.update(paths)
            self._changed.notify_all()

    def _watch(self) -> None:
        def wanted(_change: Any, path: str) -> bool:
            name = os.path.basename(path)
            return not IGNORED.search(name) and "__pycache__" not in path

        for changes in watchfiles.watch(
            *self.project.watched(),
            watch_filter=wanted,
            debounce=1600,
            step=30,
            stop_event=self._stopping,
            yield_on_timeout=False,
            rust_timeout=500,
        ):
            self.changed(Path(path) for _, path in changes)

    # The loop.
    def _loop(self) -> None:
        pending: set[Path] | None = None  # None: the first, full build
        while not self._stopping.is_set():
            if pending is not None:
                with self._changed:
                    if not pending:  # else: changes a cancelled build left
                        self._changed.wait_for(
                            lambda: self._changes or self._stopping.is_set()
                        )
                    pending |= self._changes
                    self._changes.clear()
                if self._stopping.is_set():
                    return
            self.state.set_building(True)
            try:
                pending = self._rebuild(pending)
            except Exception as exc:  # noqa: BLE001 (a bug of ours: keep serving)
                self._report(f"CRITICAL {type(exc).__name__}: {exc}")
                pending = set()
            finally:
                self.state.set_building(False)

    def _rebuild(self, changes: set[Path] | None) -> set[Path]:
        """Build after ``changes``; return the changes still to build (those
        that came during the build, plus these if it was cancelled)."""
        if self.worker.process.poll() is not None or (
            changes and self._needs_new_worker(changes)
        ):
            self.say("Code or settings changed: restarting the build worker")
            self.worker.close()
            self.worker = BuildWorker(self.project.root, self.project.settings)
        if changes:
            self._fast_pass(changes)
        started = time.perf_counter()
        target = self._back_folder()
        self._clear(target)
        log = self.work / "full.log"
        build = self.worker.start(
            self._full_argv(target), log, self.map_path, templates=self.templates
        )
        while not build.done.wait(0.05):
            if self._stopping.is_set():
                self.worker.cancel(build)
                return set()
            with self._changed:
                if self._changes:  # saved again: start over with both changes
                    self.worker.cancel(build)
                    return set(changes or ()) | self._take_changes()
        text = _read_log(log)
        if build.rc == 0:
            self._load_map()
            self.serving = target
            self.state.publish(target)
            self.say(f"Built the site in {time.perf_counter() - started:.1f} s")
        else:
            self._report(text)
        return set()

    def _clear(self, folder: Path) -> None:
        """Empty ``folder`` for a build from scratch (no stale page stays):
        renamed aside at once, deleted while the build runs."""
        if not folder.exists():
            return
        self._trash += 1
        aside = self.work / f"old-{os.getpid()}-{self._trash}"
        os.replace(folder, aside)
        threading.Thread(
            target=shutil.rmtree,
            args=(aside,),
            kwargs={"ignore_errors": True},
            daemon=True,  # what a Ctrl-C leaves, the next session deletes
        ).start()

    def _take_changes(self) -> set[Path]:
        taken = set(self._changes)
        self._changes.clear()
        return taken

    def _back_folder(self) -> Path:
        a, b = self.work / "site-a", self.work / "site-b"
        return b if self.serving == a else a

    def _needs_new_worker(self, changes: set[Path]) -> bool:
        code = (self.project.root / "plugins", self.project.root / "piazza")
        return self.project.settings in changes or any(
            p.suffix == ".py" and any(p.is_relative_to(folder) for folder in code)
            for p in changes
        )

    def _load_map(self) -> None:
        try:
            self.sources = json.loads(self.map_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.sources = {}

    def _report(self, log: str, error: BuildError | None = None) -> None:
        error = error or parse_error(log, self.project.root, self.project.content)
        said = self.state.error
        self.state.fail(error)
        if said and (said.file, said.line, said.message) == (
            error.file,
            error.line,
            error.message,
        ):
            return  # the fast pass said it already
        served = "still serving the last good site" if self.serving else "no site yet"
        self.say(
            f"Build failed ({where(error) if error.file else 'the site'}): "
            f"{error.message}\n"
            f"  ({served}; fix it and save to build again)"
        )

    # The fast pass: the changed posts' pages first.
    def _group(self, changes: set[Path]) -> set[str] | None:
        """The sources to build first (the changed ones and their
        translations), or None when the change needs the whole site."""
        if not self.serving or not self.sources:
            return None
        group: set[str] = set()
        for path in changes:
            key = os.path.realpath(path)
            entry = self.sources.get(key)
            if entry is None and not os.path.exists(key):
                continue  # an editor's temporary file, come and gone
            if entry is None or not os.path.isfile(key):
                return None  # new, deleted, or not content at all
            group.add(key)
            group.update(entry["translations"])
        for key in list(group):
            for other in self.sources.get(key, {}).get("translations", ()):
                group.add(other)
        return group

    def _fast_pass(self, changes: set[Path]) -> None:
        group = self._group(changes)
        if not group:
            return
        content = self.project.content.resolve()
        articles = sorted(
            Path(k).relative_to(content).as_posix()
            for k in group
            if self.sources[k]["kind"] == "article" and Path(k).is_file()
        )
        fast = self.work / "fast"
        fast_map = self.work / "fast-sources.json"
        fast_map.unlink(missing_ok=True)
        started = time.perf_counter()
        build = self.worker.start(
            self._argv(fast, {"ARTICLE_PATHS": articles}),
            self.work / "fast.log",
            fast_map,
            templates=self.templates,
            only=group,
        )
        build.done.wait()
        if build.rc != 0:
            # A problem in the changed files is said at once; any other (a
            # link to a post this pass did not read) is the full build's call.
            text = (self.work / "fast.log").read_text(
                encoding="utf-8", errors="replace"
            )
            error = parse_error(text, self.project.root, self.project.content)
            root = self.project.root.resolve()
            if error.file and os.path.realpath(root / error.file) in group:
                self._report(text, error)
            return
        if not fast_map.is_file():
            return
        built = json.loads(fast_map.read_text(encoding="utf-8"))
        serving = self.serving
        copied = 0
        for key in group:
            for output in built.get(key, {}).get("outputs", ()):
                source = fast / output
                if source.is_file():
                    dest = serving / output
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    partial = dest.with_name(dest.name + ".partial")
                    shutil.copyfile(source, partial)
                    os.replace(partial, dest)
                    copied += 1
        if copied:
            self.state.publish()
            self.say(
                f"Updated {copied} changed page(s) in "
                f"{time.perf_counter() - started:.2f} s; rebuilding the rest"
            )


def _read_log(log: Path) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "CRITICAL The build stopped before it wrote its log."


def dev_isso_config(config: Path, work: Path, siteurl: str) -> Path:
    """Isso's dev configuration with the site's actual address as its
    website (Isso checks it at start, and allows it to embed the widget),
    reached under the site's /comments/ as in production (the site server
    passes it on, as nginx does)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config, encoding="utf-8")
    port = urllib.parse.urlsplit(siteurl).port
    parser.set("general", "host", f"\nhttp://localhost:{port}\nhttp://127.0.0.1:{port}")
    parser.set("server", "public-endpoint", f"{siteurl}/comments")
    if parser.has_section("rss"):
        parser.set("rss", "base", siteurl)
    work.mkdir(parents=True, exist_ok=True)
    derived = work / "isso.cfg"
    with derived.open("w", encoding="utf-8") as file:
        parser.write(file)
    return derived


def run_dev(
    root: Path,
    settings: Path,
    content: Path,
    *,
    host: str,
    port: int,
    isso_config: Path | None = None,
    ideas_port: int | None = None,
) -> None:
    """`invoke dev` (with Isso and, on ``ideas_port``, the ideas service) and
    `invoke livereload` (without): serve, build, watch, until Ctrl-C.
    Raises ServerError if the port is taken. An ideas service that does not
    start is said, and the site is served without it."""
    from pelican.settings import get_settings_from_file  # noqa: PLC0415

    state = SiteState()
    lang = get_settings_from_file(str(settings)).get("DEFAULT_LANG", "en")
    server = SiteServer(state, host, port, dev=True, theme=root / "theme", lang=lang)
    # A SIGTERM (from a process manager, a test) stops it as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    server.start()  # first: Isso checks at start that the site answers
    siteurl = f"http://{host}:{port}"
    overrides: dict[str, Any] = {"SITEURL": siteurl, "FEED_DOMAIN": siteurl}
    work = root / "var" / "dev"
    session = None
    with contextlib.ExitStack() as stack:
        stack.callback(server.close)
        try:
            if isso_config:
                derived = dev_isso_config(isso_config, work, siteurl)
                api = stack.enter_context(comments.running(derived))
                # Same origin as production: the widget, its proof of work and
                # its cookies under /comments/, passed on to Isso.
                server.proxy("/comments/", api, ISSO_DOWN)
                overrides["ISSO_URL"] = "/comments"
                overrides["ISSO_API_URL"] = api
            if ideas_port:
                _start_ideas(
                    stack,
                    server,
                    overrides,
                    root=root,
                    port=ideas_port,
                    siteurl=siteurl,
                )
            session = DevSession(
                Project(root, settings, content, work, overrides), state, _say
            )
            stack.callback(session.close)
            session.start()
            _say(f"Serving the site at {siteurl}/ (Ctrl-C stops)")
            threading.Event().wait()
        except KeyboardInterrupt:
            _say("Stopping…")


def _start_ideas(
    stack: contextlib.ExitStack,
    server: SiteServer,
    overrides: dict[str, Any],
    *,
    root: Path,
    port: int,
    siteurl: str,
) -> None:
    """The ideas service behind the site's /idee-api/, as nginx does in
    production; the build reads the board from it (IDEAS_API_URL)."""
    url = f"http://127.0.0.1:{port}"
    # /idee-api/ goes there even if it does not start here: an `invoke
    # ideas-server --port N` started later answers it.
    server.proxy(ideasservice.PUBLIC_PATH, url, IDEAS_DOWN)
    overrides["IDEAS_PUBLIC_URL"] = ideasservice.PUBLIC_PATH.rstrip("/")
    overrides["IDEAS_API_URL"] = url
    try:
        stack.enter_context(ideasservice.running(root, port, siteurl))
    except ideasservice.IdeasServiceError as exc:
        _say(
            f"The ideas service did not start at {url}: {exc}\n"
            "  The site is served without it: the board shows the last known "
            "counts, and supporting or proposing ideas fails until it runs "
            f"(`invoke ideas-server --port {port}` in another terminal)."
        )
        return
    said = ideasservice.seed_demo(root)  # an empty database only
    if said:
        _say(said)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _say(message: str) -> None:
    print(message, flush=True)  # noqa: T201
