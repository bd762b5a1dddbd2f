"""The browser's proof of work for the ideas service (theme/static/js/
ideas-pow.js) in Chromium, against the real service behind deploy/nginx.conf:
what the page solves, the service accepts, once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import free_port
from ideas_server import SECRET, request, running_ideas
from nginx_server import running_nginx

from services.ideas import cli
from services.ideas.pow import Altcha

ROOT_JS = "theme/static/js/ideas-pow.js"
PAGE = """<!doctype html><html lang="it"><meta charset="utf-8"><title>PoW</title>
<script src="/theme/js/ideas-pow.js"></script><p>ok</p></html>"""


@dataclass(frozen=True)
class Front:
    origin: str
    context: object
    db: object

    def call(self, method, path, body=None):
        return request(self.origin, method, f"/idee-api{path}", body,
                       context=self.context)  # fmt: skip


@pytest.fixture(scope="module")
def front(tmp_path_factory) -> Iterator[Front]:
    base = tmp_path_factory.mktemp("ideas-pow")
    root = base / "site"
    (root / "theme" / "js").mkdir(parents=True)
    shutil.copy(ROOT_JS, root / "theme" / "js" / "ideas-pow.js")
    (root / "index.html").write_text(PAGE)
    (root / "favicon.ico").write_bytes(b"")  # the browser asks for it
    with (
        running_ideas(base / "svc", IDEAS_POW_MAX_NUMBER="3000") as ideas,
        running_nginx(
            base, root, free_port(), brotli=False,
            ideas_port=int(ideas.url.rsplit(":", 1)[1]),
        ) as nginx,
    ):  # fmt: skip
        yield Front(
            f"https://127.0.0.1:{nginx.local.https_port}", nginx.context, ideas.db
        )


@pytest.fixture
def page(browser, front):
    context = browser.new_context(ignore_https_errors=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else 0,
    )
    opened.goto(front.origin + "/")
    opened.errors = errors  # a test may take out the failure it caused
    yield opened
    context.close()
    assert errors == []


def test_a_proof_solved_in_the_page_pays_for_one_vote(front, page, tmp_path):
    status, _, made = front.call(
        "POST",
        "/ideas",
        {"title": "Sella più bassa", "description": "Per chi è basso.",
         "category": "moto", "lang": "it",
         "altcha": page.evaluate("PiazzaPow.solve('/idee-api')")},
    )  # fmt: skip
    assert status == 202, made
    cli.accept(front.db, made["id"], tmp_path)

    proof = page.evaluate("PiazzaPow.solve('/idee-api/')")
    status, _, voted = front.call(
        "POST", f"/ideas/{made['id']}/vote", {"altcha": proof}
    )
    assert status == 200, voted
    assert voted["counts"]["supporters"] == 1
    status, _, again = front.call(
        "POST", f"/ideas/{made['id']}/vote", {"altcha": proof}
    )
    assert (status, again["error"]) == (403, "pow_replayed")


@pytest.mark.parametrize(
    ("algorithm", "cost"),
    [("SHA-256", 3), ("SHA-512", 1), ("PBKDF2/SHA-256", 2), ("PBKDF2/SHA-384", 1)],
)
def test_every_algorithm_the_service_may_be_set_to_is_solved(page, algorithm, cost):
    verifier = Altcha(SECRET, algorithm=algorithm, cost=cost, max_number=300)
    payload = page.evaluate(
        "challenge => PiazzaPow.solveChallenge(challenge)", verifier.challenge()
    )
    assert verifier.verify(payload).signature


def test_an_unreachable_service_is_a_coded_failure(page):
    code = page.evaluate(
        "PiazzaPow.solve('/no-such-api').then(() => 'solved', e => e.code)"
    )
    assert code == "network"
    assert page.errors == [
        "Failed to load resource: the server responded with a status of 404 ()"
    ]
    page.errors.clear()
