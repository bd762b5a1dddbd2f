"""deploy/nginx.conf, run for real on loopback, serving a published target."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, free_port, need_tool
from isso_server import IssoServer, call, running_isso_gunicorn
from lxml import html
from nginx_server import need_nginx, request, running_nginx
from rich.console import Console

from piazza.comments import backup, restore
from piazza.nginxconf import BROTLI_STATIC_MODULE
from piazza.publish import publish, rollback

PRECOMPRESS = "compressed"  # plugins/compressed


def publishconf_plugins() -> list[str]:
    from pelican.settings import read_settings

    return list(read_settings(str(ROOT / "publishconf.py")).get("PLUGINS") or [])


def test_publishconf_enables_precompression():
    plugins = publishconf_plugins()
    assert PRECOMPRESS in plugins, (
        "publishconf.py should add 'compressed' to PLUGINS so the "
        "published site carries .gz and .br files (deploy/nginx.conf serves them)"
    )


@dataclass(frozen=True)
class Served:
    target: Path
    https_port: int
    http_port: int
    context: ssl.SSLContext
    content: Path
    releases: tuple[str, str]
    isso: IssoServer | None = None

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs):
        """(status, headers, body); see nginx_server.request."""
        return request(self.https_port, self.context, path, headers, **kwargs)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    need_nginx()
    brotli = BROTLI_STATIC_MODULE.exists()
    base = tmp_path_factory.mktemp("nginx")
    quiet = Console(file=io.StringIO())
    target = base / "target"
    target.mkdir()
    content = shutil.copytree(ROOT / "content", base / "content")
    overrides = {}
    if PRECOMPRESS not in publishconf_plugins():
        # Until publishconf.py enables it (see the test above), enable it here so
        # the serving of pre-compressed files is still exercised.
        overrides = {"PLUGINS": [*publishconf_plugins(), PRECOMPRESS]}
    first = publish(str(target), content=content, overrides=overrides, console=quiet)
    (content / "posts" / "servito.it.md").write_text(
        "Title: Servito da nginx\nDate: 2026-04-02 10:00\nCategory: Azienda\n"
        "Slug: servito\nLang: it\nSummary: Prova.\n\nTesto.\n",
        encoding="utf-8",
    )
    second = publish(str(target), content=content, overrides=overrides, console=quiet)

    isso_port = free_port()
    with running_nginx(base, target / "current", isso_port, brotli=brotli) as nginx:
        site = f"https://127.0.0.1:{nginx.local.https_port}"
        with running_isso_gunicorn(base / "isso", site, port=isso_port) as isso:
            yield Served(
                target, nginx.local.https_port, nginx.local.http_port,
                nginx.context, content, (first.release, second.release), isso,
            )  # fmt: skip


def test_pages_are_served_from_the_current_release(served):
    status, headers, body = served.get("/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body == (served.target / "current" / "index.html").read_bytes()
    status, _, body = served.get("/2026/servito/")
    assert status == 200
    title = html.fromstring(body).findtext(".//title")
    assert title.startswith("Servito da nginx")


def test_security_headers_are_on_every_response(served):
    for path in ("/", "/feeds/all.atom.xml", "/theme/css/main.css", "/no/such/page/"):
        _, headers, _ = served.get(path)
        csp = headers["Content-Security-Policy"]
        directives = {
            name: value
            for name, _, value in (part.partition(" ") for part in csp.split("; "))
        }
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["connect-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "upgrade-insecure-requests" in directives
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/feeds/all.atom.xml", "application/atom+xml"),
        ("/feeds/all.rss.xml", "application/rss+xml"),
        ("/feeds/it.json", "application/feed+json"),
    ],
)
def test_feeds_have_their_media_types_and_a_short_cache(served, path, content_type):
    status, headers, body = served.get(path)
    assert status == 200
    assert headers["Content-Type"].split(";")[0] == content_type
    assert headers["Cache-Control"] == "public, max-age=300"
    assert body == (served.target / "current" / path.lstrip("/")).read_bytes()


def test_html_has_a_short_cache_and_fingerprinted_assets_a_long_one(served):
    _, headers, _ = served.get("/")
    assert headers["Cache-Control"] == "public, max-age=300"
    _, headers, _ = served.get("/theme/css/main.css")
    assert headers["Cache-Control"] == "public, max-age=86400"
    _, headers, _ = served.get("/theme/css/main.css?v=3f2a9c1e")
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(("encoding", "suffix"), [("gzip", ".gz"), ("br", ".br")])
def test_precompressed_files_are_served_as_they_are(served, encoding, suffix):
    if encoding == "br":
        need_tool(
            BROTLI_STATIC_MODULE.exists(),
            "nginx's brotli_static module is missing "
            "(apt-get install libnginx-mod-http-brotli-static)",
        )
    for path, file in (
        ("/", "index.html"),
        ("/feeds/all.atom.xml", "feeds/all.atom.xml"),
        ("/theme/css/main.css", "theme/css/main.css"),
    ):
        sibling = served.target / "current" / (file + suffix)
        assert sibling.is_file(), f"the published site has no {file}{suffix}"
        status, headers, body = served.get(path, {"Accept-Encoding": encoding})
        assert status == 200
        assert headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in headers["Vary"]
        assert body == sibling.read_bytes()
    _, headers, body = served.get("/", {"Accept-Encoding": "identity"})
    assert headers["Content-Encoding"] is None
    assert body == (served.target / "current" / "index.html").read_bytes()


def test_missing_pages_get_the_404_page(served):
    status, headers, body = served.get("/2099/non-esiste/")
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body == (served.target / "current" / "404.html").read_bytes()
    status, _, _ = served.get("/.git/config")
    assert status == 404


def test_plain_http_redirects_to_https(served):
    status, headers, _ = served.get("/2026/servito/", port=served.http_port)
    assert status == 301
    assert headers["Location"].startswith("https://")
    assert headers["Location"].endswith("/2026/servito/")


def test_moved_listings_answer_301_to_their_english_addresses(served):
    from pelican.settings import read_settings

    from piazza.redirects import moved

    moves = moved(read_settings(str(ROOT / "publishconf.py")))
    assert moves, "publishconf.py moves the English category and tag listings"
    origin = f"https://127.0.0.1:{served.https_port}"
    current = served.target / "current"
    reached = 0
    for move in moves:
        rest = "sebino-800/" if move.every else ""
        status, headers, _ = served.get(f"/{move.old}{rest}")
        assert status == 301, move
        assert headers["Location"] == f"{origin}/{move.new}{rest}"
        if (current / move.new / "index.html").is_file():
            assert served.get(f"/{move.new}")[0] == 200
            reached += 1
    assert reached >= 10, "the demo's labelled tags and categories have pages"
    # What follows the old address (a page number) follows it to the new one.
    status, headers, _ = served.get("/en/categoria/moto/pagina/2/")
    assert (status, headers["Location"]) == (
        301,
        f"{origin}/en/category/motorcycles/pagina/2/",
    )
    # Nothing else moves: the Italian listings and the English tag index.
    for path in ("/categoria/moto/", "/tag/storia/", "/en/tag/", "/en/"):
        assert served.get(path)[0] == 200, path


def test_a_rollback_is_served_at_once_without_a_reload(served):
    first, second = served.releases
    assert os.readlink(served.target / "current").endswith(second)
    quiet = Console(file=io.StringIO())
    rollback(str(served.target), to=first, console=quiet)
    try:
        status, _, _ = served.get("/2026/servito/")
        assert status == 404
        _, _, body = served.get("/")
        assert body == (served.target / "releases" / first / "index.html").read_bytes()
    finally:
        rollback(str(served.target), to=second, console=quiet)
    status, _, _ = served.get("/2026/servito/")
    assert status == 200


# --- The comment server behind nginx ------------------------------------------------


def _post(served, path, data):
    return served.get(
        path,
        {"Content-Type": "application/json"},
        method="POST",
        body=json.dumps(data).encode(),
    )


def _early_in_a_second() -> None:
    """Wait for the start of a second: nginx keeps Isso's answers to the end
    of the second they were asked in (piazza/isso_wsgi.py), so two reads
    meant to meet the same cache entry must not straddle a second."""
    time.sleep(1 - time.time() % 1 + 0.02)


def test_comments_go_through_nginx_and_reads_are_cached(served):
    uri = "/2026/una-prova/"
    status, headers, _ = _post(
        served, f"/comments/new?uri={uri}", {"text": "Primo!", "title": "Prova"}
    )
    assert status == 201
    assert headers.get("X-Cache-Status") is None  # a write never meets the cache
    assert "s-maxage" not in headers["Cache-Control"]  # nor a CDN's
    _early_in_a_second()
    status, headers, body = served.get(f"/comments/?uri={uri}")
    assert status == 200 and json.loads(body)["total_replies"] == 1
    assert headers["X-Cache-Status"] in ("MISS", "EXPIRED")
    # Browsers always ask again; a CDN in front may keep it a second.
    assert headers["Cache-Control"] == "public, max-age=0, s-maxage=1"
    assert "Content-Security-Policy" in headers  # the site's headers stay
    assert "X-Accel-Expires" not in headers  # meant for nginx only
    _status, headers, _ = served.get(f"/comments/?uri={uri}")
    assert headers["X-Cache-Status"] in ("HIT", "UPDATING")


def test_a_new_comment_is_visible_to_other_readers_within_two_seconds(served):
    uri = "/2026/seconda-prova/"
    _post(served, f"/comments/new?uri={uri}", {"text": "Uno", "title": "P"})
    _early_in_a_second()
    served.get(f"/comments/?uri={uri}")  # now cached
    _s, headers, _b = served.get(f"/comments/?uri={uri}")
    assert headers["X-Cache-Status"] in ("HIT", "UPDATING")
    _post(served, f"/comments/new?uri={uri}", {"text": "Due", "title": "P"})
    deadline = time.monotonic() + 2.0
    while True:
        _s, _h, body = served.get(f"/comments/?uri={uri}")
        seen = json.loads(body)["total_replies"]
        if seen == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert seen == 2


def test_counts_are_one_cached_request(served):
    uris = ["/2026/una-prova/", "/2026/nessuno/"]
    _early_in_a_second()
    status, _headers, body = _post(served, "/comments/count", uris)
    assert status == 200 and json.loads(body) == [1, 0]
    _status, again, _ = _post(served, "/comments/count", uris)
    assert again["X-Cache-Status"] in ("HIT", "UPDATING")
    _status, other, body = _post(served, "/comments/count", ["/2026/nessuno/"])
    assert other["X-Cache-Status"] == "MISS" and json.loads(body) == [0]


def test_isso_listens_on_loopback_only():
    conf = (ROOT / "deploy" / "isso.cfg").read_text()
    assert "listen = http://127.0.0.1:8080" in conf
    gunicorn = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    assert '"127.0.0.1:8080"' in gunicorn


def test_reads_that_depend_on_cookies_are_never_cached(served):
    status, headers, body = _post(
        served, "/comments/new?uri=/2026/mio/", {"text": "Mio.", "title": "M"}
    )
    assert status == 201
    made = json.loads(body)
    cookie = headers.get_all("Set-Cookie")[0].split(";")[0]
    assert cookie.startswith(f"{made['id']}=")
    path = f"/comments/id/{made['id']}?plain=1"
    for _ in range(2):  # the author may read it back to edit it, every time
        status, headers, body = served.get(path, {"Cookie": cookie})
        assert status == 200 and json.loads(body)["text"] == "Mio."
        assert headers["X-Cache-Status"] == "BYPASS"
    status, headers, _ = served.get(path)  # another reader: never their copy
    assert status == 403 and headers["X-Cache-Status"] == "BYPASS"
    _status, headers, _ = served.get("/comments/admin/", {"Cookie": "admin-session=x"})
    assert headers["X-Cache-Status"] == "BYPASS"


@pytest.mark.parametrize(
    "path", ["/comments/feed?uri=/2026/una-prova/", "/comments/config"]
)
def test_shared_reads_are_cached(served, path):
    _early_in_a_second()
    status, first, _ = served.get(path)
    assert status == 200 and first["X-Cache-Status"] in ("MISS", "EXPIRED", "HIT")
    _status, again, _ = served.get(path)
    assert again["X-Cache-Status"] in ("HIT", "UPDATING")


def test_isso_sees_the_readers_address_and_scheme_as_nginx_does(served):
    status, headers, body = served.get(
        "/comments/new?uri=/2026/indirizzo/",
        {"Content-Type": "application/json", "X-Forwarded-For": "198.51.100.77"},
        method="POST",
        body=json.dumps({"text": "Da dove?", "title": "I"}).encode(),
    )
    assert status == 201
    made = json.loads(body)
    with sqlite3.connect(served.isso.db) as conn:
        (address,) = conn.execute(
            "SELECT remote_addr FROM comments WHERE id = ?", (made["id"],)
        ).fetchone()
    assert address == "127.0.0.0"  # nginx's view (anonymised), not the client's
    # The test config has no public-endpoint: Isso builds its URL from Host and
    # X-Forwarded-Proto, so over https its edit cookie is Secure.
    cookie = headers.get_all("Set-Cookie")[0]
    assert "Secure" in cookie.split("; ")


def _isso(served, path, data=None, method=None, headers=None):
    """A request straight to gunicorn (nginx's upstream): status, headers, JSON."""
    return call(f"{served.isso.url}{path}", data, method=method, headers=headers)


def test_isso_tells_nginx_to_keep_an_answer_to_the_end_of_its_second(served):
    before = int(time.time())
    status, headers, _ = _isso(served, "/?uri=/2026/una-prova/")
    after = int(time.time())
    assert status == 200
    expires = headers["X-Accel-Expires"]
    assert expires.startswith("@") and before <= int(expires[1:]) <= after
    with pytest.raises(urllib.error.HTTPError) as refused:  # an error: not kept
        _isso(served, "/?uri=/2026/una-prova/&sort=a-caso")
    assert refused.value.code == 400
    assert "X-Accel-Expires" not in refused.value.headers


def test_an_edited_comment_is_rendered_anew(served):
    uri = "/2026/modifica/"
    status, headers, made = _isso(
        served, f"/new?uri={uri}", {"text": "Prima *versione*.", "title": "E"}
    )
    assert status == 201 and "<em>versione</em>" in made["text"]
    cookie = headers.get_all("Set-Cookie")[0].split(";")[0]
    _s, _h, edited = _isso(
        served,
        f"/id/{made['id']}",
        {"text": "Seconda **versione**."},
        method="PUT",
        headers={"Cookie": cookie},
    )
    assert "<strong>versione</strong>" in edited["text"]
    _s, _h, thread = _isso(served, f"/?uri={uri}")
    assert [c["text"] for c in thread["replies"]] == [edited["text"]]
    assert "Prima" not in edited["text"]


def test_first_comments_posted_at_once_all_land(served):
    """Many readers answer a new post in the same instant, in every worker:
    all comments are stored, in one thread (Isso's write lock is shared)."""

    def burst(uri: str, readers: int) -> list[int]:
        # Threads, not asyncio: Playwright's sync API may hold this thread's
        # event loop. The barrier releases every reader at the same moment.
        barrier = threading.Barrier(readers)

        def post(n: int) -> int:
            barrier.wait()
            try:
                status, _h, _b = _isso(
                    served,
                    f"/new?uri={uri}",
                    {"text": f"Primo! ({n})", "title": "Nuovo"},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},
                )
            except urllib.error.HTTPError as error:
                return error.code
            return status

        with ThreadPoolExecutor(max_workers=readers) as pool:
            return list(pool.map(post, range(readers)))

    uris = [f"/2026/nuovo-{n}/" for n in range(20)]
    statuses = [burst(uri, 30) for uri in uris]
    assert all(status == 201 for answers in statuses for status in answers)
    with sqlite3.connect(served.isso.db) as conn:
        counts = dict(
            conn.execute(
                "SELECT threads.uri, COUNT(*) FROM comments JOIN threads "
                "ON threads.id = comments.tid GROUP BY threads.uri"
            ).fetchall()
        )
    assert [counts[uri] for uri in uris] == [30] * 20
    # The lock the workers shared: an flock on a file beside the database.
    assert served.isso.db.with_name("comments.db.lock").exists()


