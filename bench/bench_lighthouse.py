"""Lighthouse on the pages readers land on, with the issue's thresholds.

Builds the sample site with the production settings (publishconf.py, as
`invoke publish` does) for a loopback https origin, serves it with nginx
running deploy/nginx.conf, with a real Isso and ideas service behind it
(tests/lighthouse_stack.py), and runs Lighthouse from npm with Debian's
Chromium (mobile, simulated throttling) on home, an article, community,
archive and the English home page and article, ``--runs`` times each. The
baseline, measured in the same run on the same nginx, is a bare page (a
title and a paragraph, no CSS, no script): the performance score this
machine gives a page that costs nothing, so a low score on a busy machine
reads as the machine, not the site.

Prints each page's scores (performance: the median run, and every run's),
its HTML + CSS + JS gzipped as nginx sends them, then every failing audit of
a page under a threshold (which element, which link), and exits 1 if any
page is under one: 100 in accessibility, best practices and SEO, 95 in
performance.

    python bench/bench_lighthouse.py [--runs 3] [--pages home,article]
    [--reports DIR]   # keep every run's JSON report there
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from lighthouse_stack import (  # noqa: E402
    EXTRA_PAGES,
    PAGES,
    THRESHOLDS,
    audit_page,
    below_thresholds,
    explain,
    gzipped_weight,
    missing_tools,
    production_stack,
)

BASELINE = "/bench-baseline/"
BASELINE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Baseline</title>
<meta name="description" content="A bare page: what this machine scores for nothing.">
</head>
<body><p>A bare page.</p></body>
</html>
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per page")
    parser.add_argument(
        "--pages",
        default=",".join([*PAGES, *EXTRA_PAGES]),
        help="comma-separated, of: " + ", ".join([*PAGES, *EXTRA_PAGES]),
    )
    parser.add_argument("--reports", type=Path, help="keep the JSON reports here")
    args = parser.parse_args()
    every = {**PAGES, **EXTRA_PAGES}
    names = [n.strip() for n in args.pages.split(",") if n.strip()]
    unknown = [n for n in names if n not in every]
    if unknown:
        parser.error(f"unknown page(s) {unknown}: choose among {list(every)}")
    missing = missing_tools()
    if missing:
        print(f"bench_lighthouse: {missing}", file=sys.stderr)
        return 2

    print(
        f"machine: {os.cpu_count()} cores, load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
        + f"; Lighthouse mobile, simulated throttling, {args.runs} runs a page"
    )
    with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as tmp:
        base = Path(tmp)
        reports_dir = args.reports or base / "reports"
        started = time.monotonic()
        with production_stack(base) as site:
            print(f"built and served in {time.monotonic() - started:.0f} s")
            (site.output / BASELINE.strip("/")).mkdir()
            (site.output / BASELINE.strip("/") / "index.html").write_text(
                BASELINE_PAGE, encoding="utf-8"
            )
            started = time.monotonic()
            baseline = audit_page(
                site.url(BASELINE),
                reports_dir / "baseline",
                runs=args.runs,
                always=True,
            )
            results = {
                name: audit_page(
                    site.url(every[name]),
                    reports_dir / name,
                    runs=args.runs,
                    always=True,
                )
                for name in names
            }
            weights = {
                name: sum(gzipped_weight(site, every[name]).values()) for name in names
            }
            elapsed = time.monotonic() - started
    base_perf = baseline.scores["performance"]
    print()
    print(
        f"{'page':<12} {'perf':>5} {'runs':<14} {'a11y':>5} {'best':>5} {'seo':>5}"
        f" {'base perf':>9} {'ratio':>6} {'HTML+CSS+JS gz':>15}"
    )
    target = (
        f"{'target':<12} {THRESHOLDS['performance']:>5} {'':<14}"
        f" {THRESHOLDS['accessibility']:>5} {THRESHOLDS['best-practices']:>5}"
        f" {THRESHOLDS['seo']:>5}"
    )
    print(target)
    for name in names:
        report = results[name]
        s = report.scores
        runs = ",".join(str(r) for r in report.performance_runs)
        ratio = s["performance"] / base_perf if base_perf > 0 else float("nan")
        print(
            f"{name:<12} {s['performance']:>5} {runs:<14} {s['accessibility']:>5}"
            f" {s['best-practices']:>5} {s['seo']:>5} {base_perf:>9} {ratio:>6.2f}"
            f" {weights[name] / 1024:>12.1f} KB"
        )
    spread = baseline.performance_runs
    print(
        f"baseline (a bare page) performance runs: {list(spread)}, median "
        f"{statistics.median(spread):.0f}; Lighthouse's CPU benchmark "
        f"{baseline.benchmark_index:.0f} (it expects 1000 or more); "
        f"{len(names) * args.runs + args.runs} Lighthouse runs in {elapsed:.0f} s"
    )
    failing = {name: r for name, r in results.items() if below_thresholds(r)}
    for name, report in failing.items():
        print(f"\n{name} is under a threshold:\n{explain(report)}")
    if failing:
        print(f"\nFAIL: {', '.join(failing)} under the thresholds {THRESHOLDS}")
        return 1
    print(f"\nOK: every page reaches {THRESHOLDS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
