"""The S3 target (piazza/s3target.py) against real S3 servers on loopback.

``rclone serve s3`` (tests/s3_server.py) stores the objects as files on disk
for every test its semantics suffice for: publish, change, roll back, keep
the newest, readers during a switch, an upload killed or failing, the
deletion guard, check. rclone does not enforce conditional writes, so the
tests of two publishers at once (the pointer's If-Match, the lock's
If-None-Match) run against moto's server, which does (``moto`` fixture).
boto3 talks to both over HTTP; readers fetch the pointer and the pages
anonymously, as nginx (deploy/nginx-s3.conf) or a CDN does.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import brotli
import pytest
from lxml import html
from rich.console import Console
from s3_server import (
    BUCKET,
    changed_copy,
    child_env,
    manifest,
    publish_build,
    running_s3,
)

from piazza import s3target
from piazza.errors import PublishError
from piazza.publish import list_releases, publish, rollback
from piazza.release import Build
from piazza.s3target import (
    DAY,
    IMMUTABLE,
    SHORT,
    cache_control,
    content_type,
    object_headers,
    parse_spec,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def s3(monkeypatch, tmp_path):
    """rclone serve s3, its objects as files under tmp_path/s3."""
    with running_s3(monkeypatch, "rclone", tmp_path / "s3") as server:
        yield server


@pytest.fixture
def moto(monkeypatch):
    """moto's server: for what needs conditional writes enforced."""
    with running_s3(monkeypatch, "moto") as server:
        yield server


@pytest.fixture
def console() -> Console:
    return Console(file=io.StringIO(), width=200, color_system=None)


def live(s3) -> str:
    status, _headers, body = s3.get(f"/{BUCKET}/site/current.json")
    assert status == 200
    return json.loads(body)["release"]


def served(s3, release: str, rel: str) -> bytes:
    status, _headers, body = s3.get(f"/{BUCKET}/site/releases/{release}/{rel}")
    assert status == 200, rel
    return body


# ------------------------------------------------------------ no server needed


def test_object_headers_follow_the_nginx_cache_rules():
    assert cache_control("theme/css/site.3f2a9c1d0b.css") == IMMUTABLE
    assert cache_control("images/photo.0123abcd.webp") == IMMUTABLE
    assert cache_control("theme/css/site.css") == DAY
    assert cache_control("favicon.svg") == DAY
    assert cache_control("index.html") == SHORT
    assert cache_control("feeds/all.atom.xml") == SHORT
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type("feeds/all.atom.xml") == "application/atom+xml; charset=utf-8"
    assert content_type("feeds/all.rss.xml") == "application/rss+xml; charset=utf-8"
    assert content_type("feeds/all.json") == "application/feed+json; charset=utf-8"
    assert content_type("theme/fonts/a.woff2") == "font/woff2"
    files = {"index.html", "index.html.br", "index.html.gz", "archive.tar.gz"}
    assert object_headers("index.html.br", files) == {
        "ContentType": "text/html; charset=utf-8",
        "CacheControl": SHORT,
        "ContentEncoding": "br",
    }
    assert object_headers("index.html.gz", files)["ContentEncoding"] == "gzip"
    assert "ContentEncoding" not in object_headers("archive.tar.gz", files)


@pytest.mark.parametrize(
    ("spec", "bucket", "prefix"),
    [
        ("s3://piazza", "piazza", ""),
        ("s3://piazza/", "piazza", ""),
        ("s3://piazza/www/site/", "piazza", "www/site/"),
    ],
)
def test_s3_specs_name_a_bucket_and_a_prefix(spec, bucket, prefix):
    assert parse_spec(spec) == (bucket, prefix)


def test_a_bad_s3_spec_says_how_to_write_one():
    with pytest.raises(PublishError, match="s3://BUCKET/PREFIX"):
        parse_spec("s3://B")


# ------------------------------------------------------------ against rclone


