"""Search at 2,000 posts: indexing time against the build, index size, and the
bytes a reader's browser downloads for a first and a second query.

Generates the synthetic bilingual site (bench/synth.py), builds it as
`invoke build` does (development settings, in a subprocess) and indexes it
(piazza/search.py), alternating, several runs: the build is the baseline the
indexing is measured against. Then nginx serves the last build with the
production config (deploy/nginx.conf: its types, compression and CSP) and
Chromium searches it on /cerca/: the bytes come from nginx's access log
(body bytes sent: what crossed the wire, compressed), counted from the
search page being loaded (its own HTML, CSS and script apart) to the results
being shown. The synthetic posts are made of the same few words, so a query
for one of them matches every page: the worst case for the index chunks.

    python bench/bench_search.py [--posts 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)]

from conftest import CHROMIUM_ARGS, chromium_path, free_port  # noqa: E402
from nginx_server import running_nginx  # noqa: E402
from synth import make_site  # noqa: E402

from piazza.pelican_run import pelican_args  # noqa: E402
from piazza.search import folder_bytes, index_site, read_entry  # noqa: E402

FIRST, SECOND = "officina", "montagna"  # both in every synthetic post
RARE = "1234"  # in one title ("Articolo numero 1234")
NO_FAVICON = "/favicon.svg"  # the synthetic content has none: not the search's
TARGETS = {"index": 0.15, "first": 150 * 1024, "second": 50 * 1024}
_LOG_LINE = re.compile(r'"GET (\S+) HTTP/[^"]*" (\d{3}) (\d+)')


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def indexed(output: Path) -> tuple[float, float]:
    """One indexing as `invoke build` runs it; (wall, CPU) seconds."""
    cpu = _children_cpu()
    wall = index_site(output).seconds
    return wall, _children_cpu() - cpu


def build(content: Path, output: Path, site: str) -> tuple[float, float]:
    """One build as `invoke build` runs it; (wall, CPU) seconds."""
    args = pelican_args(
        output,
        settings=ROOT / "pelicanconf.py",
        content=content,
        overrides={"SITEURL": site, "FEED_DOMAIN": site},
    )
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run([*args, "-d", "-q"], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started, _children_cpu() - cpu


def logged(log: Path, start: int) -> list[tuple[str, int]]:
    """(path, body bytes) of the GETs nginx logged after byte ``start``."""
    with log.open("rb") as fp:
        fp.seek(start)
        text = fp.read().decode("utf-8", "replace")
    return [(m[1], int(m[3])) for m in _LOG_LINE.finditer(text)]


def browser_bytes(site: str, log: Path) -> dict[str, list[tuple[str, int]]]:
    """What Chromium downloads. A reader comes to /cerca/?q=<first> (the
    header's form leads there): the page's own HTML, CSS and script apart,
    everything under /pagefind/ is the first query's cost (Pagefind's script,
    worker, WebAssembly, the language's metadata and filters, the index chunk,
    the shown results' fragments). Then a second query in the same tab, and a
    rare word's first query in a fresh one."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    found: dict[str, list[tuple[str, int]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        for first, then in ((FIRST, SECOND), (RARE, None)):
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            errors: list[str] = []
            page.on(
                "response",
                lambda r, errors=errors: (
                    errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith(NO_FAVICON)
                    else None
                ),
            )
            page.on(
                "console",
                lambda m, errors=errors: (
                    errors.append(m.text)
                    if m.type in ("error", "warning")
                    and not (m.location or {}).get("url", "").endswith(NO_FAVICON)
                    else None
                ),
            )
            mark = log.stat().st_size
            page.goto(f"{site}/cerca/?q={quote(first)}")
            settled(page, first)
            rows = logged(log, mark)
            found.setdefault("page", [r for r in rows if not pagefind(r)])
            found[first] = [r for r in rows if pagefind(r)]
            if then:
                mark = log.stat().st_size
                page.fill("#search-q", then)
                page.press("#search-q", "Enter")
                settled(page, then)
                found[then] = logged(log, mark)
            assert not errors, errors
            context.close()
        browser.close()
    return found


def pagefind(row: tuple[str, int]) -> bool:
    return urlsplit(row[0]).path.startswith("/pagefind/")


def settled(page, query: str) -> None:
    """Wait until the results for ``query`` are shown and nothing loads."""
    page.wait_for_function(
        "q => document.querySelector('#search-status').textContent.includes(q)",
        arg=query,
        timeout=60000,
    )
    page.wait_for_load_state("networkidle")
    time.sleep(0.3)  # nginx writes a log line as each request ends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if chromium_path() is None:
        sys.exit("Chromium not found at /usr/bin/chromium")

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        content = make_site(tmp_path / "content", args.posts)
        output = tmp_path / "output"
        output.mkdir()
        with running_nginx(tmp_path, output, free_port()) as nginx:
            site = f"https://127.0.0.1:{nginx.local.https_port}"
            builds, indexes = [], []
            for _ in range(args.runs):
                builds.append(build(content, output, site))
                indexes.append(indexed(output))
            entry = read_entry(output / "pagefind")
            size = folder_bytes(output / "pagefind")
            pages = len(list(output.rglob("*.html")))
            log = nginx.prefix / "logs" / "access.log"
            got = browser_bytes(site, log)

    def total(rows: list[tuple[str, int]]) -> int:
        return sum(n for _, n in rows)

    built = statistics.median(w for w, _ in builds)
    index_wall = statistics.median(w for w, _ in indexes)
    built_cpu = statistics.median(c for _, c in builds)
    index_cpu = statistics.median(c for _, c in indexes)
    languages = ", ".join(f"{lang} {info['pages']}" for lang, info in entry.items())
    print(
        f"Search benchmark: {args.posts} posts, {pages} HTML files, "
        f"{sum(i['pages'] for i in entry.values())} searchable pages "
        f"({languages}); "
        f"{args.runs} runs, medians; {os.cpu_count()} cores"
    )
    print(f"{'':34}{'ours':>12}{'baseline':>12}{'ratio':>8}{'target':>10}")
    rows = [
        (
            "indexing vs build, wall (s)",
            f"{index_wall:.2f}",
            f"{built:.2f}",
            f"{index_wall / built:.3f}",
            f"< {TARGETS['index']:.2f}",
        ),
        (
            "indexing vs build, CPU (s)",
            f"{index_cpu:.2f}",
            f"{built_cpu:.2f}",
            f"{index_cpu / built_cpu:.3f}",
            f"< {TARGETS['index']:.2f}",
        ),
        ("index on disk (KB)", f"{size / 1024:,.0f}", "", "", ""),
        (
            "search page: HTML, CSS, JS (KB)",
            f"{total(got['page']) / 1024:.1f}",
            "",
            "",
            "",
        ),
        (
            f"first query {FIRST!r} (KB)",
            f"{total(got[FIRST]) / 1024:.1f}",
            "",
            "",
            f"< {TARGETS['first'] // 1024}",
        ),
        (
            f"second query {SECOND!r} (KB)",
            f"{total(got[SECOND]) / 1024:.1f}",
            "",
            "",
            f"< {TARGETS['second'] // 1024}",
        ),
        (
            f"first query, rare {RARE!r} (KB)",
            f"{total(got[RARE]) / 1024:.1f}",
            "",
            "",
            "",
        ),
    ]
    for label, *cells in rows:
        print(f"{label:34}{cells[0]:>12}{cells[1]:>12}{cells[2]:>8}{cells[3]:>10}")
    print("\nDownloads per query (path: bytes on the wire):")
    for what in (FIRST, SECOND):
        print(f"  {what}:")
        for path, n in got[what]:
            print(f"    {urlsplit(path).path:60} {n:>8,}")
    print(
        f"\nbuilds, wall and CPU (s): {[(round(w, 1), round(c, 1)) for w, c in builds]}"
        f"; indexing: {[(round(w, 1), round(c, 1)) for w, c in indexes]}; query "
        f"URL {site}/cerca/?q={quote(FIRST)}. The baseline is the development "
        "build (`invoke build`); a publish's build also compresses every file."
    )


if __name__ == "__main__":
    main()
