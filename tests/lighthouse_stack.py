"""The site as readers get it, and Lighthouse run on it: shared by
tests/test_lighthouse.py and bench/bench_lighthouse.py.

    with production_stack(tmp_path) as site:
        report = audit_page(site.url(PAGES["home"]), tmp_path / "home")
        assert not below_thresholds(report), explain(report)

``production_stack`` builds the sample site with the production settings
(publishconf.py, as `invoke publish` builds it, with its pre-compressed
siblings) for a loopback https origin, and serves it with nginx running
deploy/nginx.conf (its headers, CSP, compression, cache lifetimes), with a
real Isso and a real ideas service behind it, so every request a page makes
is answered as in production. ``run_lighthouse`` runs Lighthouse from npm
(node_modules/.bin/lighthouse, pinned in package.json) with Debian's
Chromium: its default mobile emulation and simulated throttling, the four
categories the issue names.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from conftest import CHROMIUM_ARGS, ROOT, build_site, chromium_path, free_port
from ideas_server import running_ideas
from isso_server import running_isso
from lxml import html
from nginx_server import RunningNginx, running_nginx

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# The pages the quality gates hold for (issue #13): home, an article (the
# one with an illustration), community, archive, and the English home page
# (a listing of English links: the English article adds little but time;
# bench/bench_lighthouse.py measures it too, with EXTRA_PAGES).
PAGES = {
    "home": "/",
    "article": "/2025/sebino-800-dieci-anni/",
    "community": "/comunita/",
    "archive": "/archivio/",
    "home-en": "/en/",
}
EXTRA_PAGES = {"article-en": "/en/2025/sebino-800-dieci-anni/"}

# Lighthouse's scores (0-100, as its report rounds them) the pages must reach.
THRESHOLDS = {
    "performance": 95,
    "accessibility": 100,
    "best-practices": 100,
    "seo": 100,
}

# The browser tests' flags; nginx's certificate is made for 127.0.0.1 by the
# test and not trusted.
CHROME_FLAGS = ("--headless=new", *CHROMIUM_ARGS, "--ignore-certificate-errors")


def missing_tools() -> str | None:
    """Why Lighthouse can't run here (None: it can)."""
    if shutil.which("node") is None:
        return "Node.js is not installed (apt-get install nodejs npm)"
    if not LIGHTHOUSE.exists():
        return f"{LIGHTHOUSE} is missing (run `npm ci`)"
    if chromium_path() is None:
        return "Chromium not found at /usr/bin/chromium (apt-get install chromium)"
    return None


@dataclass(frozen=True)
class Served:
    site: str  # https://127.0.0.1:<port>, no trailing slash
    output: Path
    nginx: RunningNginx

    def url(self, path: str) -> str:
        return self.site + path


@contextlib.contextmanager
def production_stack(base: Path) -> Iterator[Served]:
    """The sample site built with publishconf.py for nginx's origin, served
    by nginx (deploy/nginx.conf) with Isso and the ideas service behind it."""
    output = base / "output"
    output.mkdir(parents=True)
    isso_port = free_port()
    with contextlib.ExitStack() as running:
        ideas = running.enter_context(running_ideas(base / "ideas"))
        nginx = running.enter_context(
            running_nginx(base, output, isso_port, ideas_port=_port(ideas.url))
        )
        site = f"https://127.0.0.1:{nginx.local.https_port}"
        isso = running.enter_context(running_isso(base / "isso", site, port=isso_port))
        build_site(
            output,
            SITEURL=site,
            FEED_DOMAIN=site,
            ISSO_API_URL=isso.url,
            IDEAS_API_URL=ideas.url,
        )
        yield Served(site, output, nginx)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def gzipped_weight(served: Served, path: str) -> dict[str, int]:
    """Bytes nginx sends (gzip accepted) for the page at ``path`` and each
    same-origin stylesheet and script it references, by URL path."""
    gzip = {"Accept-Encoding": "gzip"}
    status, _, body = served.nginx.get(path, gzip)
    assert status == 200, f"{path}: {status}"
    weights = {path: len(body)}
    _, _, plain = served.nginx.get(path)
    page = html.fromstring(plain, base_url=served.url(path))
    links = page.xpath(
        "//link[contains(concat(' ', normalize-space(@rel), ' '), ' stylesheet ')]"
        "/@href | //script/@src"
        " | //link[@rel='preload' or @rel='modulepreload'][@as='script' or"
        " @as='style']/@href"
    )
    for link in links:
        url = urlsplit(urljoin(served.url(path), link))
        if f"{url.scheme}://{url.netloc}" != served.site:
            continue  # never: the CSP allows only this origin
        target = url.path + (f"?{url.query}" if url.query else "")
        status, _, asset = served.nginx.get(target, gzip)
        assert status == 200, f"{path} references {target}: {status}"
        weights[target] = len(asset)
    return weights


