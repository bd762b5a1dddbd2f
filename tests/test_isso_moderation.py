"""Moderation under the site's CSP (piazza/isso_moderation.py), on the real
stack: gunicorn with deploy/gunicorn.conf.py (moderation on, the admin
enabled, Isso's SMTP notifier pointed at an aiosmtpd sink on loopback),
nginx rendered from deploy/nginx.conf in front of it, and Chromium."""

from __future__ import annotations

import email
import email.policy
import http.client
import json
import re
import shutil
import sqlite3
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import free_port, need_tool
from isso_server import IssoServer, running_isso_gunicorn
from lxml import html
from nginx_server import NGINX, make_cert
from test_html_validity import vnu_errors

from piazza.isso_moderation import LOCKOUT_FAILURES, PAGE_SIZE
from piazza.nginxconf import BROTLI_STATIC_MODULE, Local, prepare
from piazza.processes import stop

PASSWORD = "una-password-di-prova"
MODERATOR = "moderatrice@example.org"


# --- The SMTP sink -------------------------------------------------------------


@dataclass
class Mailbox:
    """What an aiosmtpd server on loopback received."""

    port: int
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def wait_for(self, predicate, timeout: float = 20.0) -> email.message.EmailMessage:
        """The first message ``predicate`` accepts, polling until ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [m for m in self.messages if predicate(m)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                subjects = [m["Subject"] for m in self.messages]
                raise AssertionError(f"no such e-mail arrived; got {subjects}")
            time.sleep(0.05)


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def mail_about(text: str):
    return lambda message: text in body(message)


def link_in(message, label: str) -> str:
    match = re.search(rf"^{label}: (\S+)$", body(message), re.MULTILINE)
    assert match, f"no {label!r} link in:\n{body(message)}"
    return match.group(1)


# --- The stack ---------------------------------------------------------------


@dataclass
class Stack:
    isso: IssoServer
    mailbox: Mailbox
    https_port: int
    context: ssl.SSLContext
    prefix: Path
    cert: Path | None = None
    key: Path | None = None
    session: str | None = None

    @property
    def site(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def request(self, path, *, method="GET", body=None, headers=None, port=None):
        """Through nginx (or straight to gunicorn with ``port``)."""
        if port:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        else:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, context=self.context, timeout=10
            )
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def post_comment(self, uri: str, text: str, **fields) -> dict:

        status, _headers, answer = self.request(
            f"/comments/new?uri={urllib.parse.quote(uri)}",
            method="POST",
            body=json.dumps({"text": text, "title": uri, **fields}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status in (201, 202), answer
        return json.loads(answer)

    def login(self, password: str = PASSWORD, **kwargs):
        path = "/login/" if kwargs.get("port") else "/comments/login/"
        return self.request(
            path,
            method="POST",
            body=urllib.parse.urlencode({"password": password}).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.site,
                **kwargs.pop("headers", {}),
            },
            **kwargs,
        )

    def mode(self, comment_id: int) -> int | None:
        with sqlite3.connect(self.isso.db) as db:
            row = db.execute(
                "SELECT mode FROM comments WHERE id = ?", (comment_id,)
            ).fetchone()
        return row[0] if row else None


def start_nginx(folder: Path, isso_port: int, https_port: int, cert, key, *, edit=None):
    """deploy/nginx.conf on loopback in front of ``isso_port`` (its rendered
    text changed by ``edit``, if given): the process."""
    brotli = BROTLI_STATIC_MODULE.exists()
    root = folder / "root"
    root.mkdir(parents=True)
    (root / "index.html").write_text("<!DOCTYPE html><title>Piazza</title>")
    (root / "404.html").write_text("<!DOCTYPE html><title>Non trovato</title>")
    for sub in ("logs", "tmp"):
        (folder / sub).mkdir()
    local = Local(
        root=root, https_port=https_port, http_port=free_port(), cert=cert, key=key,
        logs=folder / "logs", isso_port=isso_port,
    )  # fmt: skip
    command = prepare(NGINX, folder, local, brotli=brotli)
    if edit:
        site_conf = folder / "piazza.conf"
        site_conf.write_text(edit(site_conf.read_text()))
    checked = subprocess.run(
        [*command, "-t"], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_for_nginx(stack: Stack, process) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            if stack.request("/")[0] == 200:
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("nginx did not start")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    need_tool(
        Path(NGINX).exists(), "nginx is not installed (apt-get install nginx-light)"
    )
    need_tool(shutil.which("openssl") is not None, "openssl is not installed")
    from aiosmtpd.controller import Controller

    base = tmp_path_factory.mktemp("moderation")
    mailbox = Mailbox(free_port())
    smtp = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    smtp.start()
    cert, key = make_cert(base)
    https_port, isso_port = free_port(), free_port()
    site = f"https://127.0.0.1:{https_port}"
    settings = {
        "general": {"notify": "smtp", "reply-notifications": "true"},
        "server": {"public-endpoint": f"{site}/comments"},
        "moderation": {"enabled": "true"},
        "admin": {"enabled": "true", "password": PASSWORD},
        "smtp": {
            "host": "127.0.0.1",
            "port": str(mailbox.port),
            "security": "none",
            "to": MODERATOR,
            "from": "commenti@example.org",
            "timeout": "5",
        },
    }
    try:
        with running_isso_gunicorn(
            base / "isso", site, port=isso_port, settings=settings
        ) as isso:
            context = ssl.create_default_context(cafile=str(cert))
            stack = Stack(isso, mailbox, https_port, context, base / "nginx", cert, key)
            process = start_nginx(stack.prefix, isso_port, https_port, cert, key)
            try:
                wait_for_nginx(stack, process)
                yield stack
            finally:
                stop(process)
    finally:
        smtp.stop()


@pytest.fixture
def chromium(browser, stack):
    """A page in a fresh browser context, and the problems it logged."""
    context = browser.new_context(ignore_https_errors=True, locale="it-IT")
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    yield page, problems
    context.close()


def parsed(answer: bytes):
    return html.fromstring(answer)


# --- The e-mailed links ---------------------------------------------------------


def test_the_moderator_is_mailed_and_the_links_work_in_chromium(stack, chromium):
    page, problems = chromium
    uri = "/2026/dalla-posta/"
    kept = stack.post_comment(uri, "Da pubblicare, dalla posta.", author="Ada")
    gone = stack.post_comment(uri, "Da cancellare, dalla posta.", author="Bruno")
    assert stack.mode(kept["id"]) == stack.mode(gone["id"]) == 2

    mail = stack.mailbox.wait_for(mail_about("Da pubblicare, dalla posta."))
    assert mail["To"] == MODERATOR
    activate = link_in(mail, "Activate comment")
    assert activate.startswith(f"{stack.site}/comments/id/{kept['id']}/activate/")
    response = page.goto(activate)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("script").count() == 0
    assert page.locator("html").get_attribute("lang") == "it"
    page.get_by_role("button", name="Pubblica").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Il commento è pubblicato"
    assert stack.mode(kept["id"]) == 1
    link = page.get_by_role("link", name=re.compile("Vai alla pagina"))
    assert link.get_attribute("href") == f"{uri}#isso-{kept['id']}"

    mail = stack.mailbox.wait_for(mail_about("Da cancellare, dalla posta."))
    page.goto(link_in(mail, "Delete comment"))
    page.get_by_role("button", name="Elimina").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Il commento è eliminato"
    assert stack.mode(gone["id"]) is None
    assert not problems, problems


def test_the_confirm_page_speaks_english_to_an_english_browser(stack):
    made = stack.post_comment("/2026/english/", "Please approve me.")
    mail = stack.mailbox.wait_for(mail_about("Please approve me."))
    path = urllib.parse.urlsplit(link_in(mail, "Activate comment")).path
    status, headers, answer = stack.request(path, headers={"Accept-Language": "en"})
    assert status == 200 and headers["Cache-Control"] == "no-store"
    page = parsed(answer)
    assert page.get("lang") == "en"
    assert page.findtext(".//h1") == "Publish this comment?"
    (form,) = page.findall(".//form")
    assert form.get("method") == "post" and form.get("action") is None
    assert page.xpath("//div[@class='text']/text()") == ["Please approve me."]
    assert stack.mode(made["id"]) == 2  # a GET changes nothing


def test_a_forged_key_gets_no_page(stack):
    made = stack.post_comment("/2026/falso/", "Una chiave falsa.")
    status, _, answer = stack.request(f"/comments/id/{made['id']}/activate/falsa")
    assert status == 403
    assert parsed(answer).findall(".//form") == []
    status, _, _ = stack.request(
        f"/comments/id/{made['id']}/activate/falsa",
        method="POST",
        body=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 403 and stack.mode(made["id"]) == 2


def test_a_reader_who_asked_is_mailed_about_a_reply(stack):
    uri = "/2026/risposte/"
    parent = stack.post_comment(
        uri, "Avvisatemi.", author="Carla", email="carla@example.org", notification=1
    )
    mail = stack.mailbox.wait_for(mail_about("Avvisatemi."))
    # Isso's own API, as a mail client's "POST" would: the key is the proof.
    key_path = urllib.parse.urlsplit(link_in(mail, "Activate comment")).path
    assert stack.request(key_path, method="POST")[0] == 200
    reply = stack.post_comment(
        uri, "Ecco la risposta.", author="Dario", parent=parent["id"]
    )
    mail = stack.mailbox.wait_for(
        lambda m: m["To"] == MODERATOR and "Ecco la risposta." in body(m)
    )
    status, _, _ = stack.request(
        urllib.parse.urlsplit(link_in(mail, "Activate comment")).path, method="POST"
    )
    assert status == 200 and stack.mode(reply["id"]) == 1
    notice = stack.mailbox.wait_for(lambda m: m["To"] == "carla@example.org")
    assert notice["Subject"].startswith("Re: New comment posted")
    assert "Ecco la risposta." in body(notice)
    assert "Unsubscribe from this conversation" in body(notice)


# --- The moderation page --------------------------------------------------------


def test_moderating_from_the_page_in_chromium(stack, chromium, artifacts):
    page, problems = chromium
    uri = "/2026/dalla-pagina/"
    approve = stack.post_comment(uri, "Approvami dalla pagina.", author="Elena")
    delete = stack.post_comment(uri, "Cancellami dalla pagina.", author="Franco")
    spam = stack.post_comment(
        uri, "Compra ora!", author="Spam", email="Spam@Example.org"
    )
    edit = stack.post_comment(uri, "Scritto con un refuso.", author="Gina")

    response = page.goto(f"{stack.site}/comments/moderate/")
    assert response.status == 200  # the login form (no console error)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(f"{stack.site}/comments/moderate/")
    assert page.locator("script").count() == 0

    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["admin-session"]
    assert session["httpOnly"] and session["secure"]
    assert session["sameSite"] == "Strict" and session["path"] == "/comments/"

    page.screenshot(path=str(artifacts / "moderation-queue.png"), full_page=True)
    ids = [
        int(a.get_attribute("id").split("-")[1]) for a in page.locator("article").all()
    ]
    assert ids[:4] == [
        edit["id"],
        spam["id"],
        delete["id"],
        approve["id"],
    ]  # newest first

    def act(comment: dict, button: str) -> None:
        article = page.locator(f"#comment-{comment['id']}")
        article.get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state()

    act(approve, "Pubblica")
    assert page.get_by_role("status").inner_text().strip() == (
        f"Commento #{approve['id']} pubblicato."
    )
    assert stack.mode(approve["id"]) == 1
    act(delete, "Elimina")
    assert stack.mode(delete["id"]) is None
    act(spam, "Blocca questo indirizzo e-mail ed elimina")
    assert stack.mode(spam["id"]) is None
    with sqlite3.connect(stack.isso.db) as db:
        banned = db.execute("SELECT kind, value FROM piazza_bans").fetchall()
    assert ("email", "spam@example.org") in banned

    article = page.locator(f"#comment-{edit['id']}")
    article.locator("summary").click()
    article.get_by_label("Testo").fill("Scritto senza refusi.")
    article.get_by_role("button", name="Salva").click()
    page.wait_for_load_state()
    with sqlite3.connect(stack.isso.db) as db:
        (text,) = db.execute(
            "SELECT text FROM comments WHERE id = ?", (edit["id"],)
        ).fetchone()
    assert text == "Scritto senza refusi."

    page.get_by_role("link", name="Commenti pubblicati").click()
    page.get_by_label(re.compile("Cerca")).fill("Approvami")
    page.get_by_role("button", name="Cerca").click()
    page.wait_for_load_state()
    assert page.locator("article").count() == 1
    assert page.locator(f"#comment-{approve['id']}").count() == 1

    page.get_by_role("button", name="Esci").click()
    page.wait_for_load_state()
    assert "admin-session" not in {c["name"] for c in page.context.cookies()}
    assert page.get_by_label("Password").count() == 1
    assert not problems, problems


def _session(stack) -> str:
    """An admin session's Cookie header, logged in once per module (nginx
    lets only a few logins a minute through)."""
    if stack.session is None:
        status, headers, _ = stack.login()
        assert status == 303
        stack.session = headers["Set-Cookie"].split(";")[0]
    return stack.session


def test_the_admin_cookie_is_httponly_strict_secure_and_scoped(stack):
    status, headers, _ = stack.login()
    assert status == 303 and headers["Location"] == "/comments/moderate/"
    (cookie,) = headers.get_all("Set-Cookie")
    name_value, *attributes = [part.strip() for part in cookie.split(";")]
    assert name_value.startswith("admin-session=")
    attributes = {a.split("=")[0].lower(): a.partition("=")[2] for a in attributes}
    assert "httponly" in attributes and "secure" in attributes
    assert attributes["samesite"] == "Strict"
    assert attributes["path"] == "/comments/"
    assert headers.get("X-Set-Cookie") is None  # no copy a script could read


def test_a_post_without_the_csrf_token_is_refused(stack):
    made = stack.post_comment("/2026/csrf/", "Non approvarmi di nascosto.")
    cookie = _session(stack)
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    status, _, answer = stack.request(
        "/comments/moderate/",
        method="POST",
        body=urllib.parse.urlencode({"action": "approve", "id": made["id"]}).encode(),
        headers={**form, "Origin": stack.site},
    )
    assert status == 403
    assert parsed(answer).findtext(".//h1") == "Richiesta rifiutata"
    # The right token from another site's page: refused too.
    _, _, page = stack.request("/comments/moderate/", headers={"Cookie": cookie})
    token = parsed(page).xpath("//input[@name='csrf']/@value")[0]
    fields = {"action": "approve", "id": made["id"], "csrf": token}
    status, _, _ = stack.request(
        "/comments/moderate/",
        method="POST",
        body=urllib.parse.urlencode(fields).encode(),
        headers={**form, "Origin": "https://altro.example"},
    )
    assert status == 403 and stack.mode(made["id"]) == 2
    status, _, _ = stack.request(  # the same, from our own page: done
        "/comments/moderate/",
        method="POST",
        body=urllib.parse.urlencode(fields).encode(),
        headers={**form, "Origin": stack.site},
    )
    assert status == 303 and stack.mode(made["id"]) == 1


def test_isso_admin_redirects_to_the_moderation_page(stack):
    status, headers, _ = stack.request("/comments/admin/")
    assert status == 303 and headers["Location"] == "/comments/moderate/"


@pytest.mark.parametrize("path", ["/demo/", "/demo/index.html", "/info"])
def test_demo_and_info_are_closed(stack, path):
    assert stack.request(f"/comments{path}")[0] == 404  # nginx
    assert stack.request(path, port=stack.isso.url.rsplit(":", 1)[1])[0] == 404  # app


# --- The lockout ---------------------------------------------------------------


def _gunicorn_login(stack, password: str, reader: str):
    return stack.login(
        password,
        port=int(stack.isso.url.rsplit(":", 1)[1]),
        headers={"X-Forwarded-For": reader, "Origin": stack.site},
    )


def test_repeated_wrong_passwords_lock_the_range_out(stack):
    reader = "198.51.100.9"
    for left in range(LOCKOUT_FAILURES - 1, -1, -1):
        status, _, answer = _gunicorn_login(stack, "sbagliata", reader)
        assert status == 403
        alert = parsed(answer).xpath("//p[@role='alert']/text()")[0]
        assert f"{left} tentativ" in alert
    status, headers, answer = _gunicorn_login(stack, PASSWORD, reader)
    assert status == 429  # even the right password, meanwhile
    assert 14 * 60 < int(headers["Retry-After"]) <= 15 * 60 + 1
    assert "15 minuti" in parsed(answer).xpath("//p[@role='alert']/text()")[0]
    # the same /24 is the same range; another range is not locked
    assert _gunicorn_login(stack, PASSWORD, "198.51.100.200")[0] == 429
    assert _gunicorn_login(stack, PASSWORD, "198.51.101.9")[0] == 303
    log = stack.isso.log.read_text()
    assert "admin login failure from 198.51.100.0 (0 left" in log
    assert "admin login refused: 198.51.100.0 is locked out" in log


def test_concurrent_wrong_guesses_cannot_exceed_the_limit(stack):
    reader, guesses = "203.0.113.50", 24
    barrier = threading.Barrier(guesses)

    def guess(n: int) -> int:
        barrier.wait()
        return _gunicorn_login(stack, f"tentativo-{n}", reader)[0]

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        statuses = list(pool.map(guess, range(guesses)))
    assert statuses.count(403) == LOCKOUT_FAILURES
    assert statuses.count(429) == guesses - LOCKOUT_FAILURES
    with sqlite3.connect(stack.isso.db) as db:
        (recorded,) = db.execute(
            "SELECT COUNT(*) FROM piazza_events WHERE kind = 'login-failure'"
            " AND subject = '203.0.113.0'"
        ).fetchone()
    assert recorded == LOCKOUT_FAILURES


def test_nginx_limits_the_login_rate(stack, tmp_path):
    """A fresh nginx (its own limit zone) in front of the same gunicorn."""
    https_port = free_port()
    isso_port = int(stack.isso.url.rsplit(":", 1)[1])
    process = start_nginx(tmp_path, isso_port, https_port, stack.cert, stack.key)
    other = Stack(stack.isso, stack.mailbox, https_port, stack.context, tmp_path)
    try:
        wait_for_nginx(other, process)
        # The right password: the app never refuses it, so a 429 is nginx's.
        # (Isso's public-endpoint is the first nginx's: so is the Origin.)
        origin = {"Origin": stack.site}
        statuses = [other.login(headers=origin)[0] for _ in range(20)]
    finally:
        stop(process)
    assert statuses[:6] == [303] * 6
    assert statuses.count(429) >= 10  # 6 at once, then one every 10 s


def test_the_moderation_pages_are_valid_html(stack, tmp_path):
    made = stack.post_comment("/2026/valido/", "Un <b>commento</b> & basta.")
    with sqlite3.connect(stack.isso.db) as db:
        db.execute(
            "INSERT INTO piazza_flags VALUES (?, 'link-heavy', 0)", (made["id"],)
        )
    mail = stack.mailbox.wait_for(mail_about("Un <b>commento</b> & basta."))
    cookie = {"Cookie": _session(stack)}
    pages = {
        "confirm": (urllib.parse.urlsplit(link_in(mail, "Delete comment")).path, {}),
        "login": ("/comments/moderate/", {}),
        "queue": ("/comments/moderate/", cookie),
        "published": ("/comments/moderate/?view=published&q=a", cookie),
        "gone": (f"/comments/id/{made['id']}/delete/falsa", {}),
    }
    files = []
    for name, (path, headers) in pages.items():
        status, _, answer = stack.request(path, headers=headers)
        assert status in (200, 403), (name, status)
        files.append(tmp_path / f"{name}.html")
        files[-1].write_bytes(answer)
    queue = parsed((tmp_path / "queue.html").read_bytes())
    (text,) = queue.xpath(f"//article[@id='comment-{made['id']}']//div[@class='text']")
    assert text.text == "Un <b>commento</b> & basta."  # shown as written, inert
    assert queue.xpath("//ul[@class='flags']/li/text()") == ["Segnalato: link-heavy"]
    assert vnu_errors([str(f) for f in files]) == []


def test_the_edit_link_edits_without_javascript(stack):
    made = stack.post_comment("/2026/modifica/", "Testo con un erore.", author="Ivo")
    mail = stack.mailbox.wait_for(mail_about("Testo con un erore."))
    path = urllib.parse.urlsplit(link_in(mail, "Delete comment")).path
    path = path.replace("/delete/", "/edit/")  # one key for every action (Isso's)
    status, _, answer = stack.request(path)
    assert status == 200
    assert parsed(answer).xpath("//textarea[@name='text']/text()") == [
        "Testo con un erore."
    ]
    fields = {"text": "Testo senza errori.", "author": "Ivo", "website": ""}
    status, _, answer = stack.request(
        path,
        method="POST",
        body=urllib.parse.urlencode(fields).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": stack.site,
        },
    )
    assert status == 200
    assert parsed(answer).findtext(".//h1") == "Il commento è salvato"
    with sqlite3.connect(stack.isso.db) as db:
        (text,) = db.execute(
            "SELECT text FROM comments WHERE id = ?", (made["id"],)
        ).fetchone()
    assert text == "Testo senza errori." and stack.mode(made["id"]) == 2


def test_published_comments_are_searched_and_paged(stack):
    cookie = {"Cookie": _session(stack)}
    size = PAGE_SIZE + 1
    made = [
        stack.post_comment("/2026/tanti/", f"Zebra numero {n}.") for n in range(size)
    ]
    with sqlite3.connect(stack.isso.db) as db:
        db.executemany(
            "UPDATE comments SET mode = 1 WHERE id = ?", [(m["id"],) for m in made]
        )
    search = "/comments/moderate/?view=published&q=Zebra"
    _, _, answer = stack.request(search, headers=cookie)
    first = parsed(answer)
    assert first.xpath("//p[@class='count']/text()") == [f"{size} commenti."]
    ids = [int(a.get("id").split("-")[1]) for a in first.findall(".//article")]
    assert ids == [m["id"] for m in reversed(made)][:PAGE_SIZE]  # newest first
    (older,) = first.xpath("//a[@rel='next']/@href")
    _, _, answer = stack.request(older, headers=cookie)
    second = parsed(answer)
    ids = [int(a.get("id").split("-")[1]) for a in second.findall(".//article")]
    assert ids == [made[0]["id"]]
    assert second.xpath("//a[@rel='prev']/@href") and not second.xpath(
        "//a[@rel='next']"
    )


def _layer(tmp_path):
    """The layer in this process, around an app that answers nothing."""
    from isso import config

    from piazza.isso_moderation import Moderation

    settings = config.load(config.default_file())
    settings.set("general", "dbpath", str(tmp_path / "comments.db"))
    settings.set("admin", "enabled", "true")
    settings.set("admin", "password", PASSWORD)
    return Moderation(lambda environ, start: [], settings)


def test_failures_older_than_the_window_no_longer_count(tmp_path):
    from piazza.isso_moderation import LOCKOUT_WINDOW

    layer = _layer(tmp_path)
    old = time.time() - LOCKOUT_WINDOW - 1
    with sqlite3.connect(tmp_path / "comments.db") as db:
        db.executemany(
            "INSERT INTO piazza_events VALUES ('login-failure', '192.0.2.0', ?)",
            [(old,)] * LOCKOUT_FAILURES,
        )
    assert layer.attempt("192.0.2.0", "sbagliata").left == LOCKOUT_FAILURES - 1
    with sqlite3.connect(tmp_path / "comments.db") as db:
        (kept,) = db.execute("SELECT COUNT(*) FROM piazza_events").fetchone()
    assert kept == 1  # the old ones are gone, the new one counts


def test_other_layers_can_ask_whether_a_request_is_a_moderators(tmp_path):
    from werkzeug.test import EnvironBuilder

    layer = _layer(tmp_path)
    signed = layer.signer.dumps({"logged": True})
    comment_cookie = layer.signer.dumps([1, "sha1"])  # a reader's edit cookie

    def environ(cookie: str) -> dict:
        return EnvironBuilder(
            headers={"Cookie": f"admin-session={cookie}"}
        ).get_environ()

    assert layer.is_moderator(environ(signed))
    assert not layer.is_moderator(environ(comment_cookie))
    assert not layer.is_moderator(environ(signed[:-2] + "xx"))
    assert not layer.is_moderator(EnvironBuilder().get_environ())


def test_the_sample_allow_list_shuts_others_out_of_moderation(stack, tmp_path):
    """The commented allow/deny lines of deploy/nginx.conf, uncommented with a
    range that is not ours (127.0.0.1): moderation is closed to us, the
    e-mailed links and the comments are not."""

    def allow_only_elsewhere(text: str) -> str:
        assert text.count("# allow 203.0.113.0/24;") == 3
        return text.replace("# allow 203.0.113.0/24;", "allow 192.0.2.0/24;").replace(
            "# deny all;", "deny all;"
        )

    https_port = free_port()
    isso_port = int(stack.isso.url.rsplit(":", 1)[1])
    process = start_nginx(
        tmp_path,
        isso_port,
        https_port,
        stack.cert,
        stack.key,
        edit=allow_only_elsewhere,
    )
    other = Stack(stack.isso, stack.mailbox, https_port, stack.context, tmp_path)
    try:
        wait_for_nginx(other, process)
        for path in ("/comments/moderate/", "/comments/admin/", "/comments/login/"):
            assert other.request(path)[0] == 403, path
        made = other.post_comment("/2026/da-fuori/", "Scritto da fuori ufficio.")
        mail = stack.mailbox.wait_for(mail_about("Scritto da fuori ufficio."))
        path = urllib.parse.urlsplit(link_in(mail, "Activate comment")).path
        assert other.request(path)[0] == 200
        assert stack.mode(made["id"]) == 2
    finally:
        stop(process)