def _totals(served, uri: str, reads: int = 12) -> set[int]:
    """What ``reads`` readers asking gunicorn (both workers) see as the count."""
    return {_isso(served, f"/?uri={uri}")[2]["total_replies"] for _ in range(reads)}


def test_thread_reads_follow_every_write_in_every_worker(served):
    uri = "/2026/memoria/"
    _isso(served, f"/new?uri={uri}", {"text": "Uno.", "title": "M"})
    assert _totals(served, uri) == {1}  # now kept by the workers
    _s, headers, made = _isso(served, f"/new?uri={uri}", {"text": "Due."})
    assert _totals(served, uri) == {2}
    cookie = headers.get_all("Set-Cookie")[0].split(";")[0]
    _isso(served, f"/id/{made['id']}", method="DELETE", headers={"Cookie": cookie})
    assert _totals(served, uri) == {1}


def test_a_restore_reaches_the_running_workers(served, tmp_path):
    uri = "/2026/ripristino/"
    _isso(served, f"/new?uri={uri}", {"text": "Prima del backup.", "title": "R"})
    copy = backup(served.isso.db, tmp_path)
    _isso(served, f"/new?uri={uri}", {"text": "Dopo il backup."})
    assert _totals(served, uri) == {2}
    restore(copy, served.isso.db, force=True, backups=tmp_path / "before")
    assert _totals(served, uri) == {1}


def test_the_comment_cache_keeps_one_copy_per_origin(served):
    path = "/comments/?uri=/2026/una-prova/"
    other = {"Origin": "https://altro.example"}
    _early_in_a_second()
    served.get(path)
    _s, same, _b = served.get(path)
    assert same["X-Cache-Status"] in ("HIT", "UPDATING")
    _s, first, _b = served.get(path, other)  # Isso's CORS answer differs
    assert first["X-Cache-Status"] == "MISS"
    _s, again, _b = served.get(path, other)
    assert again["X-Cache-Status"] in ("HIT", "UPDATING")
