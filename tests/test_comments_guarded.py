"""A reader writes through the production guard (issue 9, points 3 and 5).

The sample site built as it is published (its pages load comments-pow.js),
nginx from deploy/nginx.conf, and Isso as production runs it: gunicorn with
deploy/gunicorn.conf.py, so our layers are in front of it, the proof of work
on and a blocklist of the test's own. Chromium writes as a reader does: the
proof is solved in the page, a submit pressed before it is ready waits for
it, a comment goes through, and spam is refused with the widget saying why,
in Italian and English.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_port
from isso_server import IssoServer, running_isso_gunicorn
from nginx_server import running_nginx
from test_comments_widget import (
    LANGS,
    MESSAGES,
    Reader,
    build_for,
    translated,
    uri,
    write,
)

pytestmark = pytest.mark.browser

SPAM = (
    "Your comment looks like spam (too many links or blocked words) and was "
    "not published. Remove the links and try again."
)
SUBMIT_UNPROVEN = """(text) => {
    const box = document.querySelector(".isso-postbox");
    box.querySelector(".isso-textarea").value = text;
    box.querySelector("input[name=author]").value = "Ada";
    const ready = document.documentElement.getAttribute("data-comments-pow");
    box.querySelector("[type=submit]").click();
    return ready;
}"""
BLOCKLIST = """max-links = 1
emails = []
domains = ["spam.example"]
words = ["viagra"]
"""


@dataclass
class GuardedStack:
    site: str
    isso: IssoServer

    def comments(self) -> list[str]:
        with sqlite3.connect(self.isso.db) as db:
            return [row[0] for row in db.execute("SELECT text FROM comments")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[GuardedStack]:
    base = tmp_path_factory.mktemp("guarded")
    output = base / "output"
    output.mkdir()
    blocklist = base / "blocklist.toml"
    blocklist.write_text(BLOCKLIST, encoding="utf-8")
    isso_port = free_port()
    with running_nginx(base, output, isso_port) as nginx:
        site = f"https://127.0.0.1:{nginx.local.https_port}"
        build_for(site, base)
        env = {
            "PIAZZA_PROOF_OF_WORK": "on",
            "PIAZZA_POW_DIFFICULTY": "5000",
            "PIAZZA_BLOCKLIST": str(blocklist),
            "PIAZZA_THREADS_FILE": str(Path(output) / "comment-threads.json"),
        }
        with running_isso_gunicorn(
            base / "isso", site, port=isso_port, env=env
        ) as server:
            yield GuardedStack(site, server)


@pytest.mark.parametrize("lang", LANGS)
def test_a_reader_posts_with_the_proof_and_is_told_about_spam(stack, browser, lang):
    reader = Reader(browser, stack)
    try:
        post = "pending" if lang == "it" else "words"
        reader.open(uri(post, lang))
        # Filled without focusing the form (so no proof was asked yet) and
        # submitted at once: the press waits for the proof, then the comment
        # goes through (one request, accepted).
        text = f"Bella moto ({lang}), quando arriva in concessionaria?"
        ready_at_press = reader.page.evaluate(SUBMIT_UNPROVEN, text)
        assert ready_at_press is None
        reader.wait_for_text(reader.notice(), translated(MESSAGES["published"], lang))
        assert text in stack.comments()
        assert reader.refusals == []
        # Spam: refused by the guard, the widget says so, the text stays.
        spam = "Offerta viagra a metà prezzo"
        write(reader.page, spam, author="Ada")
        reader.wait_for_text(reader.notice(), translated(SPAM, lang))
        assert reader.page.locator(".isso-textarea").first.input_value() == spam
        assert [status for status, _ in reader.refusals] == [403]
        assert spam not in stack.comments()
        assert reader.problems() == []
    finally:
        reader.close()
