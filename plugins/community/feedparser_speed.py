"""Two of feedparser's hot spots, made cheap without changing what it returns.

Profiling a cold `invoke aggregate` (bench/bench_aggregate.py under cProfile)
puts four fifths of the CPU in feedparser, and a fifth of that in two places
that redo the same work for every element of a feed:

- resolving ``xml:base``: every start tag joins the current base with the
  element's (``make_safe_absolute_uri``), and every link or id is joined with
  it (``_urljoin``): tens of thousands of ``urllib.parse.urljoin`` calls for a
  few distinct pairs of strings. Both are pure functions of their string
  arguments (and of feedparser's constant list of acceptable schemes), so
  their results are memoised, per process, in a bounded cache;
- the parameters of the current content (``type``, ``language``, ``base``,
  ``base64``, ``mode``): read for every element and every piece of text
  through FeedParserDict's key aliasing (``date`` for ``updated``...), which
  none of these keys has; they are held in a :class:`_ContentParams` that
  reads them as a plain dict does, and copied (``copy.deepcopy`` for every
  title, summary and content) shallowly, as their values are strings,
  numbers or None; anything else still goes through ``copy.deepcopy``.

- reading and writing keys of FeedParserDict (every entry, link and content
  is one): every read first compares the key with five special names and
  looks it up in ``keymap`` (``date`` for ``updated``...), tens of reads per
  entry. A key that is neither special nor an alias reads and writes as in a
  plain dict: those go straight there; the others take feedparser's own way.

feedparser is pinned (requirements.txt); :func:`install` checks the names it
replaces are still there and otherwise leaves feedparser alone.
tests/test_community_parse_speed.py parses every fixture with and without
these changes and requires identical results, nested ``xml:base`` included.
"""

from __future__ import annotations

import copy
import functools
from types import SimpleNamespace
from typing import Any

import feedparser.mixin
import feedparser.namespaces._base
import feedparser.urls
from feedparser.util import FeedParserDict

# Distinct (base, reference) pairs a process remembers; a feed has a few.
CACHE_SIZE = 4096
_SCALARS = (str, int, float, bool, type(None))

_original: dict[str, Any] = {}


class _ContentParams(FeedParserDict):
    """A content's parameters, read without FeedParserDict's aliasing (no key
    of theirs has an alias: see FeedParserDict.keymap)."""

    __slots__ = ()
    get = dict.get
    __getitem__ = dict.__getitem__
    __contains__ = dict.__contains__


def _shallow_when_flat(value: Any, memo: Any = None) -> Any:
    """``copy.deepcopy``, cheaper for a FeedParserDict of plain values; the
    copy is a FeedParserDict, as feedparser's own would be."""
    if isinstance(value, FeedParserDict) and all(
        isinstance(v, _SCALARS) for v in value.values()
    ):
        return FeedParserDict(value)
    return copy.deepcopy(value, memo)


# Keys FeedParserDict gives a meaning of its own (its ``__getitem__``): the
# special names and the aliases. Every other key is a plain dict key.
_SPECIAL_KEYS = frozenset(
    {"category", "enclosures", "license", "updated", "updated_parsed"}
) | frozenset(FeedParserDict.keymap)
_DICT_METHODS = ("__getitem__", "__setitem__", "get", "__contains__")


def _fast_dict_methods(original: dict[str, Any]) -> dict[str, Any]:
    """FeedParserDict's item access with a plain-dict fast path."""
    getitem, setitem = original["__getitem__"], original["__setitem__"]
    contains = original["__contains__"]

    def __getitem__(self, key):
        if key in _SPECIAL_KEYS:
            return getitem(self, key)
        return dict.__getitem__(self, key)

    def __setitem__(self, key, value):
        if key in _SPECIAL_KEYS:
            return setitem(self, key, value)
        return dict.__setitem__(self, key, value)

    def get(self, key, default=None):
        if key in _SPECIAL_KEYS:
            try:
                return getitem(self, key)
            except KeyError:
                return default
        return dict.get(self, key, default)

    def __contains__(self, key):
        if key in _SPECIAL_KEYS:
            return contains(self, key)
        return dict.__contains__(self, key)

    return {
        "__getitem__": __getitem__,
        "__setitem__": __setitem__,
        "get": get,
        "__contains__": __contains__,
    }


def _as_content_params(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        self.contentparams = _ContentParams(self.contentparams)
        return result

    wrapper.wrapped_by_piazza = method
    return wrapper


def install() -> bool:
    """Put the memoised URL joins and the cheaper copy in place (once).
    Returns whether feedparser had the expected names."""
    if _original:
        return True
    mixin, urls, base = feedparser.mixin, feedparser.urls, feedparser.namespaces._base
    if not (
        callable(getattr(urls, "_urljoin", None))
        and callable(getattr(urls, "make_safe_absolute_uri", None))
        and getattr(mixin, "copy", None) is copy
        and getattr(mixin, "_urljoin", None) is urls._urljoin
        and getattr(mixin, "make_safe_absolute_uri", None)
        is urls.make_safe_absolute_uri
        and callable(getattr(mixin, "_FeedParserMixin", None))
        and callable(getattr(mixin._FeedParserMixin, "push_content", None))
        and not {"type", "language", "base", "base64", "mode", "value"}
        & set(FeedParserDict.keymap)
        and all(name in vars(FeedParserDict) for name in _DICT_METHODS)
    ):
        return False
    _original.update(
        _urljoin=urls._urljoin, make_safe_absolute_uri=urls.make_safe_absolute_uri
    )
    join = functools.lru_cache(maxsize=CACHE_SIZE)(urls._urljoin)
    safe = functools.lru_cache(maxsize=CACHE_SIZE)(urls.make_safe_absolute_uri)
    # urls.make_safe_absolute_uri calls urls._urljoin: both are replaced there.
    urls._urljoin = mixin._urljoin = join
    urls.make_safe_absolute_uri = mixin.make_safe_absolute_uri = safe
    if (
        getattr(base, "make_safe_absolute_uri", None)
        is _original["make_safe_absolute_uri"]
    ):
        base.make_safe_absolute_uri = safe
    mixin.copy = SimpleNamespace(deepcopy=_shallow_when_flat)
    dict_methods = {name: vars(FeedParserDict)[name] for name in _DICT_METHODS}
    _original["dict"] = dict_methods
    for name, method in _fast_dict_methods(dict_methods).items():
        setattr(FeedParserDict, name, method)
    parser = mixin._FeedParserMixin
    for name in ("__init__", "push_content"):
        setattr(parser, name, _as_content_params(getattr(parser, name)))
    return True


def uninstall() -> None:
    """feedparser as it came (for tests comparing the two)."""
    if not _original:
        return
    mixin, urls, base = feedparser.mixin, feedparser.urls, feedparser.namespaces._base
    urls._urljoin = mixin._urljoin = _original["_urljoin"]
    safe = _original["make_safe_absolute_uri"]
    urls.make_safe_absolute_uri = mixin.make_safe_absolute_uri = safe
    if hasattr(base.make_safe_absolute_uri, "cache_info"):
        base.make_safe_absolute_uri = safe
    mixin.copy = copy
    for name, method in _original["dict"].items():
        setattr(FeedParserDict, name, method)
    parser = mixin._FeedParserMixin
    for name in ("__init__", "push_content"):
        setattr(parser, name, getattr(parser, name).wrapped_by_piazza)
    _original.clear()
