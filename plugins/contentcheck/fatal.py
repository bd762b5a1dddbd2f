"""A readable ending for a build stopped by ``--fatal warnings``.

With ``--fatal``, Pelican turns the first warning into a RuntimeError and then
logs it with a full traceback, which buries the one line an editor needs (the
warning itself, already shown above). This filter keeps that line and drops the
traceback for that case only; real crashes keep theirs.
"""

from __future__ import annotations

import logging
import sys

FATAL_TEXT = "Warning or error encountered"


class FatalStopFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, RuntimeError) and str(exc) == FATAL_TEXT:
            record.exc_info = None
            record.exc_text = None
            record.msg = (
                "Build stopped by the problem above: warnings are fatal, so nothing "
                "half-broken is published. Fix it and build again."
            )
            record.args = ()
        elif getattr(exc, "is_user_error", False):
            # A plugin's error about the editor's input (e.g. a malformed
            # feeds.toml) already names the file and line: no traceback.
            record.exc_info = None
            record.exc_text = None
        return True


class ReadErrorFilter(logging.Filter):
    """Say *why* a file could not be read.

    Pelican logs "Could not process FILE" and shows the reason only with
    DEBUG on; the reason (a date it can't parse, a broken metadata line) is
    what the editor needs, so it is appended to the message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = sys.exc_info()[1]
        if record.msg == "Could not process %s" and exc is not None:
            record.msg = "Could not process %s: %s"
            record.args = (*record.args, f"{exc.__class__.__name__}: {exc}")
        return True


class TranslationGroupFilter(logging.Filter):
    """Leave translations to our own check, which sees every status at once.

    Pelican pairs translations within one status: an Italian post published
    with its English translation still a draft leaves that draft alone among
    the drafts, and Pelican warns (fatally) that "all items are translations".
    That is a normal step of translating, not a mistake; a translation that
    really has no original is reported by ``rules.check_translations``, naming
    the files.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('All items ("%s")')


def _install(logger_name: str, filter_class: type[logging.Filter]) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, filter_class) for f in logger.filters):
        logger.addFilter(filter_class())


def install() -> None:
    _install("pelican", FatalStopFilter)
    _install("pelican.generators", ReadErrorFilter)
    _install("pelican.utils", TranslationGroupFilter)