# --------------------------------------------------------------- Lighthouse


@dataclass(frozen=True)
class Audit:
    id: str
    title: str
    score: float | None
    display: str
    details: tuple[str, ...]  # one line per item: which element, which link


@dataclass(frozen=True)
class Report:
    url: str
    scores: dict[str, int]  # category id -> 0..100
    failing: dict[str, tuple[Audit, ...]]  # category id -> its failing audits
    runtime_warnings: tuple[str, ...]
    benchmark_index: float = 0  # Lighthouse's CPU benchmark of this machine
    performance_runs: tuple[int, ...] = ()  # every run's score, when several


def audit_page(
    url: str, folder: Path, *, runs: int = 5, always: bool = False
) -> Report:
    """Lighthouse on ``url``; when its performance is under the threshold
    (or ``always``), ``runs`` runs in all and the median one (Lighthouse's
    own advice on variability: the performance score moves with the
    machine's load, the other categories don't). Reports are kept in
    ``folder`` as run-N.json."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("run-*.json"):
        stale.unlink()
    reports = [run_lighthouse(url, folder / "run-1.json")]
    if always or reports[0].scores["performance"] < THRESHOLDS["performance"]:
        for n in range(2, runs + 1):
            reports.append(run_lighthouse(url, folder / f"run-{n}.json"))
    return median_run(reports)


def median_run(reports: list[Report]) -> Report:
    """The run with the median performance score, knowing the others'."""
    ranked = sorted(reports, key=lambda r: r.scores["performance"])
    return replace(
        ranked[(len(ranked) - 1) // 2],
        performance_runs=tuple(r.scores["performance"] for r in reports),
    )


def run_lighthouse(url: str, json_path: Path, *, timeout: float = 240) -> Report:
    """Lighthouse on ``url`` (mobile, simulated throttling), its JSON
    report kept at ``json_path``; raises RuntimeError if it could not run."""
    env = {**os.environ, "CHROME_PATH": chromium_path() or "/usr/bin/chromium"}
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={json_path}",
        "--only-categories=" + ",".join(THRESHOLDS),
        "--chrome-flags=" + " ".join(CHROME_FLAGS),
        "--disable-full-page-screenshot",
        "--quiet",
    ]
    proc = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if proc.returncode != 0 or not json_path.exists():
        raise RuntimeError(
            f"Lighthouse failed on {url} (exit {proc.returncode}):\n"
            f"{proc.stderr[-3000:]}"
        )
    return parse_report(json.loads(json_path.read_text(encoding="utf-8")))


def parse_report(lhr: dict) -> Report:
    """Scores and failing audits from Lighthouse's JSON result (an "LHR")."""
    if lhr.get("runtimeError"):
        error = lhr["runtimeError"]
        raise RuntimeError(f"Lighthouse: {error.get('code')}: {error.get('message')}")
    scores: dict[str, int] = {}
    failing: dict[str, tuple[Audit, ...]] = {}
    for cid, category in lhr["categories"].items():
        score = category.get("score")
        scores[cid] = -1 if score is None else round(score * 100)
        audits = []
        for ref in category["auditRefs"]:
            audit = lhr["audits"][ref["id"]]
            if not _fails(audit, ref, cid):
                continue
            audits.append(
                Audit(
                    audit["id"],
                    audit.get("title", ""),
                    audit.get("score"),
                    audit.get("displayValue", "") or audit.get("errorMessage", ""),
                    tuple(_detail_lines(audit.get("details") or {})),
                )
            )
        failing[cid] = tuple(audits)
    return Report(
        lhr.get("finalDisplayedUrl") or lhr.get("requestedUrl", ""),
        scores,
        failing,
        tuple(w if isinstance(w, str) else str(w) for w in lhr.get("runWarnings", [])),
        (lhr.get("environment") or {}).get("benchmarkIndex") or 0,
    )


