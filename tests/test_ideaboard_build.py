"""The ideas board built from a real ideas service (gunicorn, loopback) and
the content its editors' commands write.

Readers propose and vote through the service's API; an editor accepts,
moves, declines and merges with services/ideas/cli into a temporary content
folder; the sample site is built once with the service up, once with it
down (the last known numbers), and every board page is read back parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
from conftest import run_pelican
from ideas_server import Reader, counts, request, running_ideas
from lxml import html
from markup import assert_no_executable_markup
from test_html_validity import vnu_errors

from services.ideas import cli

API = "/idee-api"
HOSTILE_TITLE = "<script>alert(1)</script> <img src=x onerror=alert(2)> Evil"
HOSTILE_BODY = (
    '<script>alert(3)</script><p onclick="alert(4)">Click '
    '<a href="javascript:alert(5)">here</a> <img src="x" onerror="alert(6)"></p>\n'
    "\n[also](javascript:alert(7))\n"
)


@dataclass
class Built:
    folder: Path
    output: Path
    log: str
    down_output: Path
    down_log: str
    counts: dict[int, tuple[int, int]]
    history: dict[int, int]


def _reader(index: int, url: str) -> Reader:
    # One address range per reader: the service's per-range limits stay out.
    return Reader(url, f"198.51.{index}.7")


def _build(output: Path, tmp: Path, api_url: str, folder: Path):
    siteurl = "http://127.0.0.1:8000"
    return run_pelican(
        output,
        overrides={
            "COMMUNITY_CACHE_DIR": str(tmp / "no-cache"),
            "IDEAS_API_URL": api_url,
            "IDEAS_CONTENT_DIR": str(folder),
            "IDEAS_SNAPSHOT_CACHE": str(tmp / "snapshot.json"),
            "SITEURL": siteurl,
            "FEED_DOMAIN": siteurl,
        },
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    tmp = tmp_path_factory.mktemp("ideaboard")
    folder = tmp / "content-ideas"
    with running_ideas(tmp / "service") as ideas:
        titles = [
            ("Un portapacchi senza smontare il codino", "accessori"),
            ("Manopole riscaldate di serie", "accessori"),
            ("Evil &lt;script&gt;alert(1)&lt;/script&gt;", "sito"),
            ("Una giacca in cordura", "abbigliamento"),
            ("Portapacchi per borse morbide", "accessori"),
        ]
        for index, (title, category) in enumerate(titles, start=1):
            status, _, answer = _reader(index, ideas.url).propose(
                title=title,
                category=category,
                description=HOSTILE_BODY if index == 3 else f"Idea {index}.",
            )
            assert status == 202, answer
            assert answer["id"] == index
            cli.accept(ideas.db, index, folder)
        # An editor translates idea 1 and marks idea 2 as the company's pick.
        (original,) = folder.glob("un-portapacchi*.it.md")
        text = original.read_text(encoding="utf-8")
        head, body = text.split("\n\n", 1)
        head = head.replace("Lang: it", "Lang: en").replace(
            "Title: Un portapacchi senza smontare il codino",
            "Title: A luggage rack that keeps the tail section",
        )
        head = head.replace(
            "Slug: un-portapacchi-senza-smontare-il-codino", "Slug: a-luggage-rack"
        )
        (folder / "a-luggage-rack.en.md").write_text(
            f"{head}\n\n<p>For long trips.</p>\n", encoding="utf-8"
        )
        (pick,) = folder.glob("manopole*.it.md")
        pick.write_text(
            pick.read_text(encoding="utf-8").replace(
                "Idea-Id: 2\n", "Idea-Id: 2\nCompany-Pick: yes\n"
            ),
            encoding="utf-8",
        )
        # What git holds for idea 3 was tampered with: the board re-sanitises.
        (evil,) = folder.glob("evil*.it.md")
        head, body = evil.read_text(encoding="utf-8").split("\n\n", 1)
        head = "\n".join(
            f"Title: {HOSTILE_TITLE}" if line.startswith("Title:") else line
            for line in head.splitlines()
        )
        evil.write_text(f"{head}\n\n{body}\n{HOSTILE_BODY}", encoding="utf-8")
        (folder / "broken.it.md").write_text(
            "Title: Broken\nDate: 2026-01-01\nIdea-Id: many\nLang: it\n\nx\n",
            encoding="utf-8",
        )
        votes = {1: 2, 2: 4, 3: 1, 4: 2, 5: 1}
        reader = 10
        for number, many in votes.items():
            for _ in range(many):
                status, _, answer = _reader(reader, ideas.url).vote(number)
                assert status == 200, answer
                reader += 1
        cli.set_status(
            ideas.db, 1, "under-review", folder,
            answer_it="Ci stiamo pensando", answer_en="We are thinking about it",
        )  # fmt: skip
        cli.set_status(ideas.db, 1, "planned", folder, answer_it="A maggio")
        cli.set_status(
            ideas.db, 2, "under-review", folder,
            answer_it="In prova", answer_en="Being tested",
        )  # fmt: skip
        cli.decline(
            ideas.db, 4, folder,
            answer_it="Non quest'anno", answer_en="Not this year",
        )  # fmt: skip
        cli.merge(
            ideas.db, 5, 1, folder,
            answer_it="È la stessa idea", answer_en="The same idea",
        )  # fmt: skip
        numbers = counts(ideas.url, 1, 2, 3, 4, 5)
        _, _, snapshot = request(ideas.url, "GET", "/snapshot")
        history = {i["id"]: len(i["history"]) for i in snapshot["ideas"]}
        up = _build(tmp / "output", tmp, ideas.url, folder)
        assert up.returncode == 0, up.log
    down = _build(tmp / "output-down", tmp, ideas.url, folder)
    assert down.returncode == 0, down.log
    return Built(folder, up.output, up.log, down.output, down.log, numbers, history)


def _page(output: Path, url: str) -> html.HtmlElement:
    path = output / url / "index.html" if url.endswith("/") else output / url
    assert path.is_file(), f"{url} was not built"
    return html.parse(str(path)).getroot()


# Every idea inside a board's wrapper (contract 4: div.ideas-board).
IDEAS_ON_A_PAGE = (
    "//div[contains(concat(' ', @class, ' '), ' ideas-board ')]"
    "//article[contains(concat(' ', @class, ' '), ' idea ')]"
)


def _cards(root: html.HtmlElement) -> list[tuple[int, int, int]]:
    """(idea, supporters, confirmed) of each idea on a page, in order."""
    return [
        (
            int(card.get("data-idea-id")),
            int(card.xpath(".//*[@data-count='supporters']")[0].text),
            int(card.xpath(".//*[@data-count='confirmed']")[0].text),
        )
        for card in root.xpath(IDEAS_ON_A_PAGE)
    ]


def _by_support(built: Built, ids) -> list[int]:
    return sorted(ids, key=lambda n: (-built.counts[n][0], -built.counts[n][1], n))


@pytest.mark.parametrize("board", ["idee/", "en/ideas/"])
def test_the_board_shows_the_services_counts_most_supported_first(built, board):
    root = _page(built.output, board)
    cards = _cards(root)
    open_ideas = [1, 2, 3]  # 4 is declined, 5 merged into 1
    assert [c[0] for c in cards] == _by_support(built, open_ideas)
    for number, supporters, confirmed in cards:
        assert (supporters, confirmed) == built.counts[number]
    assert built.counts[1][0] == 3  # its duplicate's supporter moved to it
    (wrapper,) = root.xpath("//div[contains(@class, 'ideas-board')]")
    assert wrapper.get("data-ideas-api") == API
    assert wrapper.get("data-lang") == ("it" if board == "idee/" else "en")
    for form in root.xpath("//form[contains(@class, 'idea-vote')]"):
        number = form.xpath("ancestor::article/@data-idea-id")[0]
        assert form.get("action") == f"{API}/ideas/{number}/vote"
        assert form.xpath(".//button[@type='submit']")
    assert root.xpath("//*[contains(@class, 'needs-js')]")
    scripts = [s.get("src", "").split("?")[0] for s in root.xpath("//script[@src]")]
    assert any(s.endswith("/theme/js/ideas.js") for s in scripts)
    assert any(s.endswith("/theme/js/ideas-pow.js") for s in scripts)


def test_trending_newest_status_category_and_roadmap(built):
    trending = [c[0] for c in _cards(_page(built.output, "idee/tendenza/"))]
    assert trending == _by_support(built, [1, 2, 3])  # every vote is recent
    newest = [c[0] for c in _cards(_page(built.output, "en/ideas/newest/"))]
    assert newest == [3, 2, 1]  # accepted in the same minute: by number
    declined = _page(built.output, "idee/stato/non-accolte/")
    assert [c[0] for c in _cards(declined)] == [4]
    assert [c[0] for c in _cards(_page(built.output, "en/ideas/status/declined/"))] == [
        4
    ]
    accessories = _page(built.output, "en/ideas/category/accessori/")
    assert [c[0] for c in _cards(accessories)] == _by_support(built, [1, 2, 5])
    roadmap = _page(built.output, "idee/roadmap/")
    column = roadmap.xpath("//section[@aria-labelledby='roadmap-planned']")[0]
    assert [int(n) for n in column.xpath(".//article/@data-idea-id")] == [1]
    assert _page(built.output, "idee/").xpath("//p[@class='ideas-rule']/text()"), (
        "the board states the company's rule"
    )


def test_an_idea_page_has_its_history_with_answers_in_the_readers_language(built):
    root = _page(built.output, "en/ideas/1-a-luggage-rack/")
    assert root.xpath("string(//h1)") == "A luggage rack that keeps the tail section"
    history = root.xpath("//section[contains(@class, 'idea-history')]//li")
    assert len(history) == built.history[1] == 3
    statuses = [
        li.xpath("string(.//*[contains(@class, 'idea-status')])") for li in history
    ]
    assert statuses == ["Proposed", "Under review", "Planned"]
    answers = [li.xpath(".//blockquote") for li in history]
    assert answers[0] == []
    assert answers[1][0].text_content().strip() == "We are thinking about it"
    assert answers[2][0].text_content().strip() == "A maggio"
    assert answers[2][0].get("lang") == "it"  # no English answer: the Italian one
    it = _page(built.output, "idee/1-un-portapacchi-senza-smontare-il-codino/")
    assert [b.text_content().strip() for b in it.xpath("//blockquote")] == [
        "Ci stiamo pensando",
        "A maggio",
    ]
    alternates = {
        link.get("hreflang"): link.get("href")
        for link in root.xpath("//link[@rel='alternate'][@hreflang]")
    }
    assert alternates["it"].endswith("/idee/1-un-portapacchi-senza-smontare-il-codino/")
    card = root.xpath("//article[@data-idea-id='1']")[0]
    assert card.xpath("string(.//*[@data-count='supporters'])") == str(
        built.counts[1][0]
    )
    thread = root.xpath("//*[@id='isso-thread']")[0]
    assert thread.get("data-isso-id") == "/en/ideas/1-a-luggage-rack/"
    threads = json.loads((built.output / "comment-threads.json").read_text())
    assert "/en/ideas/1-a-luggage-rack/" in threads["threads"]


def test_untranslated_ideas_pick_and_duplicate(built):
    root = _page(built.output, "en/ideas/2-manopole-riscaldate-di-serie/")
    assert root.xpath("//h1/@lang") == ["it"]
    assert root.xpath("//*[contains(@class, 'idea-pick')]")
    board = _page(built.output, "idee/")
    picked = board.xpath("//article[.//*[contains(@class, 'idea-pick')]]/@data-idea-id")
    assert picked == ["2"]
    duplicate = _page(built.output, "idee/5-portapacchi-per-borse-morbide/")
    (link,) = duplicate.xpath("//*[contains(@class, 'idea-duplicate')]//a")
    assert link.get("href").endswith("/idee/1-un-portapacchi-senza-smontare-il-codino/")


def test_the_feed_has_one_entry_per_status_change(built):
    expected = sum(built.history[n] for n in (1, 2, 3, 4, 5))
    for feed, lang in (
        ("feeds/idee-it.atom.xml", "it"),
        ("feeds/ideas-en.atom.xml", "en"),
    ):
        parsed = feedparser.parse((built.output / feed).read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        assert len(parsed.entries) == expected
        assert len({e.id for e in parsed.entries}) == expected
        for entry in parsed.entries:
            target = entry.link.split("#")[0].removeprefix("http://127.0.0.1:8000/")
            assert (built.output / target / "index.html").is_file(), entry.link
            for part in (entry.title, entry.get("summary", "")):
                assert_no_executable_markup(
                    html.fragment_fromstring(part, create_parent="div"), feed
                )
        declined = [
            e for e in parsed.entries if "4-" in e.link and "#change-2" in e.link
        ]
        said = html.fragment_fromstring(declined[0].summary).text_content()
        assert said == ("Not this year" if lang == "en" else "Non quest'anno")
    board = _page(built.output, "idee/")
    assert board.xpath(
        "//link[@rel='alternate'][@type='application/atom+xml']"
        "[contains(@href, 'feeds/idee-it.atom.xml')]"
    )


def test_json_ld_on_idea_pages(built):
    for number, url in (
        (1, "en/ideas/1-a-luggage-rack/"),
        (3, "idee/3-evil-script-alert-1-script/"),
    ):
        path = built.output / url / "index.html"
        if not path.is_file():
            (path,) = (built.output / "idee").glob(f"{number}-*/index.html")
        root = html.parse(str(path)).getroot()
        (script,) = root.xpath("//script[@type='application/ld+json']")
        data = json.loads(script.text)
        assert data["@context"] == "https://schema.org"
        assert data["@type"] == "DiscussionForumPosting"
        assert data["url"].startswith("http://127.0.0.1:8000/")
        (counter,) = data["interactionStatistic"]
        assert counter["userInteractionCount"] == built.counts[number][0]
        assert counter["interactionType"] == "https://schema.org/LikeAction"


@pytest.mark.parametrize("home", ["index.html", "en/index.html"])
def test_the_home_page_shows_the_latest_decisions(built, home):
    root = _page(built.output, home)
    items = root.xpath("//section[contains(@class, 'ideas-decisions')]//li")
    assert items
    # The newest decision is the merge of idea 5 into idea 1.
    first = items[0].xpath(".//a/@href")[0]
    assert "/5-portapacchi-per-borse-morbide/#change-" in first
    menu = root.xpath("//nav[contains(@class, 'site-nav')]//a/@href")
    board = "/idee/" if home == "index.html" else "/en/ideas/"
    assert any(href.endswith(board) for href in menu)


def _board_pages(output: Path) -> list[Path]:
    pages = [
        *(output / "idee").rglob("*.html"),
        *(output / "en" / "ideas").rglob("*.html"),
    ]
    return [*sorted(pages), output / "index.html", output / "en" / "index.html"]


def test_a_hostile_idea_is_inert_on_every_board_page(built):
    pages = _board_pages(built.output)
    assert len(pages) > 30
    for page in pages:
        root = html.parse(str(page)).getroot()
        assert_no_executable_markup(root, str(page), forms_to=API)
    evil = _page(built.output, "en/ideas/")
    card = evil.xpath("//article[@data-idea-id='3']")[0]
    title = card.xpath("string(.//*[contains(@class, 'card__title')])").strip()
    assert "alert(1)" not in title and title.endswith("Evil")


def test_a_malformed_idea_file_is_a_warning_and_the_rest_builds(built):
    assert "broken.it.md:3:" in built.log
    assert "left out" in built.log


def test_a_service_that_is_down_gives_the_last_known_numbers(built):
    assert "ideas service unreachable" in built.down_log
    for board in ("idee/", "en/ideas/", "idee/roadmap/"):
        assert _cards(_page(built.down_output, board)) == _cards(
            _page(built.output, board)
        )


def test_the_board_pages_are_valid_html(built):
    errors = vnu_errors([str(p) for p in _board_pages(built.output)])
    assert not errors, "\n".join(errors[:30])
