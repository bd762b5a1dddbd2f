"""deploy/nginx.conf, rendered for loopback (piazza/nginxconf.py) and run for real.

    with running_nginx(tmp_path, root, isso_port) as nginx:
        status, headers, body = nginx.get("/comments/?uri=/2026/post/")

The site's files come from ``root`` (a folder, or a target's current/
symlink), the comments from an Isso (gunicorn) on ``isso_port``; HTTPS with a
certificate made for 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conftest import free_port, need_tool

from piazza.nginxconf import BROTLI_STATIC_MODULE, Local, prepare
from piazza.processes import stop

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def need_nginx() -> None:
    need_tool(
        Path(NGINX).exists(), "nginx is not installed (apt-get install nginx-light)"
    )
    need_tool(shutil.which("openssl") is not None, "openssl is not installed")


def make_cert(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def request(
    https_port: int,
    context: ssl.SSLContext,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    port: int = 0,
    method: str = "GET",
    body: bytes | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request over HTTPS to ``https_port`` (or plain HTTP to ``port``)."""
    if port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    else:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", https_port, context=context, timeout=10
        )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


@dataclass(frozen=True)
class RunningNginx:
    local: Local
    context: ssl.SSLContext
    prefix: Path

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs):
        """(status, headers, body) of one request; see :func:`request`."""
        return request(self.local.https_port, self.context, path, headers, **kwargs)


def placeholder_site(base: Path) -> Path:
    """A site of one page under ``base``, for a test about a service behind
    nginx rather than about the pages."""
    root = base / "site"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>Piazza</title>")
    return root


@contextlib.contextmanager
def running_nginx(
    base: Path,
    root: Path,
    isso_port: int,
    *,
    brotli: bool | None = None,
    ideas_port: int | None = None,
    https_port: int | None = None,
) -> Iterator[RunningNginx]:
    """deploy/nginx.conf serving ``root``, proxying /comments/ to
    ``isso_port`` (and /idee-api/ to ``ideas_port``), from a prefix under
    ``base``, on ``https_port`` (default: a free one); stopped on exit."""
    need_nginx()
    if brotli is None:
        brotli = BROTLI_STATIC_MODULE.exists()
    prefix = base / "prefix"
    cert, key = make_cert(base)
    local = Local(
        root=root,
        https_port=https_port or free_port(),
        http_port=free_port(),
        cert=cert,
        key=key,
        logs=prefix / "logs",
        isso_port=isso_port,
        ideas_port=ideas_port or free_port(),
    )
    command = prepare(NGINX, prefix, local, brotli=brotli)
    syntax = subprocess.run(
        [*command, "-t"], capture_output=True, text=True, check=False
    )
    assert syntax.returncode == 0, (
        f"nginx -t rejects the sample config:\n{syntax.stderr}"
    )
    nginx = RunningNginx(local, ssl.create_default_context(cafile=str(cert)), prefix)
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                nginx.get("/")
                break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "nginx did not start: " + (prefix / "error.log").read_text()
                )
            time.sleep(0.05)
        yield nginx
    finally:
        stop(proc)
