"""piazza.check: a built site is checked the way browsers and feed readers see it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import build_site

from piazza.check import Finding, Kind, check_site, format_report

SITE = "https://www.example.test"


def page(
    title: str = "A page",
    canonical: str | None = f"{SITE}/",
    head: str = "",
    body: str = "",
) -> str:
    canon = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"{canon}{head}</head><body>{body}</body></html>"
    )


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Site</title>
<link href="{site}/" rel="alternate"/><id>{site}/</id>
<updated>2026-01-01T00:00:00+00:00</updated>
<entry><title>Post</title><link href="{site}/{link}" rel="alternate"/>
<id>tag:x,2026:post</id><updated>2026-01-01T00:00:00+00:00</updated>
<summary>Hello</summary></entry></feed>
"""


def json_feed(**changes) -> str:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Site",
        "home_page_url": f"{SITE}/",
        "items": [{"id": "1", "url": f"{SITE}/post/", "content_html": "<p>x</p>"}],
    }
    feed.update(changes)
    return json.dumps(feed)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def clean(tmp_path) -> Path:
    """A tiny site with every kind of reference, all of them fine."""
    body = (
        f'<a href="{SITE}/post/">post</a> <a href="post/">rel</a> '
        '<a href="/post/#intro">anchor</a> <a href="#top">top</a> '
        '<a href="#main">main</a> <a href="mailto:a@b.c">mail</a> '
        '<a href="https://elsewhere.example/missing">ext</a> '
        '<a href="/comments/api/">isso</a> <a href="/post">no slash</a> '
        f'<img src="{SITE}/images/a.png" srcset="/images/a.png 1x, /images/b.png 2x">'
        '<main id="main"></main>'
    )
    head = (
        f'<link rel="stylesheet" href="{SITE}/theme/main.css">'
        f'<link rel="icon" href="{SITE}/favicon.svg">'
        '<link rel="alternate" type="application/atom+xml" '
        f'href="{SITE}/feeds/all.atom.xml">'
        '<link rel="alternate" type="application/feed+json" '
        f'href="{SITE}/feeds/it.json">'
        f'<meta property="og:image" content="{SITE}/images/a.png">'
        '<script src="/comments/js/embed.min.js"></script>'
    )
    return write(
        tmp_path / "site",
        {
            "index.html": page(head=head, body=body),
            "post/index.html": page(
                "Post", f"{SITE}/post/", body='<h2 id="intro">Intro</h2>'
            ),
            "404.html": page(
                "Not found", None, head='<meta name="robots" content="noindex">'
            ),
            "theme/main.css": "body{background:url(../images/a.png)}",
            "images/a.png": b"\x89PNG",
            "images/b.png": b"\x89PNG",
            "favicon.svg": "<svg/>",
            "feeds/all.atom.xml": ATOM.format(site=SITE, link="post/"),
            "feeds/all.rss.xml": (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>'
                f"<link>{SITE}/</link><description>d</description><item>"
                f"<title>Post</title><link>{SITE}/post/</link></item></channel></rss>"
            ),
            "feeds/it.json": json_feed(),
        },
    )


def kinds(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.kind, f.page) for f in findings}


def test_a_clean_site_passes(clean):
    report = check_site(clean, SITE)
    assert report.errors == [], format_report(report)
    assert report.warnings == []
    assert report.ok
    assert report.pages == 3


def test_a_broken_link_is_an_error_naming_page_and_file(clean):
    index = clean / "index.html"
    index.write_text(
        page(body=f'<a href="{SITE}/2026/gone/">x</a><a href="../nope.html">y</a>')
    )
    report = check_site(clean, SITE)
    assert not report.ok
    broken = [f for f in report.errors if f.kind == Kind.BROKEN_LINK]
    assert {f.page for f in broken} == {"index.html"}
    details = " ".join(f.detail for f in broken)
    assert "2026/gone/index.html" in details
    assert "nope.html" in details


def test_a_missing_image_is_a_missing_asset(clean):
    (clean / "images" / "b.png").unlink()
    report = check_site(clean, SITE)
    assert kinds(report.errors) == {(Kind.MISSING_ASSET, "index.html")}
    assert "images/b.png" in report.errors[0].detail


def test_missing_css_background_is_found_in_the_stylesheet(clean):
    (clean / "theme" / "main.css").write_text("a{background:url('/images/none.png')}")
    report = check_site(clean, SITE)
    assert kinds(report.errors) == {(Kind.MISSING_ASSET, "theme/main.css")}


