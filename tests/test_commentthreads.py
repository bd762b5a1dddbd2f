"""plugins/commentthreads: the build lists the site's comment threads for
the comment server's guard (piazza/isso_guard.py reads the list)."""

from __future__ import annotations

import json

from lxml import html

from piazza.isso_guard import parse_threads


def test_every_thread_on_the_site_is_listed_with_its_title(published_site):
    listed = parse_threads(
        (published_site.output / "comment-threads.json").read_text(encoding="utf-8")
    )
    on_pages = {}
    for page in published_site.output.rglob("*.html"):
        for thread in html.parse(str(page)).getroot().xpath('//div[@id="isso-thread"]'):
            on_pages[thread.get("data-isso-id")] = thread.get("data-title")
    assert on_pages, "the sample site has posts that take comments"
    assert listed == on_pages


def test_the_list_is_json_the_guard_reads(published_site):
    data = json.loads((published_site.output / "comment-threads.json").read_bytes())
    assert set(data) == {"threads"}
    assert all(uri.startswith("/") for uri in data["threads"])
