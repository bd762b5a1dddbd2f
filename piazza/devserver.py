"""The editor's local servers: `invoke dev`, `livereload`, `serve`, `preview`.

``SiteServer`` serves a built site over HTTP on loopback: the theme's 404 page
for a missing path, a one-line message when the port is taken, and, for
`preview`, ``/comments/`` proxied to Isso as nginx does in production.

``DevSession`` is the development loop behind `dev` and `livereload`. It
builds in child processes of a warm Pelican (piazza/buildworker.py), so no
content error can end the session: a failed build is printed in the terminal
and shown over the pages (their script, ``/__piazza__/dev.js``, comes from this
server), and the last good site stays served. Builds alternate between two
folders under ``var/dev/``, and the served one flips only when a build
succeeds. After a change to posts or pages the site already has, a first
build of just those posts (with their translations and the pages) writes their
pages into the served site within a second; the whole site is then rebuilt
in the other folder, and served when it is done.
"""

from __future__ import annotations

import configparser
import contextlib
import errno
import html
import json
import mimetypes
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import watchfiles

from piazza import comments
from piazza.pelican_run import pelican_args
from piazza.processes import stop

ROOT = Path(__file__).resolve().parents[1]
DEV_SCRIPT = Path(__file__).with_name("devserver.js")
# Our own paths on the dev server; no site page lives under them.
OWN_PREFIX = "/__piazza__/"
POLL_SECONDS = 20.0
# Files an editor's save leaves behind, never content.
IGNORED = re.compile(r"(^\.#|~$|\.sw[a-p]$|^#.*#$|^4913$|\.tmp$|\.partial$)")


class ServerError(Exception):
    """A server that cannot start; the message says what to do."""


@dataclass(frozen=True)
class BuildError:
    """What a failed build reports: the file and line it names, if any."""

    file: str | None
    line: int | None
    message: str
    log: str

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "log": self.log,
        }


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
        elif records and line.startswith(" ") and line.strip():
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


# --- Serving ----------------------------------------------------------------


class SiteState:
    """What the server serves, and what its pages' script waits for."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self.generation = 0
        self.error: BuildError | None = None
        self.building = root is None
        self.stopping = False
        self._changed = threading.Condition()

    def publish(self, root: Path | None = None) -> None:
        """A build succeeded: serve ``root`` (or the same folder, rewritten)."""
        with self._changed:
            if root is not None:
                self.root = root
            self.error = None
            self.generation += 1
            self._changed.notify_all()

    def fail(self, error: BuildError) -> None:
        with self._changed:
            self.error = error
            self.generation += 1
            self._changed.notify_all()

    def set_building(self, building: bool) -> None:
        with self._changed:
            self.building = building

    def stop(self) -> None:
        with self._changed:
            self.stopping = True
            self._changed.notify_all()

    def wait(self, since: int, timeout: float) -> dict[str, Any]:
        """The status once its generation differs from ``since`` (or later)."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.generation != since or self.stopping, timeout
            )
            return {
                "generation": self.generation,
                "ready": self.root is not None,
                "building": self.building,
                "error": self.error.as_json() if self.error else None,
                "site": str(self.root) if self.root else None,
            }