def test_a_missing_social_image_is_reported(clean):
    (clean / "index.html").write_text(
        page(head=f'<meta property="og:image" content="{SITE}/theme/card.png">')
    )
    report = check_site(clean, SITE)
    assert kinds(report.errors) == {(Kind.MISSING_ASSET, "index.html")}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("feeds/all.atom.xml", "<feed xmlns='http://www.w3.org/2005/Atom'><title>x"),
        ("feeds/all.rss.xml", "this is not xml at all <<<"),
        ("feeds/it.json", "{not json"),
        ("feeds/it.json", json_feed(version="1.1")),
        ("feeds/it.json", json_feed(items={"not": "a list"})),
        ("feeds/it.json", json_feed(title="")),
    ],
)
def test_an_invalid_feed_is_an_error(clean, name, content):
    (clean / name).write_text(content)
    report = check_site(clean, SITE)
    assert kinds(report.errors) == {(Kind.INVALID_FEED, name)}, format_report(report)


def test_a_feed_entry_pointing_nowhere_is_a_broken_link(clean):
    (clean / "feeds/all.atom.xml").write_text(ATOM.format(site=SITE, link="gone/"))
    report = check_site(clean, SITE)
    assert kinds(report.errors) == {(Kind.BROKEN_LINK, "feeds/all.atom.xml")}


def test_pages_need_a_title_and_a_canonical_link(clean):
    (clean / "post/index.html").write_text(
        "<html><head><title> </title></head><body id='intro'></body></html>"
    )
    report = check_site(clean, SITE)
    assert kinds(report.errors) == {
        (Kind.MISSING_TITLE, "post/index.html"),
        (Kind.MISSING_CANONICAL, "post/index.html"),
    }


def test_a_page_over_budget_is_an_error(clean):
    report = check_site(clean, SITE, size_budget=200)
    over = {f.page for f in report.errors if f.kind == Kind.OVER_BUDGET}
    assert "index.html" in over
    assert check_site(clean, SITE).ok


def test_http_assets_on_an_https_site_are_mixed_content(clean):
    (clean / "index.html").write_text(
        page(
            head='<link rel="stylesheet" href="http://cdn.example/x.css">',
            body='<img src="http://cdn.example/x.png"><a href="http://ok.example/">'
            "a link is fine</a>",
        )
    )
    report = check_site(clean, SITE)
    mixed = [f for f in report.errors if f.kind == Kind.MIXED_CONTENT]
    assert len(mixed) == 2
    assert all("http://cdn.example" in f.detail for f in mixed)
    assert check_site(clean, SITE, https_required=False).ok
    assert check_site(clean, "http://www.example.test").ok


def test_fragments_must_name_an_id(clean):
    (clean / "index.html").write_text(page(body='<a href="#nowhere">x</a>'))
    report = check_site(clean, SITE)
    assert kinds(report.errors) == {(Kind.BROKEN_FRAGMENT, "index.html")}
    (clean / "index.html").write_text(page(body='<a href="/post/#nowhere">x</a>'))
    report = check_site(clean, SITE)
    assert report.ok
    assert kinds(report.warnings) == {(Kind.BROKEN_FRAGMENT, "index.html")}


# What readers wrote, as the theme marks it: a comment of the static snapshot
# (with a reply inside it) and a community entry.
READER_CONTENT = (
    '<ol data-comments-static><li class="comment" id="isso-7">'
    '<article data-reader-content="comment isso-7">'
    f'<a href="{SITE}/2020/gone/">gone</a> <a href="#inizio">sopra</a> '
    '<a href="#harmful-link">click</a> '
    f'<a href="{SITE}/post/#nowhere">there</a> '
    '<img src="http://cdn.example/cat.png" alt=""> <img src="/images/none.png" alt="">'
    "</article>"
    '<ol><li class="comment" id="isso-8"><article data-reader-content="comment isso-8">'
    '<a href="/2021/also-gone/">reply</a></article></li></ol>'
    "</li></ol>"
    '<article class="community-card" '
    'data-reader-content="community entry https://fan.example/p">'
    '<a href="/post/">ours</a> <a href="/2019/old/">old</a></article>'
)


def test_reader_content_never_fails_the_check_and_is_reported(clean):
    write(
        clean, {"talk/index.html": page("Talk", f"{SITE}/talk/", body=READER_CONTENT)}
    )
    report = check_site(clean, SITE)
    assert report.ok, format_report(report)
    assert kinds(report.warnings) == {(Kind.READER_CONTENT, "talk/index.html")}
    details = sorted(f.detail for f in report.warnings)
    expected = {
        "comment isso-7: ": [
            "/2020/gone/",
            "#inizio",
            "#harmful-link",
            "/post/#nowhere",
            "http://cdn.example/cat.png",
            "/images/none.png",
        ],
        "comment isso-8: ": ["/2021/also-gone/"],  # the reply, by its own name
        "community entry https://fan.example/p: ": ["/2019/old/"],
    }
    for label, links in expected.items():
        mine = [d for d in details if d.startswith(label)]
        for link in links:
            assert [d for d in mine if link in d], (link, details)
    assert len(details) == sum(len(links) for links in expected.values()), details
    assert "reader-content" in format_report(report)


