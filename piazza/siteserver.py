"""The editor's local web server: a built site on loopback.

``SiteServer`` serves a folder for `invoke serve`, `preview`, `dev` and
`livereload`: the theme's 404 page for a missing path, a one-line message when
the port is taken and, for `preview` and `dev`, ``/comments/`` proxied to Isso
and (for `dev`) ``/idee-api/`` to the ideas service, as nginx does in
production (deploy/nginx.conf). For the development loop
(piazza/devserver.py) it also adds its script to every page
(``/__piazza__/dev.js``: reload after a build, show a failed build's error)
and answers that script's waits for the next build (``/__piazza__/status``).
"""

from __future__ import annotations

import errno
import html
import json
import mimetypes
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEV_SCRIPT = Path(__file__).with_name("devserver.js")
# Our own paths on the dev server; no site page lives under them.
OWN_PREFIX = "/__piazza__/"
POLL_SECONDS = 20.0
# What a proxied path says when its server does not answer.
ISSO_DOWN = (
    "The comment server (Isso) is not running at {url}: start it with "
    "`invoke comments`."
)
IDEAS_DOWN = (
    "The ideas service is not running at {url}: start it with "
    "`invoke ideas-server --port {port}` (or restart `invoke dev`)."
)


@dataclass(frozen=True)
class Upstream:
    """A path of the site passed on to a server, as nginx does."""

    prefix: str  # "/comments/"
    url: str  # where to, without a trailing slash
    down: str  # what to say when it does not answer ({url}, {port})

    def serves(self, path: str) -> bool:
        return path.startswith(self.prefix) or path == self.prefix.rstrip("/")


def N_(message: str) -> str:
    """Mark a string for translation; it is translated where it is shown."""
    return message


# What the dev pages say (translated with the theme's catalogs, like the site).
DEV_STRINGS = {
    "failed": N_("The site did not build"),
    "serving": N_("The last good site is still served."),
    "fix": N_("Fix the file and save: this page reloads by itself."),
    "dismiss": N_("Show the last good page"),
    "building": N_("Building the site…"),
    "waiting": N_("This page reloads by itself when the site is ready."),
}


def dev_strings(theme: Path | None, lang: str) -> dict[str, str]:
    """DEV_STRINGS in ``lang``, from the theme's gettext catalog (English
    where it has no translation)."""
    from babel.messages.pofile import read_po  # noqa: PLC0415

    strings = dict(DEV_STRINGS)
    catalog = (
        theme / "translations" / lang / "LC_MESSAGES" / "messages.po" if theme else None
    )
    if catalog is None or not catalog.is_file():
        return strings
    with catalog.open("rb") as file:
        messages = {m.id: m.string for m in read_po(file, locale=lang) if m.string}
    return {key: messages.get(text, text) for key, text in strings.items()}


def where(error: BuildError) -> str:
    """``file:line`` (as editors and compilers write it), or the file."""
    place = error.file or "?"
    return f"{place}:{error.line}" if error.line else place


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
        upstream = self.server.upstream(urllib.parse.urlsplit(self.path).path)
        if upstream:
            self._proxy(upstream)
        else:
            self._send(405, b"Method not allowed\n", "text/plain; charset=utf-8")

    def _get(self, head: bool) -> None:
        path = urllib.parse.urlsplit(self.path).path
        upstream = self.server.upstream(path)
        if upstream:
            self._proxy(upstream)
        elif path.startswith(OWN_PREFIX) and self.server.dev:
            self._own(path, head)
        else:
            self._file(urllib.parse.unquote(path), head)

    # Our own endpoints (dev only).
    def _own(self, path: str, head: bool) -> None:
        if path == OWN_PREFIX + "dev.js":
            body = DEV_SCRIPT.read_bytes()
            self._send(200, body, "text/javascript; charset=utf-8", head=head)
        elif path == OWN_PREFIX + "strings":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            lang = (query.get("lang") or [self.server.lang])[0]
            if not lang.isalpha():
                lang = self.server.lang
            body = json.dumps(dev_strings(self.server.theme, lang)).encode()
            self._send(200, body, "application/json", head=head)
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
        strings = dev_strings(self.server.theme, self.server.lang)
        if error:
            body = _STANDALONE.format(
                lang=self.server.lang,
                kind="error",
                title=html.escape(strings["failed"]),
                where=html.escape(where(error)),
                message=html.escape(error.message),
                note=html.escape(strings["fix"]),
            )
            status = 500
        else:
            body = _STANDALONE.format(
                lang=self.server.lang,
                kind="building",
                title=html.escape(strings["building"]),
                where="",
                message="",
                note=html.escape(strings["waiting"]),
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

    # /comments/ -> Isso, /idee-api/ -> the ideas service, as nginx does
    # (deploy/nginx.conf).
    def _proxy(self, upstream: Upstream) -> None:
        path = self.path[len(upstream.prefix) :]
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else None
        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower()
            in ("content-type", "cookie", "accept", "x-requested-with", "referer")
        }
        headers["Host"] = self.headers.get("Host", "")
        headers["X-Script-Name"] = upstream.prefix.rstrip("/")
        headers["X-Forwarded-For"] = self.client_address[0]
        headers["Origin"] = self.headers.get("Origin") or (
            f"http://{self.headers.get('Host', '')}"
        )
        request = urllib.request.Request(
            upstream.url + "/" + path.lstrip("/"),
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
            port = urllib.parse.urlsplit(upstream.url).port
            message = upstream.down.format(url=upstream.url, port=port) + "\n"
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
<html lang="{lang}" data-piazza-dev="{kind}">
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
        theme: Path | None = None,
        lang: str = "en",
    ) -> None:
        self.state = state
        self.theme = theme
        self.lang = lang
        self.dev = dev
        self.upstreams: list[Upstream] = []
        if proxy_url:
            self.proxy(proxy_prefix, proxy_url, ISSO_DOWN)
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

    def proxy(self, prefix: str, url: str, down: str) -> None:
        """Pass ``prefix`` (e.g. "/idee-api/") on to the server at ``url``;
        ``down`` is what a reader reads when it does not answer."""
        self.upstreams = [u for u in self.upstreams if u.prefix != prefix]
        self.upstreams.append(Upstream(prefix, url.rstrip("/"), down))

    def upstream(self, path: str) -> Upstream | None:
        """The server ``path`` is passed on to, if any."""
        return next((u for u in self.upstreams if u.serves(path)), None)

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