class _Handler(BaseHTTPRequestHandler):
    server: SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def do_HEAD(self) -> None:
        self._get(head=True)

    def do_GET(self) -> None:
        self._get(head=False)

    def do_POST(self) -> None:
        self._other()

    do_PUT = do_DELETE = do_POST

    def _other(self) -> None:
        if self.server.proxies(self.path):
            self._proxy()
        else:
            self._send(405, b"Method not allowed\n", "text/plain; charset=utf-8")

    def _get(self, head: bool) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if self.server.proxies(path):
            self._proxy()
        elif path.startswith(OWN_PREFIX) and self.server.dev:
            self._own(path, head)
        else:
            self._file(urllib.parse.unquote(path), head)

    # Our own endpoints (dev only).
    def _own(self, path: str, head: bool) -> None:
        if path == OWN_PREFIX + "dev.js":
            body = DEV_SCRIPT.read_bytes()
            self._send(200, body, "text/javascript; charset=utf-8", head=head)
        elif path == OWN_PREFIX + "status":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            since = int((query.get("since") or ["-1"])[0])
            status = self.server.state.wait(since, POLL_SECONDS)
            body = json.dumps(status).encode()
            self._send(200, body, "application/json", head=head)
        else:
            self._send(404, b"Not found\n", "text/plain; charset=utf-8", head=head)

    # The site.
    def _file(self, path: str, head: bool) -> None:
        state = self.server.state
        root = state.root
        if root is None:
            self._standalone(head)
            return
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root.resolve()):
            self._missing(root, head)
            return
        if target.is_dir():
            if not path.endswith("/"):
                self._redirect(path + "/")
                return
            target = target / "index.html"
        if not target.is_file():
            self._missing(root, head)
            return
        self._send_file(200, target, head)

    def _missing(self, root: Path, head: bool) -> None:
        page = root / "404.html"
        if page.is_file():
            self._send_file(404, page, head)
        else:
            self._send(404, b"Not found\n", "text/plain; charset=utf-8", head=head)

    def _send_file(self, status: int, target: Path, head: bool) -> None:
        try:
            body = target.read_bytes()
        except OSError:  # removed by a build between the check and the read
            self._send(404, b"Not found\n", "text/plain; charset=utf-8", head=head)
            return
        kind = self.server.content_type(target)
        if self.server.dev and kind.startswith("text/html"):
            body = _with_dev_script(body)
        self._send(status, body, kind, head=head)

    def _standalone(self, head: bool) -> None:
        """The dev server's own page while there is no good site yet."""
        error = self.server.state.error
        if error:
            where = error.file or "?"
            if error.line:
                where += f", line {error.line}"
            body = _STANDALONE.format(
                kind="error",
                title="Build failed — La build non è riuscita",
                where=html.escape(where),
                message=html.escape(error.message),
                note="Fix the file and save: this page reloads by itself.",
            )
            status = 500
        else:
            body = _STANDALONE.format(
                kind="building",
                title="Building the site… — Costruzione del sito…",
                where="",
                message="",
                note="This page reloads by itself when the site is ready.",
            )
            status = 503
        self._send(status, body.encode(), "text/html; charset=utf-8", head=head)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", urllib.parse.quote(location))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(
        self,
        status: int,
        body: bytes,
        kind: str,
        head: bool = False,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if self.server.dev:
            # The dev pages' only script is ours, from this origin.
            self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    # /comments/ -> Isso, as nginx does (deploy/nginx.conf).
    def _proxy(self) -> None:
        upstream = self.server.proxy_url
        path = self.path[len(self.server.proxy_prefix) :]
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else None
        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower()
            in ("content-type", "cookie", "accept", "x-requested-with", "referer")
        }
        headers["Host"] = self.headers.get("Host", "")
        headers["X-Script-Name"] = self.server.proxy_prefix.rstrip("/")
        headers["X-Forwarded-For"] = self.client_address[0]
        headers["Origin"] = self.headers.get("Origin") or (
            f"http://{self.headers.get('Host', '')}"
        )
        request = urllib.request.Request(
            upstream + "/" + path.lstrip("/"),
            data=data,
            method=self.command,
            headers=headers,
        )
        try:
            with _NO_REDIRECTS.open(request, timeout=30) as answer:
                status, reply, body = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as exc:
            status, reply, body = exc.code, exc.headers, exc.read()
        except OSError:
            message = (
                f"The comment server (Isso) is not running at {upstream}: "
                "start it with `invoke comments`.\n"
            )
            self._send(502, message.encode(), "text/plain; charset=utf-8")
            return
        passed = [
            (name, value)
            for name, value in reply.items()
            if name.lower()
            not in ("content-length", "content-type", "connection", "transfer-encoding")
            and name.lower() not in ("server", "date", "cache-control")
        ]
        kind = reply.get("Content-Type", "application/octet-stream")
        self._send(status, body, kind, head=self.command == "HEAD", headers=passed)


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_KeepRedirects)

_STANDALONE = """<!doctype html>
<html lang="en" data-piazza-dev="{kind}">
<head><meta charset="utf-8"><title>{title}</title>
<script src="/__piazza__/dev.js" defer></script></head>
<body>
<h1>{title}</h1>
<p><strong>{where}</strong></p>
<pre>{message}</pre>
<p>{note}</p>
</body>
</html>
"""


