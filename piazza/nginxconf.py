"""Run deploy/nginx.conf somewhere else: on loopback ports, from a temp folder.

The sample config is written for production (ports 80/443, /srv/piazza, Let's
Encrypt paths). ``render_site`` rewrites exactly those lines, and fails loudly
if one is missing, so tests exercise the real file rather than a copy of it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"
SAMPLE_S3 = SAMPLE.with_name("nginx-s3.conf")
BROTLI_STATIC_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
MIME_TYPES = Path("/etc/nginx/mime.types")


class RenderError(Exception):
    """deploy/nginx.conf no longer has a line the renderer rewrites."""


@dataclass(frozen=True)
class Local:
    """Where and how a rendered config runs."""

    root: Path  # the target's current/ symlink
    https_port: int
    http_port: int
    cert: Path
    key: Path
    logs: Path
    server_name: str = "127.0.0.1"
    isso_port: int = 8080
    cache: Path | None = None  # Isso's proxy cache (default: under logs' parent)
    ideas_port: int = 8090


def _sub(pattern: str, replacement: str, text: str, *, count: int = 0) -> str:
    new, n = re.subn(pattern, replacement, text, count=count, flags=re.MULTILINE)
    if n == 0:
        raise RenderError(f"deploy/nginx.conf: no line matches {pattern!r}")
    return new


def render_site(template: str, local: Local, *, brotli: bool = True) -> str:
    """The sample server config, rewritten to run as ``local`` describes."""
    text = template
    text = _sub(r"^\s*listen \[::\]:\d+.*;\n", "", text)
    text = _sub(r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{local.http_port};", text)
    text = _sub(
        r"^(\s*)listen 443 ssl( http2)?;",
        rf"\1listen 127.0.0.1:{local.https_port} ssl\2;",
        text,
    )
    text = _sub(
        r"^(\s*)server_name [^;]+;", rf"\1server_name {local.server_name};", text
    )
    text = _sub(r"^(\s*root) /srv/piazza/current;", rf"\1 {local.root};", text)
    text = _sub(r"^(\s*ssl_certificate) +\S+;", rf"\1 {local.cert};", text)
    text = _sub(r"^(\s*ssl_certificate_key) +\S+;", rf"\1 {local.key};", text)
    text = _sub(r"^(\s*access_log) +\S+;", rf"\1 {local.logs / 'access.log'};", text)
    text = _sub(r"^(\s*error_log) +\S+;", rf"\1 {local.logs / 'error.log'};", text)
    if not brotli:
        text = _sub(r"^(\s*)brotli_static on;", r"\1# brotli_static on;", text)
    cache = local.cache or local.logs.parent / "isso-cache"
    text = _sub(
        r"^(proxy_cache_path) /var/cache/nginx/piazza-isso", rf"\1 {cache}", text
    )
    text = _sub(
        r"^(proxy_cache_path) /var/cache/nginx/piazza-ideas",
        rf"\1 {local.logs.parent / 'ideas-cache'}",
        text,
    )
    text = _sub(
        r"http://127\.0\.0\.1:8090/", f"http://127.0.0.1:{local.ideas_port}/", text
    )
    isso = f"http://127.0.0.1:{local.isso_port}/"
    return _sub(r"http://127\.0\.0\.1:8080/", isso, text)


def render_s3(
    template: str,
    *,
    port: int,
    endpoint: str,
    bucket_path: str,
    logs: Path,
    cache: Path,
) -> str:
    """deploy/nginx-s3.conf as an origin on 127.0.0.1:``port`` reading the
    bucket at ``endpoint`` (host:port, plain HTTP) under ``bucket_path``."""
    text = template
    text = _sub(r"^\s*listen \[::\]:\d+.*;\n", "", text)
    text = _sub(r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{port};", text)
    text = _sub(r"^(\s*)server_name [^;]+;", r"\1server_name 127.0.0.1;", text)
    text = _sub(r"^(\s*server) s3\.[^;]+;", rf"\1 {endpoint};", text)
    text = _sub(r"^(\s*proxy_set_header Host) [^;]+;", rf"\1 {endpoint};", text)
    text = _sub(
        r"https://piazza_bucket/BUCKET/PREFIX/",
        f"http://piazza_bucket/{bucket_path}/",
        text,
    )
    text = _sub(r"^(\s*access_log) +\S+;", rf"\1 {logs / 'access.log'};", text)
    text = _sub(r"^(\s*error_log) +\S+;", rf"\1 {logs / 'error.log'};", text)
    return _sub(r"^(proxy_cache_path) /var/cache/nginx/piazza-s3", rf"\1 {cache}", text)


def render_main(
    site_conf: Path,
    prefix: Path,
    *,
    brotli: bool = True,
    workers: int | str = 1,
    connections: int = 64,
) -> str:
    """A whole nginx.conf that runs in the foreground from ``prefix``."""
    lines = []
    if brotli:
        lines.append(f"load_module {BROTLI_STATIC_MODULE};")
    if os.geteuid() == 0:
        # Workers would run as nobody and could not read a root-owned temp dir.
        lines.append("user root root;")
    temp = prefix / "tmp"
    lines += [
        "daemon off;",
        f"worker_processes {workers};",
        f"pid {prefix / 'nginx.pid'};",
        f"error_log {prefix / 'error.log'} notice;",
        f"events {{ worker_connections {connections}; }}",
        "http {",
        f"    include {MIME_TYPES};",
        "    default_type application/octet-stream;",
        f"    client_body_temp_path {temp / 'body'};",
        f"    proxy_temp_path {temp / 'proxy'};",
        f"    fastcgi_temp_path {temp / 'fastcgi'};",
        f"    uwsgi_temp_path {temp / 'uwsgi'};",
        f"    scgi_temp_path {temp / 'scgi'};",
        f"    include {site_conf};",
        "}",
    ]
    return "\n".join(lines) + "\n"


def prepare(
    nginx: str,
    prefix: Path,
    local: Local,
    *,
    brotli: bool = True,
    workers: int | str = 1,
    connections: int = 64,
) -> list[str]:
    """Write the rendered sample config under ``prefix`` (with the logs/ and
    tmp/ folders it uses) and return the command that runs ``nginx`` from
    there in the foreground (add "-t" to only check the config)."""
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    site_conf = prefix / "piazza.conf"
    site_conf.write_text(render_site(SAMPLE.read_text(), local, brotli=brotli))
    main_conf = prefix / "nginx.conf"
    main_conf.write_text(
        render_main(
            site_conf, prefix, brotli=brotli, workers=workers, connections=connections
        )
    )
    return [
        nginx,
        "-p",
        str(prefix),
        "-c",
        str(main_conf),
        "-e",
        str(prefix / "error.log"),
    ]
