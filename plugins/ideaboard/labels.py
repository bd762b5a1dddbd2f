"""The words for each status, as gettext message ids.

Templates show them through ``_()`` in the page's language; the Atom feed
through the same catalog. ``N_`` only marks them for ``pybabel extract``
(babel.cfg lists this file).
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message


STATUS_LABELS: dict[str, str] = {
    "proposed": N_("Proposed"),
    "under-review": N_("Under review"),
    "planned": N_("Planned"),
    "in-progress": N_("In progress"),
    "done": N_("Done"),
    "declined": N_("Declined"),
    "duplicate": N_("Duplicate"),
}
