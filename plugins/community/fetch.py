"""HTTP for feeds: many at once, each within its bounds, never raising.

httpx does the protocol; this module adds what a planet needs and feedparser's
own fetching lacks: conditional GET, one deadline per feed that covers
redirects and the whole body, a size cap counted after decompression (the
body is decoded here, in bounded steps, so a gzip bomb stops at the cap), at
most a few redirects with permanent ones reported, and 410/429 understood.
Every problem becomes a :class:`FetchResult` with a readable ``error``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import time
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

import brotli
import httpx

from community.settings import FetchLimits

logger = logging.getLogger(__name__)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate, br"


class Outcome(StrEnum):
    FETCHED = "fetched"  # 200 with a body
    NOT_MODIFIED = "not-modified"  # 304
    GONE = "gone"  # 410
    RATE_LIMITED = "rate-limited"  # 429, or 503 with Retry-After
    FAILED = "failed"  # anything else: the error says what


@dataclass(frozen=True)
class FetchRequest:
    """One feed to fetch, with the validators of its last fetch."""

    key: str
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """What happened when fetching one feed."""

    key: str
    url: str  # as requested
    outcome: Outcome
    status: int | None = None  # final HTTP status, if any answer came
    final_url: str | None = None
    body: bytes | None = None  # decoded, at most FetchLimits.max_bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None  # target of permanent-only redirects
    retry_after: float | None = None  # seconds the server asked us to wait
    error: str | None = None
    elapsed: float = 0.0
    # Every redirect followed, in order: (its HTTP status, where it led).
    redirects: tuple[tuple[int, str], ...] = ()
    # A redirect not followed because of where it leads (not http(s), or
    # from the public web into a private network).
    refused_redirect: str | None = None


class _Abort(Exception):
    """Stops one fetch with a message for the editor (never leaves this module)."""

    def __init__(
        self,
        message: str,
        *,
        redirects: tuple[tuple[int, str], ...] = (),
        refused: str | None = None,
    ) -> None:
        super().__init__(message)
        self.redirects = redirects
        self.refused = refused


# --- Bounded decoding ---------------------------------------------------------


class _Decoder:
    """Decodes one Content-Encoding, refusing to produce more than ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.produced = 0

    def _count(self, data: bytes) -> bytes:
        self.produced += len(data)
        if self.produced > self.limit:
            raise _Abort(_too_large(self.limit))
        return data

    def decode(self, data: bytes) -> bytes:
        return self._count(data)

    def flush(self) -> bytes:
        return b""

    @property
    def room(self) -> int:
        # One byte more than allowed, so that going over is noticed.
        return self.limit - self.produced + 1


class _ZlibDecoder(_Decoder):
    def __init__(self, limit: int, wbits: int) -> None:
        super().__init__(limit)
        self.wbits = wbits
        self.gzip = wbits > 16
        self.started = False
        self.inflater = zlib.decompressobj(wbits)

    def decode(self, data: bytes) -> bytes:
        out = []
        while data:
            try:
                chunk = self.inflater.decompress(data, self.room)
            except zlib.error:
                if self.started or self.wbits != zlib.MAX_WBITS:
                    raise
                # "deflate" is often sent raw, without the zlib header.
                self.wbits = -zlib.MAX_WBITS
                self.inflater = zlib.decompressobj(self.wbits)
                continue
            self.started = True
            out.append(self._count(chunk))
            data = self.inflater.unconsumed_tail
            if self.inflater.eof:
                data = self.inflater.unused_data
                if not (self.gzip and data):
                    break  # trailing bytes after the stream are ignored
                self.inflater = zlib.decompressobj(self.wbits)  # next gzip member
        return b"".join(out)

    def flush(self) -> bytes:
        return self._count(self.inflater.flush(self.room))


class _BrotliDecoder(_Decoder):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.inflater = brotli.Decompressor()

    def decode(self, data: bytes) -> bytes:
        return self._count(self.inflater.process(data, output_buffer_limit=self.room))


class _Chain(_Decoder):
    def __init__(self, decoders: Sequence[_Decoder]) -> None:
        super().__init__(decoders[-1].limit if decoders else 0)
        self.decoders = decoders

    def decode(self, data: bytes) -> bytes:
        for decoder in self.decoders:
            data = decoder.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self.decoders:
            data = (decoder.decode(data) if data else b"") + decoder.flush()
        return data


