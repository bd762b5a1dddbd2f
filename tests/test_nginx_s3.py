"""deploy/nginx-s3.conf in front of a real S3 server (rclone serve s3, its
objects as files on disk): it serves the release the pointer names, one
release per request, while releases are switched."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest
from conftest import free_port
from lxml import html
from nginx_server import NGINX, need_nginx, request
from s3_server import BUCKET, changed_copy, publish_build, running_s3

from piazza.nginxconf import SAMPLE_S3, render_main, render_s3
from piazza.processes import stop
from piazza.release import Build


@contextlib.contextmanager
def running_origin(base: Path, s3) -> Iterator[int]:
    """deploy/nginx-s3.conf on a loopback port, reading ``s3``; its port."""
    need_nginx()
    prefix = base / "nginx-s3"
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = prefix / "piazza-s3.conf"
    site.write_text(
        render_s3(
            SAMPLE_S3.read_text(),
            port=port,
            endpoint=f"127.0.0.1:{s3.port}",
            bucket_path=f"{BUCKET}/site",
            logs=prefix / "logs",
            cache=prefix / "cache",
        )
    )
    main = prefix / "nginx.conf"
    main.write_text(render_main(site, prefix, brotli=False))
    command = [NGINX, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "e.log")]
    syntax = subprocess.run(
        [*command, "-t"], capture_output=True, text=True, check=False
    )
    assert syntax.returncode == 0, f"nginx -t rejects nginx-s3.conf:\n{syntax.stderr}"
    proc = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get(port, "/")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((prefix / "e.log").read_text()) from None
                time.sleep(0.05)
        yield port
    finally:
        stop(proc)


def get(port: int, path: str, headers: dict[str, str] | None = None):
    """A plain HTTP GET to the origin on ``port``."""
    return request(0, None, path, headers, port=port)


@pytest.fixture
def s3(monkeypatch, tmp_path):
    with running_s3(monkeypatch, "rclone", tmp_path / "s3") as server:
        yield server


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def test_nginx_serves_the_release_the_pointer_names(s3, published_site, tmp_path):
    target = s3.target()
    old = Build.scan(published_site.output)
    publish_build(target, old, "20260101T000000Z")
    with running_origin(tmp_path, s3) as port:
        status, headers, body = get(port, "/")
        assert status == 200
        assert headers["X-Piazza-Release"] == "20260101T000000Z"
        assert body == (old.path / "index.html").read_bytes()
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Cache-Control"] == "public, max-age=300"
        assert "Accept-Encoding" in headers["Vary"]
        assert "x-amz-request-id" not in {k.lower() for k in headers}
        # A browser that takes brotli gets the pre-compressed object.
        status, headers, body = get(port, "/", {"Accept-Encoding": "gzip, br"})
        assert headers["Content-Encoding"] == "br"
        assert brotli.decompress(body) == (old.path / "index.html").read_bytes()
        # A stylesheet the page links, with its long lifetime.
        doc = html.fromstring((old.path / "index.html").read_bytes())
        href = doc.xpath('//link[@rel="stylesheet"]/@href')[0]
        path = "/" + href.split("://", 1)[-1].split("/", 1)[-1]
        status, headers, body = get(port, path)
        assert status == 200 and headers["Content-Type"].startswith("text/css")
        assert "max-age=" in headers["Cache-Control"]
        # A page that is not there: the release's own 404 page, status 404.
        status, headers, body = get(port, "/no/such/page/")
        assert status == 404
        assert body == (old.path / "404.html").read_bytes()
        # The lock and other hidden keys are never served.
        assert get(port, "/.piazza-publish.lock")[0] == 404


def test_nginx_serves_an_overlay_over_its_base_and_not_what_a_release_removed(
    s3, published_site, tmp_path
):
    target = s3.target()
    old = Build.scan(published_site.output)
    new = changed_copy(published_site.output, tmp_path / "new", "Nuovo")
    publish_build(target, old, "20260101T000000Z")
    publish_build(target, new, "20260102T000000Z")  # the home page over the base
    smaller = Path(shutil.copytree(new.path, tmp_path / "smaller"))
    shutil.rmtree(smaller / "en")
    with running_origin(tmp_path, s3) as port:
        status, headers, body = get(port, "/")
        assert status == 200 and headers["X-Piazza-Release"] == "20260102T000000Z"
        assert body == (new.path / "index.html").read_bytes()
        status, headers, body = get(port, "/", {"Accept-Encoding": "br"})
        assert brotli.decompress(body) == (new.path / "index.html").read_bytes()
        status, headers, body = get(port, "/en/")  # unchanged: from the base
        assert status == 200 and body == (new.path / "en/index.html").read_bytes()
        # A release that removes /en/ (forced) has a base of its own, where
        # /en/ is not: the page is gone, with that release's 404 page.
        publish_build(s3.target(force=True), Build.scan(smaller), "20260103T000000Z")
        deadline = time.monotonic() + 30
        while get(port, "/")[1]["X-Piazza-Release"] != "20260103T000000Z":
            assert time.monotonic() < deadline, "nginx never followed the switch"
            time.sleep(0.05)
        status, headers, body = get(port, "/en/")
        assert status == 404 and headers["X-Piazza-Release"] == "20260103T000000Z"
        assert body == (smaller / "404.html").read_bytes()


def test_readers_through_nginx_get_one_release_while_it_switches(
    s3, published_site, tmp_path
):
    target = s3.target()
    old = Build.scan(published_site.output)
    new = changed_copy(published_site.output, tmp_path / "new", "Nuovo")
    builds = {"20260101T000000Z": old, "20260102T000000Z": new}
    publish_build(target, old, "20260101T000000Z")
    pages = ["/", "/en/"]
    wrong: list[str] = []
    seen: list[str] = []
    done = threading.Event()
    with running_origin(tmp_path, s3) as port:

        def reader() -> None:
            while not done.is_set():
                for page in pages:
                    status, headers, body = get(port, page)
                    release = headers["X-Piazza-Release"]
                    rel = page.lstrip("/") + "index.html"
                    if status != 200 or digest(body) != builds[release].checksums[rel]:
                        wrong.append(f"{release}{page}")
                    seen.append(release)

        readers = [threading.Thread(target=reader) for _ in range(2)]
        for thread in readers:
            thread.start()
        try:
            publish_build(target, new, "20260102T000000Z")
            deadline = time.monotonic() + 30
            while seen.count("20260102T000000Z") < 20:
                assert time.monotonic() < deadline, "nginx never followed the switch"
                time.sleep(0.05)
            # And back: a rollback is the same switch.
            target.releases()
            target.switch("20260101T000000Z")
            deadline = time.monotonic() + 30
            while get(port, "/")[1]["X-Piazza-Release"] != "20260101T000000Z":
                assert time.monotonic() < deadline, "nginx never followed the rollback"
                time.sleep(0.05)
        finally:
            done.set()
            for thread in readers:
                thread.join(30)
    assert not wrong
    assert seen[0] == "20260101T000000Z"