def _fails(audit: dict, ref: dict, category: str) -> bool:
    """An audit that costs its category points (or could not run)."""
    mode = audit.get("scoreDisplayMode")
    if mode == "error":
        return True
    if category == "performance" and audit["id"] == "long-tasks":
        return bool((audit.get("details") or {}).get("items"))
    if mode in ("notApplicable", "manual", "informative") or audit.get("score") is None:
        return False
    if category == "performance":
        # Metrics carry the weight; the audits that would save time on one
        # say why it is slow, and the long tasks what blocked the page.
        saves = any(v for v in (audit.get("metricSavings") or {}).values())
        return (ref.get("weight", 0) > 0 or saves) and audit["score"] < 0.9
    return ref.get("weight", 0) > 0 and audit["score"] < 1


UNITS = {"ms": " ms", "timespanMs": " ms", "bytes": " B"}


def _detail_lines(details: dict, limit: int = 15) -> Iterator[str]:
    items = details.get("items") or []
    columns = details.get("headings") or []
    headings = {
        h["key"]: f"{h.get('label') or ''} %s{UNITS.get(h.get('valueType'), '')}"
        for h in columns
        if h.get("key")
    }
    for item in items[:limit]:
        if not isinstance(item, dict):
            continue
        keys = list(headings) or list(item)
        parts = [
            # A number says little without its column's name ("Duration").
            headings[key].replace("%s", _value(item[key]))
            if isinstance(item[key], int | float) and headings.get(key)
            else _value(item[key])
            for key in keys
            if key in item
        ]
        line = " | ".join(p for p in parts if p)
        if line:
            yield line
        sub = item.get("subItems") or {}
        for subitem in (sub.get("items") or [])[:5]:
            text = " | ".join(p for p in (_value(v) for v in subitem.values()) if p)
            if text:
                yield "    " + text
    if len(items) > limit:
        yield f"... and {len(items) - limit} more"


def _value(value) -> str:
    if isinstance(value, dict):
        kind = value.get("type")
        if kind == "node":
            snippet = value.get("snippet", "")
            where = value.get("selector", "")
            label = value.get("nodeLabel", "")
            explanation = value.get("explanation", "")
            text = f"{snippet} at {where}" + (f" ({label})" if label else "")
            return text + (f"\n      {explanation}" if explanation else "")
        if kind == "source-location":
            return f"{value.get('url')}:{value.get('line')}:{value.get('column')}"
        if kind in ("url", "code", "text"):
            return str(value.get("value", ""))
        return json.dumps(value, ensure_ascii=False)[:200]
    if isinstance(value, float):
        return f"{value:.0f}"
    if value is None:
        return ""
    return str(value)


def below_thresholds(
    report: Report, categories: Iterable[str] = THRESHOLDS
) -> dict[str, int]:
    """The ``categories`` under their threshold, with their scores."""
    return {
        cid: report.scores.get(cid, -1)
        for cid in categories
        if report.scores.get(cid, -1) < THRESHOLDS[cid]
    }


def explain(report: Report, only_below: bool = True) -> str:
    """The scores and every failing audit, with which element or link; for
    performance, how fast Lighthouse found this machine (its CPU benchmark,
    under 1000 it warns, and the load average): the score is a timing."""
    lines = [
        f"{report.url}: "
        + ", ".join(f"{cid} {report.scores.get(cid)}" for cid in THRESHOLDS)
        + (
            f" (performance: median of {list(report.performance_runs)})"
            if len(report.performance_runs) > 1
            else ""
        )
    ]
    below = below_thresholds(report)
    for cid in THRESHOLDS:
        if only_below and cid not in below:
            continue
        for audit in report.failing.get(cid, ()):
            score = "error" if audit.score is None else f"{audit.score:.2f}"
            lines.append(
                f"  [{cid}] {audit.id} (score {score}): {audit.title}"
                + (f" - {audit.display}" if audit.display else "")
            )
            lines += [f"      {d}" for d in audit.details]
    if "performance" in below or not only_below:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        lines.append(
            f"  this machine: Lighthouse's CPU benchmark {report.benchmark_index:.0f}"
            f" (it expects 1000 or more), {os.cpu_count()} cores, load average {load}"
        )
    lines += [
        f"  warning: {w}" for w in report.runtime_warnings if "slower CPU" not in w
    ]
    return "\n".join(lines)