def _decoder_for(content_encoding: str | None, limit: int) -> _Decoder:
    codings = [
        c.strip().lower()
        for c in (content_encoding or "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    decoders: list[_Decoder] = []
    for coding in reversed(codings):  # the last applied is undone first
        if coding in ("gzip", "x-gzip"):
            decoders.append(_ZlibDecoder(limit, 16 + zlib.MAX_WBITS))
        elif coding == "deflate":
            decoders.append(_ZlibDecoder(limit, zlib.MAX_WBITS))
        elif coding == "br":
            decoders.append(_BrotliDecoder(limit))
        else:
            raise _Abort(f"unsupported Content-Encoding {coding!r}")
    if not decoders:
        return _Decoder(limit)
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)


def _too_large(limit: int) -> str:
    return f"body larger than {_size(limit)} (after decompression); stopped reading"


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:g} MiB"
    return f"{count / 1024:g} KiB" if count >= 1024 else f"{count} bytes"


async def _read_body(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _Abort(f"body of {_size(int(declared))} is over the {_size(limit)} cap")
    decoder = _decoder_for(response.headers.get("content-encoding"), limit)
    chunks = []
    received = 0
    try:
        async for raw in response.aiter_raw():
            received += len(raw)
            if received > limit:
                raise _Abort(_too_large(limit))
            chunks.append(decoder.decode(raw))
        chunks.append(decoder.flush())
    except (zlib.error, brotli.error) as exc:
        raise _Abort(f"corrupt compressed body ({exc})") from None
    return b"".join(chunks)


# --- Fetching -----------------------------------------------------------------


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def make_client(
    limits: FetchLimits,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    connections: int | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """An httpx client for feeds: our User-Agent, no automatic redirects."""
    connections = connections or limits.concurrency
    return httpx.AsyncClient(
        headers={
            "User-Agent": limits.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        timeout=httpx.Timeout(limits.timeout),
        limits=httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections
        ),
        follow_redirects=False,
        transport=transport,
        verify=ssl_context or True,
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class _Clients:
    """One client per origin, https ones sharing one TLS context.

    httpcore's pool does work quadratic in its connections on every request
    it queues or finishes; a pool per host stays as small as the per-host
    limit, which is what keeps a run of hundreds of feeds cheap.
    """

    def __init__(
        self, limits: FetchLimits, transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self.limits = limits
        self.transport = transport
        self.ssl_context: ssl.SSLContext | None = None  # made at the first https
        self.plain_context: ssl.SSLContext | None = None
        # Host names are looked up to check redirects only on the real network
        # (a test transport's hosts need not exist).
        self.resolve = transport is None
        self.clients: dict[str, httpx.AsyncClient] = {}

    def for_url(self, url: str) -> httpx.AsyncClient:
        origin = _origin(url)
        client = self.clients.get(origin)
        if client is None:
            client = self.clients[origin] = make_client(
                self.limits,
                self.transport,
                connections=self.limits.per_host,
                ssl_context=self._tls(origin),
            )
        return client

    def _tls(self, origin: str) -> ssl.SSLContext | None:
        """The shared, verifying TLS context for an https origin (loading the
        CA certificates costs tens of milliseconds: only once, and only when
        a feed is on https). A client for an http origin only ever speaks
        plain HTTP to it (redirects elsewhere go through their origin's
        client): it gets a context that trusts no certificate at all."""
        if self.transport is not None:
            return None
        if not origin.startswith("https:"):
            if self.plain_context is None:
                self.plain_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            return self.plain_context
        if self.ssl_context is None:
            self.ssl_context = httpx.create_ssl_context()
        return self.ssl_context

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients.values()))


async def fetch_feed(
    clients: _Clients, request: FetchRequest, limits: FetchLimits
) -> FetchResult:
    """Fetch one feed within ``limits``; every failure is a FAILED result."""
    started = time.monotonic()

    def failed(message: str, **details) -> FetchResult:
        return FetchResult(
            request.key,
            request.url,
            Outcome.FAILED,
            error=message,
            elapsed=time.monotonic() - started,
            **details,
        )

    try:
        async with asyncio.timeout(limits.timeout):
            result = await _follow(clients, request, limits)
    except TimeoutError:
        return failed(f"no complete answer within {limits.timeout:g} s (timed out)")
    except httpx.TimeoutException:
        return failed(f"timed out after {limits.timeout:g} s")
    except httpx.ConnectError as exc:
        return failed(f"cannot connect: {exc or 'connection refused'}")
    except httpx.HTTPError as exc:
        return failed(f"{type(exc).__name__}: {exc}")
    except (httpx.InvalidURL, ValueError) as exc:
        return failed(f"invalid address: {exc}")
    except _Abort as exc:
        return failed(str(exc), redirects=exc.redirects, refused_redirect=exc.refused)
    except OSError as exc:
        return failed(f"network error: {exc}")
    except Exception as exc:
        logger.info(
            "community: unexpected error fetching %s", request.url, exc_info=exc
        )
        return failed(f"internal error: {type(exc).__name__}: {exc}")
    return replace(result, elapsed=time.monotonic() - started)


async def _follow(
    clients: _Clients, request: FetchRequest, limits: FetchLimits
) -> FetchResult:
    headers = {}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    url = request.url
    visited = {url}
    permanent = True
    moved_to = None
    hops: list[tuple[int, str]] = []
    origin_network: str | None = None
    for _hop in range(limits.max_redirects + 1):
        client = clients.for_url(url)
        async with client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status in REDIRECTS:
                location = response.headers.get("location", "").strip()
                if not location:
                    raise _Abort(
                        f"HTTP {status} redirect without a Location",
                        redirects=tuple(hops),
                    )
                target = urljoin(str(response.url), location)
                if urlsplit(target).scheme not in ("http", "https"):
                    raise _Abort(
                        f"redirect to a non-web address: {target}",
                        redirects=tuple(hops),
                        refused=target,
                    )
                if target in visited:
                    raise _Abort(
                        f"redirect loop: {url} sends back to {target}",
                        redirects=tuple(hops),
                    )
                if origin_network is None:
                    origin_network = await network_of(request.url, clients.resolve)
                network = await network_of(target, clients.resolve)
                if network not in ("public", "unknown", origin_network):
                    raise _Abort(
                        f"redirect to a {network} address: {target} "
                        f"(from the {origin_network} address {request.url}); "
                        "not followed",
                        redirects=tuple(hops),
                        refused=target,
                    )
                permanent = permanent and status in PERMANENT_REDIRECTS
                moved_to = target if permanent else moved_to
                hops.append((status, target))
                visited.add(target)
                url = target
                continue
            result = await _final(request, response, limits, moved_to)
            return replace(result, redirects=tuple(hops))
    raise _Abort(
        f"more than {limits.max_redirects} redirects (last: {url})",
        redirects=tuple(hops),
    )


async def network_of(url: str, resolve: bool = True) -> str:
    """Which network an http(s) URL's host is in: "loopback", "private" (any
    address that is not on the public internet: RFC 1918, link-local, unique
    local, reserved), "public", or "unknown" (a name that does not resolve,
    or ``resolve`` is false and the host is a name, not an address)."""
    host = (urlsplit(url).hostname or "").strip("[]")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            return "loopback"
        if not resolve:
            return "unknown"
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return "unknown"
        addresses = [
            ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos
        ]
    if not addresses:
        return "unknown"
    if any(a.is_loopback for a in addresses):
        return "loopback"
    if any(not a.is_global for a in addresses):
        return "private"
    return "public"


async def _final(
    request: FetchRequest,
    response: httpx.Response,
    limits: FetchLimits,
    moved_to: str | None,
) -> FetchResult:
    status = response.status_code
    common = {
        "status": status,
        "final_url": str(response.url),
        "moved_to": moved_to,
        "etag": response.headers.get("etag"),
        "last_modified": response.headers.get("last-modified"),
    }
    if status == 304:
        # No body to read, but reading it hands the connection back to the
        # pool: the next feed on this host skips a TCP handshake.
        await response.aread()
        return FetchResult(request.key, request.url, Outcome.NOT_MODIFIED, **common)
    if status == 410:
        return FetchResult(
            request.key,
            request.url,
            Outcome.GONE,
            error="410 Gone: the site removed this feed",
            **common,
        )
    retry_after = retry_after_seconds(response.headers.get("retry-after"))
    if status == 429 or (status == 503 and retry_after is not None):
        wait = f", asked to wait {retry_after:.0f} s" if retry_after is not None else ""
        return FetchResult(
            request.key,
            request.url,
            Outcome.RATE_LIMITED,
            retry_after=retry_after,
            error=f"HTTP {status} {response.reason_phrase}{wait}",
            **common,
        )
    if status != 200:
        return FetchResult(
            request.key,
            request.url,
            Outcome.FAILED,
            retry_after=retry_after,
            error=f"HTTP {status} {response.reason_phrase}".strip(),
            **common,
        )
    body = await _read_body(response, limits.max_bytes)
    return FetchResult(
        request.key,
        request.url,
        Outcome.FETCHED,
        body=body,
        content_type=response.headers.get("content-type"),
        **common,
    )


async def fetch_each(
    requests: Iterable[FetchRequest],
    limits: FetchLimits,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[FetchResult]:
    """Fetch all feeds concurrently, yielding each result as it completes.

    At most ``limits.concurrency`` fetches run at once, and at most
    ``limits.per_host`` against one host. A feed's deadline starts when its
    fetch does, not while it waits for a slot.
    """
    global_slots = asyncio.Semaphore(limits.concurrency)
    host_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(limits.per_host)
    )
    clients = _Clients(limits, transport)

    async def one(request: FetchRequest) -> FetchResult:
        # A "host" is an origin (scheme, name, port), as browsers count it
        # for their six connections per host.
        async with host_slots[_origin(request.url)], global_slots:
            return await fetch_feed(clients, request, limits)

    tasks = [asyncio.create_task(one(r)) for r in requests]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
        await clients.aclose()