def test_publish_the_sample_site_to_s3_change_it_and_roll_back(s3, tmp_path, console):
    content = shutil.copytree(ROOT / "content", tmp_path / "content")
    first = publish(s3.spec(), content=content, console=console)
    assert live(s3) == first.release
    built = s3.target().checksums(first.release)
    assert built and "index.html" in built
    # Every file is there, with the bytes the build made and proper headers.
    home = served(s3, first.release, "index.html")
    assert html.fromstring(home).findtext(".//title")
    _status, headers, _body = s3.get(
        f"/{BUCKET}/site/releases/{first.release}/index.html"
    )
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == SHORT
    assert "index.html.br" in built
    _status, headers, body = s3.get(
        f"/{BUCKET}/site/releases/{first.release}/index.html.br"
    )
    assert headers["Content-Encoding"] == "br"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert brotli.decompress(body) == home
    css = next(rel for rel in built if rel.endswith(".css"))
    _status, headers, _body = s3.get(f"/{BUCKET}/site/releases/{first.release}/{css}")
    assert headers["Content-Type"] == "text/css; charset=utf-8"
    assert headers["Cache-Control"] in {DAY, IMMUTABLE}

    post = sorted((content / "posts").glob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8") + "\n\nUna riga in più.\n")
    again = publish(s3.spec(), content=content, console=console)
    assert again.release != first.release and live(s3) == again.release
    transfer = again.transfer
    assert transfer is not None
    assert 0 < transfer.files_sent < transfer.files_total // 5
    assert transfer.files_linked == transfer.files_total - transfer.files_sent
    listed = list_releases(s3.spec(), console=console)
    assert [r.name for r in listed] == [first.release, again.release]
    assert [r.current for r in listed] == [False, True]
    assert listed[-1].manifest.files == transfer.files_total

    back = rollback(s3.spec(), console=console)
    assert back.name == first.release and live(s3) == first.release
    assert served(s3, live(s3), "index.html") == home


def test_unchanged_publish_changes_nothing_on_s3(s3, published_site):
    target = s3.target()
    build = Build.scan(published_site.output)
    publish_build(target, build, "20260101T000000Z")
    assert target.checksums("20260101T000000Z") == build.checksums
    assert [r.name for r in target.releases()] == ["20260101T000000Z"]
    assert target.releases()[0].current


def test_only_the_newest_releases_are_kept_on_s3(s3, published_site, tmp_path):
    target = s3.target()
    names = [f"2026010{day}T000000Z" for day in range(1, 5)]
    for number, name in enumerate(names):
        build = changed_copy(published_site.output, tmp_path / name, f"v{number}")
        publish_build(target, build, name, keep=2)
    assert [r.name for r in target.releases()] == names[-2:]
    status, _h, _b = s3.get(f"/{BUCKET}/site/releases/{names[0]}/index.html")
    assert status == 404


def test_every_page_a_reader_gets_belongs_to_one_release(s3, published_site, tmp_path):
    """A reader follows the pointer as the delivery side does, while a new
    release is uploaded and switched: the page and the stylesheet it links
    always come from the same release, old or new."""
    target = s3.target()
    old = Build.scan(published_site.output)
    new = changed_copy(published_site.output, tmp_path / "new", "Nuovo")
    publish_build(target, old, "20260101T000000Z")
    doc = html.fromstring(served(s3, "20260101T000000Z", "index.html"))
    css = next(
        href.split("?")[0].split("/", 3)[-1]
        for href in doc.xpath('//link[@rel="stylesheet"]/@href')
    )
    builds = {"20260101T000000Z": old, "20260102T000000Z": new}
    seen: list[str] = []
    wrong: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set() or len(seen) < 3:
            release = live(s3)
            build = builds[release]
            for rel in ("index.html", css):
                body = served(s3, release, rel)
                if hashlib.sha256(body).hexdigest() != build.checksums[rel]:
                    wrong.append(f"{release}/{rel}")
            seen.append(release)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        publish_build(target, new, "20260102T000000Z")
        deadline = time.monotonic() + 30
        while "20260102T000000Z" not in seen and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        done.set()
        thread.join(30)
    assert not wrong
    assert seen[0] == "20260101T000000Z" and seen[-1] == "20260102T000000Z"
    switched = seen.index("20260102T000000Z")
    assert set(seen[switched:]) == {"20260102T000000Z"}  # never back to the old


UPLOADER = """
import sys, threading
from pathlib import Path
sys.path.insert(0, {root!r})
from piazza import s3target
from piazza.release import Build, Manifest
sent = []
real = s3target.send_file
def slow(target, path, key, headers):
    real(target, path, key, headers)
    sent.append(key)
    if len(sent) == 1:
        Path({marker!r}).write_text("one file up, the copies go on")
    if len(sent) >= 1:
        threading.Event().wait()  # hangs here until killed
s3target.send_file = slow
target = s3target.open_s3({spec!r})
build = Build.scan(Path({site!r}))
with target.lock():
    current = next((r.name for r in target.releases() if r.current), None)
    target.upload(build, Manifest({name!r}, "2026-01-02T00:00:00+00:00"), current)
    target.switch({name!r})
"""


def test_a_killed_upload_leaves_the_live_release_and_the_next_publish_recovers(
    s3, published_site, tmp_path
):
    target = s3.target()
    old = Build.scan(published_site.output)
    publish_build(target, old, "20260101T000000Z")
    new = changed_copy(published_site.output, tmp_path / "new", "Nuovo")
    marker = tmp_path / "marker"
    script = UPLOADER.format(
        root=str(ROOT),
        marker=str(marker),
        spec=s3.spec(),
        site=str(new.path),
        name="20260102T000000Z",
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        env=child_env(s3),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read()
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait()
    # Killed mid-upload: the lock is left, files without a manifest too.
    status, _h, _b = s3.get(f"/{BUCKET}/site/.piazza-publish.lock")
    assert status == 200
    status, _h, _b = s3.get(f"/{BUCKET}/site/releases/20260102T000000Z/index.html")
    assert live(s3) == "20260101T000000Z"
    assert [r.name for r in target.releases()] == ["20260101T000000Z"]
    assert served(s3, live(s3), "index.html") == (old.path / "index.html").read_bytes()
    # The next publish takes over the dead publisher's lock and cleans up.
    publish_build(target, new, "20260102T000001Z")
    assert live(s3) == "20260102T000001Z"
    assert [r.name for r in target.releases()] == [
        "20260101T000000Z",
        "20260102T000001Z",
    ]
    leftovers = s3.target().client.list_objects_v2(
        Bucket=BUCKET, Prefix="site/releases/20260102T000000Z"
    )
    assert leftovers.get("KeyCount", 0) == 0


def test_a_failing_upload_removes_what_it_sent(
    s3, published_site, tmp_path, monkeypatch
):
    target = s3.target()
    publish_build(target, Build.scan(published_site.output), "20260101T000000Z")
    new = changed_copy(published_site.output, tmp_path / "new", "Nuovo")
    real = s3target.send_file

    def failing(target, path, key, headers):
        if path.name == "index.html" and path.parent == new.path:
            raise OSError(28, "No space left on device")
        real(target, path, key, headers)

    monkeypatch.setattr(s3target, "send_file", failing)
    with pytest.raises(PublishError, match="live site is unchanged"):
        publish_build(target, new, "20260102T000000Z")
    assert live(s3) == "20260101T000000Z"
    leftovers = target.client.list_objects_v2(
        Bucket=BUCKET, Prefix="site/releases/20260102T000000Z"
    )
    assert leftovers.get("KeyCount", 0) == 0


def test_a_release_that_drops_many_live_files_needs_force(s3, published_site, tmp_path):
    target = s3.target()
    publish_build(target, Build.scan(published_site.output), "20260101T000000Z")
    smaller = Path(shutil.copytree(published_site.output, tmp_path / "smaller"))
    shutil.rmtree(smaller / "en")
    build = Build.scan(smaller)
    with pytest.raises(PublishError, match="--force") as refused:
        publish_build(target, build, "20260102T000000Z")
    assert "en/index.html" in str(refused.value) or "en/" in str(refused.value)
    assert live(s3) == "20260101T000000Z"
    forced = s3.target(force=True)
    publish_build(forced, build, "20260102T000000Z")
    assert live(s3) == "20260102T000000Z"


def test_a_missing_bucket_is_named(s3):
    from piazza.s3target import open_s3

    target = open_s3("s3://no-such-bucket/site")
    with pytest.raises(PublishError, match="no-such-bucket does not exist"):
        target.preflight()


def test_check_says_whether_the_live_release_is_whole(s3, published_site, console):
    target = s3.target()
    publish_build(target, Build.scan(published_site.output), "20260101T000000Z")
    assert s3target.check_live(s3.spec(), console=console) == []
    assert "is whole" in console.file.getvalue()
    target.client.delete_object(
        Bucket=BUCKET, Key="site/releases/20260101T000000Z/index.html"
    )
    with pytest.raises(PublishError, match="lacks 1 of its") as broken:
        s3target.check_live(s3.spec(), console=console)
    assert "index.html" in str(broken.value)


# ------------------------------------------------------------ against moto
# (conditional writes enforced: the pointer's If-Match, the lock's If-None-Match)


def test_of_two_publishers_one_switches_and_the_other_is_told(
    moto, published_site, tmp_path
):
    """Two publishers that both read the pointer, then both upload: the
    conditional write lets the first switch and refuses the second."""
    first, second = moto.target(), moto.target()
    publish_build(first, Build.scan(published_site.output), "20260101T000000Z")
    a = changed_copy(published_site.output, tmp_path / "a", "A")
    b = changed_copy(published_site.output, tmp_path / "b", "B")
    first.releases()
    second.releases()  # both saw 20260101T000000Z live
    first.upload(a, manifest("20260102T000000Z", a), "20260101T000000Z")
    second.upload(b, manifest("20260102T000001Z", b), "20260101T000000Z")
    first.switch("20260102T000000Z")
    with pytest.raises(PublishError, match="NOT made live") as refused:
        second.switch("20260102T000001Z")
    assert "20260102T000000Z" in str(refused.value)
    assert live(moto) == "20260102T000000Z"
    assert (
        served(moto, live(moto), "index.html") == (a.path / "index.html").read_bytes()
    )


def test_a_second_publish_while_one_runs_is_refused_clearly(moto, published_site):
    holder, other = moto.target(), moto.target()
    refusal = pytest.raises(PublishError, match="Another publish to s3://")
    with holder.lock(), refusal as refused, other.lock():
        pass
    assert "wait for it to finish" in str(refused.value)
    with other.lock():  # released: the next one goes through
        pass