def test_the_sites_own_links_beside_reader_content_still_fail(clean):
    body = (
        READER_CONTENT + '<main><a href="/2020/gone/">ours</a><a href="#x">x</a></main>'
    )
    write(clean, {"talk/index.html": page("Talk", f"{SITE}/talk/", body=body)})
    report = check_site(clean, SITE)
    assert not report.ok
    assert kinds(report.errors) == {
        (Kind.BROKEN_LINK, "talk/index.html"),
        (Kind.BROKEN_FRAGMENT, "talk/index.html"),
    }
    assert all("comment" not in f.detail for f in report.errors)
    # The same links in reader content are still only warnings.
    assert (Kind.READER_CONTENT, "talk/index.html") in kinds(report.warnings)


def test_relative_urls_resolve_against_the_page(tmp_path):
    root = write(
        tmp_path,
        {
            "index.html": page(canonical="./", body='<a href="a/b/">x</a>'),
            "a/b/index.html": page(
                canonical="./", body='<a href="../../">up</a><img src="../c.png">'
            ),
            "a/c.png": b"png",
        },
    )
    assert check_site(root, "").ok
    (root / "a/c.png").unlink()
    assert kinds(check_site(root, "").errors) == {
        (Kind.MISSING_ASSET, "a/b/index.html")
    }


def test_a_site_under_a_path_maps_urls_below_it(tmp_path):
    base = "https://example.test/blog"
    root = write(
        tmp_path,
        {
            "index.html": page(
                canonical=f"{base}/",
                body=f'<a href="{base}/post/">p</a><a href="/other/">outside</a>',
            ),
            "post/index.html": page(canonical=f"{base}/post/"),
        },
    )
    assert check_site(root, base).ok
    shutil.rmtree(root / "post")
    assert kinds(check_site(root, base).errors) == {(Kind.BROKEN_LINK, "index.html")}


def test_an_empty_page_is_unreadable(clean):
    (clean / "post/index.html").write_text("")
    report = check_site(clean, SITE)
    assert (Kind.UNREADABLE, "post/index.html") in kinds(report.errors)


def test_the_report_groups_findings_by_kind(clean):
    (clean / "images/a.png").unlink()
    (clean / "feeds/it.json").write_text("[]")
    text = format_report(check_site(clean, SITE))
    assert text.startswith("check FAILED")
    assert "errors: missing-asset (" in text
    assert "errors: invalid-feed (1)" in text
    assert "index.html: <img src>" in text


def test_the_report_is_immutable(clean):
    report = check_site(clean, SITE)
    with pytest.raises(AttributeError):
        report.errors = []  # type: ignore[misc]


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="build the site first"):
        check_site(tmp_path / "nope", SITE)


# ------------------------------------------------------------- the sample site


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory.mktemp("check") / "output")


def test_the_sample_site_passes(sample):
    report = check_site(sample, "https://www.officineardesia.example")
    assert report.ok, format_report(report)
    assert report.pages > 20


def test_planted_problems_in_the_sample_site_are_all_found(sample, tmp_path):
    site = shutil.copytree(sample, tmp_path / "site")
    siteurl = "https://www.officineardesia.example"
    post = next(p for p in sorted(site.glob("20*/*/index.html")))
    rel = post.relative_to(site).as_posix()
    text = post.read_text(encoding="utf-8").replace(
        "</main>",
        f'<a href="{siteurl}/2099/not-there/">x</a>'
        f'<img src="{siteurl}/images/not-there.png" alt=""></main>',
    )
    post.write_text(text, encoding="utf-8")
    (site / "feeds" / "all.atom.xml").write_text("<feed><entry>", encoding="utf-8")
    report = check_site(site, siteurl)
    found = kinds(report.errors)
    assert (Kind.BROKEN_LINK, rel) in found
    assert (Kind.MISSING_ASSET, rel) in found
    assert (Kind.INVALID_FEED, "feeds/all.atom.xml") in found


def test_draft_pages_are_left_out_unless_drafts_are_asked_for(tmp_path):
    draft = page(body=f'<a href="{SITE}/tag/only-drafts/">#x</a>').replace(
        "<html>", '<html data-status="draft">'
    )
    site = write(
        tmp_path,
        {"index.html": page(), "bozze/x/index.html": draft},
    )
    report = check_site(site, SITE)
    assert report.ok and report.pages == 1 and report.drafts == 1
    assert "1 draft page left out" in format_report(report)
    with_drafts = check_site(site, SITE, drafts=True)
    assert [f.page for f in with_drafts.errors] == ["bozze/x/index.html"]
    assert with_drafts.pages == 2 and with_drafts.drafts == 0
