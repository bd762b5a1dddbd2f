"""Reader comments: a real Isso, the static snapshot built from it, hostile
comments, and a reader in a real browser writing, replying and voting."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import ROOT, free_port, run_pelican, serve_directory
from isso_server import new_comment
from lxml import html
from markup import assert_no_executable_markup
from staff_isso import mark_staff, running_isso_with_staff
from test_html_validity import vnu_errors

ARTICLE = "/2026/lettera-di-un-cliente/"
ARTICLE_EN = "/en/2026/lettera-di-un-cliente/"
PRESIDENT = "chiara.valsecchi@officineardesia.example"  # content/staff.toml
# A second staff member, who owns no post: "Company staff", not the author.
MARCO = """
[[staff]]
key = "marco"
name = "Marco Ferri"
emails = ["marco.ferri@officineardesia.example"]
authors = []
"""

HOSTILE = [
    {
        "author": "<script>alert('author')</script>Mallory",
        "website": "https://evil.example/?x=%22onmouseover=alert(12)",
        "text": "<script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[clic](javascript:alert(3)) <a href='javascript:alert(4)'>a</a> "
        "<iframe src=//evil.example></iframe> <b onmouseover=alert(5)>b "
        "<svg onload=alert(6)> <form action=//evil.example><input></form> "
        "<div style='background:url(javascript:alert(7))'>x</div>",
    },
    {
        "author": '"><img src=x onerror=alert(8)>',
        "website": 'https://ok.example/"><script>alert(9)</script>',
        "text": "[link](data:text/html;base64,PHNjcmlwdD4=) "
        "![img](javascript:alert(10)) <<script>script>alert(11)<</script>/script> "
        "`<script>` **non chiuso",
    },
]


@pytest.fixture(scope="module")
def site_and_isso(tmp_path_factory):
    """The site built with a real Isso full of comments, served on loopback.

    The president's reply and Marco's comment are proven staff comments (the
    server layer's proof stood in by staff_isso); a reader who types the
    president's name and e-mail is not.
    """
    tmp = tmp_path_factory.mktemp("comments")
    site_port = free_port()
    site = f"http://127.0.0.1:{site_port}"
    staff_file = tmp / "staff.toml"
    staff_file.write_text(
        (ROOT / "content" / "staff.toml").read_text(encoding="utf-8") + MARCO,
        encoding="utf-8",
    )
    with running_isso_with_staff(tmp / "isso", site) as isso:
        first = new_comment(
            isso.url,
            ARTICLE,
            "Ho avuto lo stesso problema con la **garanzia**.",
            author="Giovanni Bettoni",
            website="https://giovanni.example/",
        )
        president = new_comment(
            isso.url,
            ARTICLE,
            "Grazie Giovanni, la cambiamo da gennaio.",
            author="Chiara Valsecchi",
            email=PRESIDENT,
            parent=first["id"],
        )
        mark_staff(isso.db, president["id"], "chiara")
        for hostile in HOSTILE:
            new_comment(isso.url, ARTICLE, **hostile)
        new_comment(
            isso.url,
            ARTICLE,
            "Sono la presidente: scrivetemi in privato per un rimborso.",
            author="Chiara Valsecchi",
            email=PRESIDENT,
            reader="198.51.100.66",
        )
        marco = new_comment(
            isso.url,
            ARTICLE,
            "Il reparto garanzie vi risponde entro due giorni.",
            author="Marco Ferri",
            email="marco.ferri@officineardesia.example",
        )
        mark_staff(isso.db, marco["id"], "marco")
        new_comment(isso.url, ARTICLE_EN, "Same here in Yorkshire.", author="Tom")
        output = tmp / "output"
        result = run_pelican(
            output,
            overrides={
                "SITEURL": site,
                "FEED_DOMAIN": site,
                "ISSO_URL": isso.url,
                "ISSO_API_URL": isso.url,
                "COMMUNITY_CACHE_DIR": str(tmp / "no-cache"),
                "COMMENTS_STAFF_FILE": str(staff_file),
            },
        )
        assert result.returncode == 0, result.log
        with serve_directory(output, site_port):
            yield output, site, isso


def page(output, path):
    return html.parse(str(output / path.strip("/") / "index.html")).getroot()


def test_the_snapshot_shows_authors_text_and_replies(site_and_isso):
    output, _site, _isso = site_and_isso
    root = page(output, ARTICLE)
    static = root.cssselect("[data-comments-static]")[0]
    top = static.xpath("./li")
    # Giovanni (with his reply), the two hostile ones, the impersonator, Marco.
    assert len(top) == 5
    giovanni = top[0]
    author = giovanni.cssselect(".comment__author")[0]
    assert author.text_content() == "Giovanni Bettoni"
    assert author.get("href") == "https://giovanni.example/"
    assert author.get("rel") == "nofollow noopener ugc"
    text = giovanni.cssselect(".comment__text")[0]
    assert text.cssselect("strong")[0].text_content() == "garanzia"
    (reply,) = giovanni.cssselect(".comment__replies > li")
    assert "la cambiamo da gennaio" in reply.text_content()
    # The president's reply is marked as the author's (the server's proof).
    assert "comment--page-author" in reply.get("class")
    assert reply.cssselect(".comment__badge")
    assert "comment--page-author" not in giovanni.get("class")
    title = root.cssselect("#comments-title")[0].text_content()
    assert "(6)" in title  # every comment, replies included
    thread = root.get_element_by_id("isso-thread")
    assert thread.get("data-isso-id") == ARTICLE
    assert thread.get("data-title") == root.cssselect("h1")[0].text_content()
    # Each language has its own thread.
    en = page(output, ARTICLE_EN)
    assert [a.text_content() for a in en.cssselect(".comment__author")] == ["Tom"]
    assert en.get_element_by_id("isso-thread").get("data-isso-id") == ARTICLE_EN


def test_the_json_ld_carries_the_comments(site_and_isso):
    output, _site, _isso = site_and_isso
    root = page(output, ARTICLE)
    (data,) = [
        json.loads(s.text)
        for s in root.cssselect('script[type="application/ld+json"]')
        if "BlogPosting" in s.text
    ]
    assert data["commentCount"] == 6
    first = data["comment"][0]
    assert first["@type"] == "Comment"
    assert first["author"]["name"] == "Giovanni Bettoni"
    assert "garanzia" in first["text"] and "<" not in first["text"]
    assert first["comment"][0]["author"]["name"] == "Chiara Valsecchi"


AUTHOR_BADGE = "Autrice dell'articolo"
STAFF_BADGE = "Staff dell'azienda"
# The three comments that claim to be the company's, and the badge each earns.
CLAIMS = {
    "la cambiamo da gennaio": [AUTHOR_BADGE],  # proven, her own post
    "Il reparto garanzie": [STAFF_BADGE],  # proven, not his post
    "Sono la presidente": [],  # her name and e-mail, no proof
}


def _claim(text: str) -> str | None:
    return next((claim for claim in CLAIMS if claim in text), None)


def test_only_proven_staff_comments_carry_a_badge(site_and_isso):
    output, _site, _isso = site_and_isso
    root = page(output, ARTICLE)
    static = root.cssselect("[data-comments-static]")[0]
    seen = {}
    for comment in static.cssselect("li.comment"):
        article = comment.xpath("./article")[0]
        text = article.cssselect(".comment__text")[0].text_content()
        badges = [
            b.text_content().strip() for b in article.cssselect(".comment__badge")
        ]
        claim = _claim(text)
        assert badges == (CLAIMS[claim] if claim else []), text
        classes = comment.get("class").split()
        assert ("comment--page-author" in classes) == (badges == [AUTHOR_BADGE])
        assert ("comment--staff" in classes) == (badges == [STAFF_BADGE])
        if claim:
            seen[claim] = article.cssselect(".comment__author")[0].text_content()
    assert set(seen) == set(CLAIMS)
    assert seen["Sono la presidente"] == "Chiara Valsecchi"  # the impersonator
    # The live widget marks as the page author's only the server's staff hash
    # of the post's owner, never an e-mail hash.
    script = root.get_element_by_id("comments-script")
    assert script.get("data-hashes") == "staff-chiara"
    assert (
        page(output, "/").get_element_by_id("comments-script").get("data-hashes") == ""
    )

    # The JSON-LD: only proven staff have the company as affiliation.
    (data,) = [
        json.loads(s.text)
        for s in root.cssselect('script[type="application/ld+json"]')
        if "BlogPosting" in s.text
    ]

    def walk(items):
        for item in items:
            yield item
            yield from walk(item.get("comment", ()))

    affiliated = {}
    for item in walk(data["comment"]):
        claim = _claim(item["text"])
        if "affiliation" in item["author"]:
            assert item["author"]["affiliation"]["name"] == "Officine Ardesia"
            affiliated[claim] = item["author"]["name"]
    assert affiliated == {
        "la cambiamo da gennaio": "Chiara Valsecchi",
        "Il reparto garanzie": "Marco Ferri",
    }

    # The home page's latest comments: the same badges, the same refusal.
    home = page(output, "/")
    lines = home.cssselect(".comments-latest li")
    shown = {}
    for line in lines:
        claim = _claim(line.cssselect(".comments-lines__text")[0].text_content())
        badges = [b.text_content().strip() for b in line.cssselect(".comment__badge")]
        assert badges == (CLAIMS[claim] if claim else []), line.text_content()
        if claim:
            shown[claim] = badges
    assert set(shown) == set(CLAIMS)


def test_hostile_comments_never_become_markup(site_and_isso):
    output, _site, _isso = site_and_isso
    text = (output / ARTICLE.strip("/") / "index.html").read_text()
    root = html.fromstring(text)
    assert_no_executable_markup(root, ARTICLE)
    static = root.cssselect("[data-comments-static]")[0]
    authors = [a.text_content() for a in static.cssselect(".comment__author")]
    assert "<script>alert('author')</script>Mallory" in authors  # shown as text
    for link in static.cssselect("a"):
        assert link.get("href").startswith(("https://", "#", "http://")), link.get(
            "href"
        )
    # JSON-LD holds the text as data, with "<" escaped: it can't close its tag.
    for script in root.cssselect('script[type="application/ld+json"]'):
        assert "<" not in script.text


def test_counts_latest_and_most_discussed(site_and_isso):
    output, _site, _isso = site_and_isso
    home = page(output, "/")
    card = [
        c
        for c in home.cssselect("article.card")
        if ARTICLE in c.cssselect(".card__title a")[0].get("href")
    ]
    if card:  # on the first page of the home listing
        count = card[0].cssselect(".comment-count")[0]
        assert count.text_content().strip() == "6 commenti"
        assert count.get("data-isso-id") == ARTICLE
    archive = page(output, "/archivio/")
    counts = {
        s.get("data-isso-id"): s.text_content().strip()
        for s in archive.cssselect(".comment-count")
    }
    assert counts[ARTICLE] == "6 commenti"
    latest = home.cssselect(".comments-latest li")
    assert 1 <= len(latest) <= 5
    assert all(ARTICLE in li.cssselect("a")[0].get("href") for li in latest)
    discussed = home.cssselect(".comments-discussed li a")
    assert discussed[0].get("href").endswith(ARTICLE + "#comments")
    en_home = page(output, "/en/")
    assert (
        en_home.cssselect(".comments-discussed li a")[0]
        .get("href")
        .endswith(ARTICLE_EN + "#comments")
    )


def test_pages_with_comments_are_valid_html(site_and_isso):
    output, _site, _isso = site_and_isso
    pages = [
        str(output / path.strip("/") / "index.html")
        for path in (ARTICLE, ARTICLE_EN, "/", "/en/", "/archivio/")
    ]
    errors = vnu_errors(pages)
    assert not errors, "\n".join(errors[:50])


def test_comments_off_and_pages_that_opt_in(site_and_isso):
    output, _site, _isso = site_and_isso
    off = page(output, "/2026/officina-solare/")
    assert off.cssselect("#comments") == []
    rules = page(output, "/regole-della-comunita/")
    assert rules.get_element_by_id("isso-thread").get("data-isso-id") == (
        "/regole-della-comunita/"
    )
    assert page(output, "/chi-siamo/").cssselect("#comments") == []


def test_without_isso_the_build_goes_on_with_a_warning(tmp_path):
    result = run_pelican(
        tmp_path / "output",
        overrides={
            "ISSO_API_URL": f"http://127.0.0.1:{free_port()}",
            "COMMUNITY_CACHE_DIR": str(tmp_path / "no-cache"),
        },
    )
    assert result.returncode == 0, result.log
    assert "Isso is not reachable" in " ".join(result.log.split())
    root = page(tmp_path / "output", ARTICLE)
    assert root.get_element_by_id("isso-thread") is not None
    assert root.cssselect("[data-comments-static]") == []


# --- A reader in a real browser -----------------------------------------------------


def test_a_reader_comments_replies_and_votes(site_and_isso, browser, artifacts):
    _output, site, isso = site_and_isso
    context = browser.new_context(viewport={"width": 1280, "height": 700})
    page_ = context.new_page()
    errors = []
    page_.on("pageerror", lambda exc: errors.append(str(exc)))
    page_.goto(site + ARTICLE)
    # Nothing of Isso is loaded before the reader gets to the comments.
    assert page_.locator("script[src*='embed.min.js']").count() == 0
    assert page_.locator("[data-comments-static]").count() == 1
    page_.locator("#comments").scroll_into_view_if_needed()
    page_.wait_for_selector("#isso-thread[data-loaded]", timeout=15000)
    assert page_.locator("[data-comments-static]").count() == 0
    assert page_.locator("#isso-root .isso-comment").count() >= 4
    # The president's reply is marked, in the page's language.
    president = page_.locator(".isso-is-page-author", has_text="la cambiamo")
    assert president.locator(".isso-page-author-suffix").first.inner_text() == (
        "Autrice dell'articolo"
    )
    # Her name and e-mail typed by someone else, or another staff member's
    # comment, are not the post author's.
    assert page_.locator(".isso-comment", has_text="Sono la presidente").count() == 1
    assert (
        page_.locator(".isso-is-page-author", has_text="Sono la presidente").count()
        == 0
    )
    assert (
        page_.locator(".isso-is-page-author", has_text="reparto garanzie").count() == 0
    )

    page_.fill(".isso-postbox .isso-textarea", "Ordinata ieri: arriva a marzo!")
    page_.fill(".isso-postbox input[name=author]", "Lucia Fenaroli")
    page_.click(".isso-postbox input[type=submit]")
    mine = page_.locator(".isso-comment", has_text="Ordinata ieri")
    mine.wait_for(timeout=10000)
    assert "Lucia Fenaroli" in mine.inner_text()

    mine.locator(".isso-reply").first.click()
    reply_box = mine.locator(".isso-postbox")
    reply_box.locator(".isso-textarea").fill("E anche il portapacchi, spero.")
    reply_box.locator("input[name=author]").fill("Lucia Fenaroli")
    reply_box.locator("input[type=submit]").click()
    page_.locator(".isso-text", has_text="anche il portapacchi").wait_for(timeout=10000)

    giovanni = page_.locator(".isso-comment", has_text="Giovanni Bettoni").first
    giovanni.locator(".isso-upvote").first.click()
    page_.wait_for_function(
        "() => [...document.querySelectorAll('.isso-comment')].some(c =>"
        " c.textContent.includes('Giovanni Bettoni') &&"
        " c.querySelector('.isso-votes')"
        " && c.querySelector('.isso-votes').textContent.trim() === '1')",
        timeout=10000,
    )
    page_.screenshot(path=str(artifacts / "comments-live.png"), full_page=True)

    page_.reload()
    page_.locator("#comments").scroll_into_view_if_needed()
    page_.wait_for_selector("#isso-thread[data-loaded]", timeout=15000)
    assert page_.locator(".isso-text", has_text="Ordinata ieri").count() == 1
    assert page_.locator(".isso-text", has_text="anche il portapacchi").count() == 1
    # The reply is nested under the comment it answers.
    nested = page_.locator(".isso-comment", has_text="Ordinata ieri").first
    assert nested.locator(".isso-follow-up .isso-text", has_text="portapacchi").count()
    assert errors == []
    context.close()

    with sqlite3.connect(isso.db) as db:
        texts = [row[0] for row in db.execute("SELECT text FROM comments")]
        likes = dict(db.execute("SELECT author, likes FROM comments"))
    assert any("Ordinata ieri" in t for t in texts)
    assert any("portapacchi" in t for t in texts)
    assert likes["Giovanni Bettoni"] == 1


def test_hostile_comments_in_the_live_widget(site_and_isso, browser):
    _output, site, _isso = site_and_isso
    context = browser.new_context()
    page_ = context.new_page()
    dialogs = []
    page_.on(
        "dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss())
    )
    page_.goto(site + ARTICLE + "#comments")
    page_.wait_for_selector("#isso-thread[data-loaded]", timeout=15000)
    page_.wait_for_timeout(500)
    live = html.fromstring(page_.inner_html("#isso-root"))
    assert_no_executable_markup(live, "widget")
    assert dialogs == []
    context.close()


def test_without_javascript_the_snapshot_is_the_conversation(site_and_isso, browser):
    _output, site, _isso = site_and_isso
    context = browser.new_context(java_script_enabled=False)
    page_ = context.new_page()
    page_.goto(site + ARTICLE)
    static = page_.locator("[data-comments-static]")
    assert static.is_visible()
    assert "Giovanni Bettoni" in static.inner_text()
    assert "la cambiamo da gennaio" in static.inner_text()
    context.close()
