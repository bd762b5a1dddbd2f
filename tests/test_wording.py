"""wording: a count always agrees with its noun."""

from __future__ import annotations

from piazza.check import CheckReport, Finding, format_report
from wording import counted


def test_counted_nouns_agree_with_their_number():
    assert counted(1, "error") == "1 error"
    assert counted(0, "error") == "0 errors"
    assert counted(2, "entry", "entries") == "2 entries"
    assert counted(1200, "page") == "1,200 pages"


def test_the_check_report_counts_in_the_singular_when_it_is_one():
    report = CheckReport(
        errors=[Finding("broken-link", "a/index.html", "x")], pages=1, files=1
    )
    assert format_report(report).splitlines()[0] == (
        "check FAILED: 1 page, 1 file, 1 error, 0 warnings"
    )