def _with_dev_script(body: bytes) -> bytes:
    tag = f'<script src="{OWN_PREFIX}dev.js" defer></script>'.encode()
    at = body.rfind(b"</body>")
    return body[:at] + tag + body[at:] if at >= 0 else body + tag


class SiteServer(ThreadingHTTPServer):
    """An HTTP server for a built site on loopback."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(
        self,
        state: SiteState,
        host: str,
        port: int,
        *,
        dev: bool = False,
        proxy_url: str | None = None,
        proxy_prefix: str = "/comments/",
        verbose: bool = False,
    ) -> None:
        self.state = state
        self.dev = dev
        self.proxy_url = proxy_url.rstrip("/") if proxy_url else None
        self.proxy_prefix = proxy_prefix
        self.verbose = verbose
        try:
            super().__init__((_bind_address(host), port), _Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServerError(
                    f"port {port} is already in use (another `invoke dev`, "
                    f"`serve` or `preview`?): stop it, or choose another with "
                    f"--port {port + 1}"
                ) from None
            raise ServerError(f"cannot listen on {host}:{port}: {exc}") from None
        self.url = f"http://{host}:{port}"
        self._thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that leaves (a reload ends its wait) is no error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def proxies(self, path: str) -> bool:
        prefix = self.proxy_prefix
        return bool(self.proxy_url) and (
            path.startswith(prefix) or path == prefix.rstrip("/")
        )

    @staticmethod
    def content_type(path: Path) -> str:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in (
            "application/javascript",
            "application/json",
            "application/xml",
            "image/svg+xml",
            "application/atom+xml",
            "application/rss+xml",
        ):
            kind += "; charset=utf-8"
        return kind

    def start(self) -> None:
        """Serve in a background thread (answers from now on)."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.state.stop()
        self.shutdown()
        self.server_close()


def _bind_address(host: str) -> str:
    return "127.0.0.1" if host == "localhost" else host


def serve_forever(server: SiteServer, message: str) -> None:
    """Serve in the foreground until Ctrl-C."""
    print(message, flush=True)  # noqa: T201
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopped.", flush=True)  # noqa: T201
    finally:
        server.server_close()


def isso_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/config", timeout=2):
            return True
    except OSError:
        return False


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
            "-d",
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
            finally:
                self.state.set_building(False)

    def _rebuild(self, changes: set[Path] | None) -> set[Path]:
        """Build after ``changes``; return the changes still to build (those
        that came during the build, plus these if it was cancelled)."""
        if changes and self._needs_new_worker(changes):
            self.say("Code or settings changed: restarting the build worker")
            self.worker.close()
            self.worker = BuildWorker(self.project.root, self.project.settings)
        if changes:
            self._fast_pass(changes)
        started = time.perf_counter()
        target = self._back_folder()
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
        text = log.read_text(encoding="utf-8", errors="replace")
        if build.rc == 0:
            self._load_map()
            self.serving = target
            self.state.publish(target)
            self.say(f"Built the site in {time.perf_counter() - started:.1f} s")
        else:
            self._report(text)
        return set()

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
        where = error.file or "the site"
        if error.line:
            where += f", line {error.line}"
        served = "still serving the last good site" if self.serving else "no site yet"
        self.say(
            f"Build failed ({where}): {error.message}\n"
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


def dev_isso_config(config: Path, work: Path, siteurl: str) -> Path:
    """Isso's dev configuration with the site's actual address as its
    website (Isso checks it at start, and allows it to embed the widget)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config, encoding="utf-8")
    port = urllib.parse.urlsplit(siteurl).port
    parser.set("general", "host", f"\nhttp://localhost:{port}\nhttp://127.0.0.1:{port}")
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
) -> None:
    """`invoke dev` (with Isso) and `invoke livereload` (without): serve,
    build, watch, until Ctrl-C. Raises ServerError if the port is taken."""
    state = SiteState()
    server = SiteServer(state, host, port, dev=True)
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
                overrides["ISSO_URL"] = comments.public_url(derived)
                overrides["ISSO_API_URL"] = api
            session = DevSession(
                Project(root, settings, content, work, overrides), state, _say
            )
            stack.callback(session.close)
            session.start()
            _say(f"Serving the site at {siteurl}/ (Ctrl-C stops)")
            threading.Event().wait()
        except KeyboardInterrupt:
            _say("Stopping…")


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _say(message: str) -> None:
    print(message, flush=True)  # noqa: T201
