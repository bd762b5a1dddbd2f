"""The S3 target (piazza/s3target.py) against real S3 servers on loopback.

``rclone serve s3`` (tests/s3_server.py) stores the objects as files on disk
for every test its semantics suffice for: publish, change, roll back, keep
the newest, readers during a switch, an upload killed or failing, the
deletion guard, check. rclone does not enforce conditional writes, so the
tests of two publishers at once (the pointer's If-Match, the lock's
If-None-Match) run against moto's server, which does (``moto`` fixture).
boto3 talks to both over HTTP; readers fetch the pointer and the pages
anonymously, as nginx (deploy/nginx-s3.conf) or a CDN does.

The pointer's JSON body must say what its headers say (a CDN's edge function
reads the body): ``test_the_pointer_body_and_headers_agree``.
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
from concurrent.futures import ThreadPoolExecutor
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
    content_named,
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


def pointer(s3) -> dict:
    """The live release and its base, read as deploy/nginx-s3.conf reads them
    (the pointer's headers, by HEAD: see tests/s3_server.py)."""
    status, headers, _body = s3.head(f"/{BUCKET}/site/current.json")
    assert status == 200
    return {
        "release": headers["x-amz-meta-release"],
        "base": headers["x-amz-meta-base"],
    }


def live(s3) -> str:
    return pointer(s3)["release"]


def base_of(s3, release: str) -> str:
    status, _headers, body = s3.get(f"/{BUCKET}/site/releases/{release}.json")
    assert status == 200, release
    return json.loads(body)["base"]


def fetched(s3, release: str, rel: str, base: str | None = None):
    """(status, headers, body) of ``rel`` of ``release``, looked up as the
    delivery side does: the release's own objects, then its base's."""
    answer = s3.get(f"/{BUCKET}/site/releases/{release}/{rel}")
    if answer[0] == 404:
        base = base or base_of(s3, release)
        answer = s3.get(f"/{BUCKET}/site/bases/{base}/{rel}")
    return answer


def served(s3, release: str, rel: str, base: str | None = None) -> bytes:
    status, _headers, body = fetched(s3, release, rel, base)
    assert status == 200, rel
    return body


def keys(s3, under: str) -> list[str]:
    """Every key under site/``under`` (a listing, as the publisher sees it)."""
    client = s3.target().client
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=f"site/{under}"
    )
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


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


def test_names_that_carry_their_content_hash():
    for rel in (
        "pagefind/fragment/it_2c8e5fa1.pf_fragment",
        "pagefind/index/en_b1e4131.pf_index",
        "pagefind/pagefind.en_b1e4131264.pf_meta",
        "theme/css/site.3f2a9c1d.css",
        "theme/css/site.3f2a9c1d.css.br",
    ):
        assert content_named(rel), rel
    for rel in ("index.html", "pagefind/pagefind.js", "2026/deadbeef01/index.html"):
        assert not content_named(rel), rel


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
    _status, headers, _body = fetched(s3, first.release, "index.html")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == SHORT
    assert "index.html.br" in built
    _status, headers, body = fetched(s3, first.release, "index.html.br")
    assert headers["Content-Encoding"] == "br"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert brotli.decompress(body) == home
    css = next(rel for rel in built if rel.endswith(".css"))
    _status, headers, _body = fetched(s3, first.release, css)
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


def test_the_pointer_body_and_headers_agree(s3, published_site, tmp_path):
    target = s3.target()
    publish_build(target, Build.scan(published_site.output), "20260101T000000Z")
    new = changed_copy(published_site.output, tmp_path / "new", "Nuovo")
    publish_build(target, new, "20260102T000000Z")
    status, _headers, body = s3.get(f"/{BUCKET}/site/current.json")
    assert status == 200
    data = json.loads(body)
    assert {"release": data["release"], "base": data["base"]} == pointer(s3)
    assert pointer(s3) == {"release": "20260102T000000Z", "base": "20260101T000000Z"}


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
    status, _h, _b = s3.get(f"/{BUCKET}/site/releases/{names[0]}.json")
    assert status == 404
    # Nothing is left of the others: no file of theirs, and no base but the
    # ones the kept releases stand on.
    kept = set(names[-2:])
    for key in keys(s3, "releases/"):
        assert key.split("/")[2].split(".")[0] in kept, key
    bases = {base_of(s3, name) for name in kept}
    assert {key.split("/")[2].split(".")[0] for key in keys(s3, "bases/")} == bases
    for name in kept:  # and each kept release is whole
        build = Build.scan(tmp_path / name)
        for rel in ("index.html", "index.html.br", "404.html"):
            assert served(s3, name, rel) == (build.path / rel).read_bytes()


