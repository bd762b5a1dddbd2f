"""The leader's report: what readers asked, wanted and wrote, and what we did.

``invoke report`` reads three sources, each through its own edge (read-only,
bounded, with clear errors), hands plain values to pure analysis modules and
renders one self-contained HTML file:

    isso.py        Isso's SQLite database (comments, threads, staff proof)
    sources.py     the community cache and the ideas snapshot
    asking.py      the rule: does a comment ask or request something?
    replies.py     voices waiting for an answer; reply rate and time, by month
    themes.py      what people ask for: keyphrases (YAKE) and lemmas (simplemma)
    ideas.py       the ideas board's figures (shared with the public page)
    community.py   posts per source and week, silent sources, discussed posts
    render.py      HTML (Jinja2, inline CSS and SVG) and the plain-text summary
    mail.py        the digest by SMTP (settings from REPORT_SMTP_*)
    run.py         the whole run, with what each source lacked

No sentiment model: none that runs offline ships Italian weights. Votes,
likes and support are the explicit signal.
"""


class ReportError(Exception):
    """A source or setting the report cannot use; the message says which and
    what to do."""


def _plugins_importable() -> None:
    """The report reads through the plugins' edges (community cache, ideas
    snapshot, the public page's figures): they import as top-level packages."""
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    plugins = str(Path(__file__).resolve().parents[2] / "plugins")
    if plugins not in sys.path:
        sys.path.insert(0, plugins)


_plugins_importable()
