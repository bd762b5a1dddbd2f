"""A real HTTP server on loopback that plays every kind of feed host.

Tests register routes (a path and how to answer it) and point feeds.toml at
``server.url(path)``. The server records every request, so tests can check
headers (User-Agent, conditional GET) and how often a feed was fetched.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "community"


@dataclass
class Route:
    """How to answer one path.

    ``body`` is bytes, or a callable returning an iterable of chunks (for
    bodies too big to hold). With ``validators`` the route sends an ETag and
    Last-Modified and answers 304 when the request carries them back.
    """

    status: int = 200
    body: bytes | Callable[[], Iterable[bytes]] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    chunk_delay: float = 0.0  # between chunks (a trickling server)
    validators: bool = False
    content_type: str = "application/xml; charset=utf-8"


@dataclass
class Seen:
    """One request the server answered."""

    path: str
    headers: dict[str, str]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.hits: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # Routes ------------------------------------------------------------------

    def route(self, path: str, route: Route | None = None, **kwargs) -> str:
        self.routes[path] = route or Route(**kwargs)
        return self.url(path)

    def fixture(self, path: str, name: str, **kwargs) -> str:
        """Serve a file of tests/fixtures/community/ at ``path``."""
        return self.route(path, body=(FIXTURES / name).read_bytes(), **kwargs)

    def redirect(self, path: str, to: str, status: int = 301) -> str:
        return self.route(path, status=status, headers={"Location": to})

    def url(self, path: str) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def requests_for(self, path: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # Serving -------------------------------------------------------------------

    @contextlib.contextmanager
    def running(self) -> Iterator[FeedServer]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        server.block_on_close = False  # a hanging route must not hang the tests
        self._server = server
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def do_GET(self):
                path = self.path
                with owner._lock:
                    owner.requests.append(Seen(path, dict(self.headers.items())))
                    owner.hits[path] += 1
                route = owner.routes.get(path)
                if route is None:
                    self._answer(404, b"not found", {})
                    return
                if route.delay:
                    time.sleep(route.delay)
                headers = {"Content-Type": route.content_type, **route.headers}
                if route.validators and isinstance(route.body, bytes):
                    tag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
                    modified = "Sat, 21 Nov 2026 08:00:00 GMT"
                    headers |= {"ETag": tag, "Last-Modified": modified}
                    if self.headers.get("If-None-Match") == tag:
                        self._answer(304, b"", headers)
                        return
                self._answer(route.status, route.body, headers, route.chunk_delay)

            def _answer(self, status, body, headers, chunk_delay=0.0):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                try:
                    if isinstance(body, bytes):
                        if "Content-Length" not in headers:
                            self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        if status != 304:
                            self.wfile.write(body)
                        return
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    for chunk in body():
                        self.wfile.write(chunk)
                        if chunk_delay:
                            self.wfile.flush()
                            time.sleep(chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should have

        return Handler


# Bodies ------------------------------------------------------------------------


def endless(total: int, chunk: int = 64 * 1024) -> Callable[[], Iterable[bytes]]:
    """A body of ``total`` bytes sent in chunks, never held in memory."""

    def chunks() -> Iterator[bytes]:
        block = b"<!-- " + b"x" * (chunk - 9) + b" -->\n"
        sent = 0
        yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
        while sent < total:
            yield block
            sent += len(block)

    return chunks


def trickle(pieces: int, piece: bytes = b" ") -> Callable[[], Iterable[bytes]]:
    def chunks() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?>'
        for _ in range(pieces):
            yield piece

    return chunks


def gzip_bomb(size: int = 256 * 1024 * 1024) -> bytes:
    """A gzip body of a few hundred KB that inflates to ``size`` bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    parts = [compressor.compress(b'<?xml version="1.0"?><rss><channel><title>')]
    block = b"A" * (1024 * 1024)
    parts += [compressor.compress(block) for _ in range(size // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)