def test_a_republish_sends_what_changed_and_neither_sends_nor_copies_the_rest(
    s3, published_site, tmp_path
):
    target = s3.target()
    old = Build.scan(published_site.output)
    publish_build(target, old, "20260101T000000Z")
    new = changed_copy(published_site.output, tmp_path / "new", "Nuovo")
    # Search fragments are named by their content: a changed post gets new
    # ones and drops old ones, which stay in the base unused.
    dropped = next(rel for rel in sorted(new.checksums) if content_named(rel))
    (new.path / dropped).unlink()
    new = Build.scan(new.path)
    changed = {
        rel for rel, digest in new.checksums.items() if old.checksums[rel] != digest
    }
    assert changed and len(changed) < len(new.checksums) // 10
    before = dict(target.stats.calls)
    publish_build(target, new, "20260102T000000Z")
    calls = {op: n - before.get(op, 0) for op, n in target.stats.calls.items()}
    assert calls.get("CopyObject", 0) == 0
    # The changed files, then the lock, checksums, manifest and pointer.
    assert calls["PutObject"] == len(changed) + 4
    overlay = {key.split("/", 3)[3] for key in keys(s3, "releases/20260102T000000Z/")}
    assert overlay == changed
    assert base_of(s3, "20260102T000000Z") == "20260101T000000Z"
    for rel in sorted(new.checksums)[::7] + sorted(changed):
        assert served(s3, "20260102T000000Z", rel) == (new.path / rel).read_bytes()
    assert (
        served(s3, "20260101T000000Z", "index.html")
        == (old.path / "index.html").read_bytes()
    )


def test_a_base_stays_while_a_kept_release_stands_on_it(s3, published_site, tmp_path):
    """A release whose overlay would grow too big gets a base of its own (its
    unchanged files copied server-side); older bases go once no kept release
    uses them, and a rollback to a release on an older base serves it whole."""
    builds = {
        name: changed_copy(published_site.output, tmp_path / name, name[:8])
        for name in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z")
    }
    a, b, c = builds
    target = s3.target()
    publish_build(target, builds[a], a, keep=2)
    publish_build(target, builds[b], b, keep=2)
    assert base_of(s3, b) == a
    whole = s3.target(rebase_above=0)  # every release a base: copies, no overlay
    before = dict(whole.stats.calls)
    publish_build(whole, builds[c], c, keep=2)
    assert base_of(s3, c) == c
    changed = sum(builds[b].checksums[r] != d for r, d in builds[c].checksums.items())
    copies = whole.stats.calls["CopyObject"] - before.get("CopyObject", 0)
    assert copies == len(builds[c].checksums) - changed
    assert [r.name for r in target.releases()] == [b, c]
    assert {key.split("/")[2].split(".")[0] for key in keys(s3, "bases/")} == {a, c}
    # Roll back to b: served whole from its own overlay and a's base.
    target.releases()
    target.switch(b)
    assert pointer(s3)["base"] == a
    for rel in ("index.html", "index.html.br", "404.html", "en/index.html"):
        assert served(s3, b, rel) == (builds[b].path / rel).read_bytes()
    target.releases()
    target.switch(c)
    d = "20260104T000000Z"
    publish_build(target, changed_copy(published_site.output, tmp_path / d, "d"), d, 2)
    assert [r.name for r in target.releases()] == [c, d]
    assert {key.split("/")[2].split(".")[0] for key in keys(s3, "bases/")} == {c}


def test_a_release_of_the_former_layout_is_served_and_built_upon(
    s3, published_site, tmp_path
):
    """A release published before bases: whole under releases/<name>/, its
    manifest naming no base. It is rolled back to as it is, and the next
    publish gets a base of its own, copied from it where unchanged."""
    target = s3.target()
    old = Build.scan(published_site.output)
    name = "20260101T000000Z"
    files = set(old.checksums)

    def put(rel: str) -> None:
        key = target.key("releases", name, rel)
        s3target.send_file(target, old.path / rel, key, object_headers(rel, files))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, sorted(files)))
    written = {".sha256": old.checksum_text(), ".json": manifest(name, old).to_json()}
    for suffix, text in written.items():  # the manifest last, as then
        target.client.put_object(
            Bucket=BUCKET, Key=f"site/releases/{name}{suffix}", Body=text.encode()
        )
    target.releases()
    target.switch(name)
    assert pointer(s3) == {"release": name, "base": "-"}
    new = changed_copy(published_site.output, tmp_path / "new", "Nuovo")
    publish_build(target, new, "20260102T000000Z")
    assert base_of(s3, "20260102T000000Z") == "20260102T000000Z"
    copied = target.stats.calls["CopyObject"]
    assert copied == sum(old.checksums[r] == d for r, d in new.checksums.items())
    for rel in [*sorted(new.checksums)[::9], "index.html"]:
        assert served(s3, "20260102T000000Z", rel) == (new.path / rel).read_bytes()
    target.releases()
    target.switch(name)  # a rollback to the former layout's release
    for rel in ("index.html", "en/index.html", "404.html"):
        assert served(s3, live(s3), rel) == (old.path / rel).read_bytes()


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
            now = pointer(s3)  # the release and its base, in one read
            release = now["release"]
            build = builds[release]
            for rel in ("index.html", css):
                body = served(s3, release, rel, now["base"])
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
    # An overlay can't remove a file: the release has a base of its own, and
    # what it removed is gone from it.
    assert base_of(s3, "20260102T000000Z") == "20260102T000000Z"
    assert fetched(s3, "20260102T000000Z", "en/index.html")[0] == 404
    assert (
        served(s3, "20260102T000000Z", "index.html")
        == (smaller / "index.html").read_bytes()
    )


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
    home = next(key for key in keys(s3, "") if key.endswith("Z/index.html"))
    target.client.delete_object(Bucket=BUCKET, Key=home)
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
