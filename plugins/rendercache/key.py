"""What a page is made of, as a digest: pure functions over the values a
template is handed (no Pelican signals, no files).

A page's key digests its template context value by value. Pelican's content
objects (articles, pages, static files) are digested apart, once each, by
their fields, every field but their body: a page names each content it can
reach by a stable token, and its key also covers the fields of every content
reached so far in the build. Bodies are not in the key at all: which bodies a
page reads is recorded while it renders (plugins/rendercache/glue.py), and
those are compared when the page is next looked up.

A value this module does not know how to digest faithfully raises
:class:`Unkeyable`; such a page is always rendered.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import hashlib
import re
import types
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

# Content attributes left out of a content's digest: its body (tracked by
# reads), the build's context and settings (every page's key has them), and
# what a plugin keeps on it as a memo of its other fields (multilang's
# alternates: the translations' languages and URLs), made while pages render.
CONTENT_SKIP = frozenset(
    {
        "_content",
        "_context",
        "settings",
        "_rendercache_body",
        "_piazza_alternates",
        # Pelican's note that a static file's URL was asked for (only
        # {attach} reads it, and the render cache is off with {attach}).
        "_output_location_referenced",
    }
)
OBJECT_SKIP = frozenset({"settings"})
# A category's, tag's or author's: its slug is digested as a property (it is
# made lazily), and Pelican's as_dict() copies name and slug into its fields.
WRAPPER_SKIP = frozenset({"settings", "_slug", "name", "slug"})


class Unkeyable(Exception):
    """A value whose digest could not be trusted; the page is rendered."""


def _h(*parts: bytes) -> bytes:
    return hashlib.blake2b(b"".join(parts), digest_size=16).digest()


# Values that can't change once made: their digests need no second look.
IMMUTABLE = (
    str,
    bytes,
    int,
    float,
    complex,
    type(None),
    datetime.date,
    datetime.time,
    datetime.timedelta,
    datetime.tzinfo,
    decimal.Decimal,
    PurePath,
    re.Pattern,
    enum.Enum,
    types.FunctionType,
    types.BuiltinFunctionType,
    type,
)


_NAMES: dict[type, bytes] = {}


def _name(obj: Any) -> bytes:
    kind = obj if isinstance(obj, type) else type(obj)
    name = _NAMES.get(kind)
    if name is None:
        name = _NAMES[kind] = f"{kind.__module__}.{kind.__qualname__}".encode()
    return name


_DICT = _h(b"d", _name(dict))


class Keyer:
    """Digests for one build. Digests of containers are remembered by
    identity (the object is kept alive, so its id is never reused);
    :meth:`verify` tells whether any of them changed since."""

    def __init__(
        self,
        is_content: Callable[[Any], bool],
        content_token: Callable[[Any], str],
        is_wrapper: Callable[[Any], bool],
    ) -> None:
        self._is_content = is_content
        self._content_token = content_token
        # id -> (content, token): a token is asked for often, and Pelican
        # works a relative source path out afresh each time
        self._tokens: dict[int, tuple[Any, str]] = {}
        self._is_wrapper = is_wrapper
        self._memo: dict[int, tuple[Any, bytes, bool]] = {}
        # type -> how its values are digested, and whether they can change
        self._kinds: dict[type, tuple[Callable[[Any], bytes], bool]] = {}
        # Mutable values whose remembered digest served again: verify() checks
        # them (one digested once served only the page it was digested for).
        self._reused: dict[int, tuple[Any, bytes, bool]] = {}
        self._unordered: dict[int, tuple[Any, bytes]] = {}
        self._active: set[int] = set()
        # Every content reached: token -> (object, digest of its fields).
        self.contents: dict[str, tuple[Any, bytes]] = {}
        self._pending: list[Any] = []
        self._contents_digest: tuple[int, bytes] = (-1, b"")
        # each content's fields as digested, for saying which changed
        self._fields: dict[int, dict[str, bytes]] = {}

    # ------------------------------------------------------------- values
    def digest(self, obj: Any) -> bytes:
        key = id(obj)
        hit = self._memo.get(key)
        if hit is not None and hit[0] is obj:
            if hit[2]:  # a value that could have changed since: verify it
                self._reused[key] = hit
            return hit[1]
        kind = type(obj)
        known = self._kinds.get(kind)
        if known is None:
            known = self._kinds[kind] = self._classify(kind)
        compute, mutable = known
        value = compute(obj)
        self._memo[key] = (obj, value, mutable)
        return value

    def checker(self) -> Keyer:
        """A fresh keyer for checking this one's digests again: it knows the
        digests of the immutable values already (they can't have changed, and
        this keyer keeps each alive, so its id is its own), so only what could
        change is digested again."""
        fresh = Keyer(self._is_content, self._content_token, self._is_wrapper)
        fresh._memo = {k: hit for k, hit in self._memo.items() if not hit[2]}
        # a token is made of the content's source path, one of its fields:
        # the check digests those again
        fresh._tokens = self._tokens
        return fresh

    def _token(self, content: Any) -> str:
        hit = self._tokens.get(id(content))
        if hit is not None and hit[0] is content:
            return hit[1]
        token = self._content_token(content)
        self._tokens[id(content)] = (content, token)
        return token

    def _classify(self, kind: type) -> tuple[Callable[[Any], bytes], bool]:
        """How values of ``kind`` are digested (once per type: the content
        and wrapper tests depend on the type alone), and whether one could
        change after it was digested."""
        mutable = not issubclass(kind, IMMUTABLE)
        name = _name(kind)
        if issubclass(kind, str):
            return (lambda o: _h(b"s", name, o.encode("utf-8", "surrogatepass"))), False
        if kind in (type(None), bool, int, float, complex):
            return (lambda o: _h(b"n", name, repr(o).encode())), False
        if issubclass(kind, bytes | bytearray):
            return (lambda o: _h(b"b", bytes(o))), mutable
        if issubclass(kind, datetime.date | datetime.time | datetime.timedelta):
            return (lambda o: _h(b"t", name, repr(o).encode())), mutable
        if issubclass(kind, datetime.tzinfo | decimal.Decimal | PurePath | re.Pattern):
            return (lambda o: _h(b"r", name, repr(o).encode())), mutable
        if issubclass(kind, enum.Enum):
            return (lambda o: _h(b"e", name, o.name.encode())), mutable
        return self._compute, mutable

    def _compute(self, obj: Any) -> bytes:
        kind = type(obj)
        if self._is_content(obj):
            token = self._token(obj)
            if token not in self.contents:
                self.contents[token] = (obj, b"")
                self._pending.append(obj)
            return _h(b"C", token.encode())
        if isinstance(
            obj,
            types.FunctionType
            | types.BuiltinFunctionType
            | types.MethodWrapperType
            | type,
        ):
            # Code is in the build's fingerprint (plugins, theme, versions).
            module = getattr(obj, "__module__", "") or ""
            name = getattr(obj, "__qualname__", "") or repr(obj)
            return _h(b"f", module.encode(), name.encode())
        key = id(obj)
        if key in self._active:
            raise Unkeyable(f"a cycle through a {kind.__qualname__}")
        self._active.add(key)
        try:
            if isinstance(obj, list | tuple):
                return _h(b"l", _name(obj), *map(self.digest, obj))
            if isinstance(obj, dict):
                return self._items(_h(b"d", _name(obj)), obj)
            if isinstance(obj, set | frozenset):
                return _h(b"S", _name(obj), *sorted(map(self.digest, obj)))
            if self._is_wrapper(obj):  # a category, tag or author
                fields = {k: v for k, v in vars(obj).items() if k not in WRAPPER_SKIP}
                return _h(
                    b"W",
                    _name(obj),
                    self.digest(obj.slug),
                    self._items(_DICT, fields),
                )
            if dataclasses.is_dataclass(obj):
                values = [
                    (f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)
                ]
                return _h(b"D", _name(obj), self.digest(values))
            if hasattr(obj, "__dict__") and not isinstance(
                obj, types.ModuleType | types.MethodType
            ):
                fields = {k: v for k, v in vars(obj).items() if k not in OBJECT_SKIP}
                return _h(b"O", _name(obj), self._items(_DICT, fields))
        finally:
            self._active.discard(key)
        raise Unkeyable(f"a value of type {kind.__module__}.{kind.__qualname__}")

    def _items(self, head: bytes, mapping: dict[Any, Any]) -> bytes:
        """A dict's digest (``head`` names its type); a dict made here to be
        digested is not remembered (it is gone once digested)."""
        digest = self.digest
        parts = [head]
        for k, v in mapping.items():
            parts += (digest(k), digest(v))
        return _h(*parts)

    def unordered(self, mapping: dict[Any, Any] | list[Any]) -> bytes:
        """A dict's or list's digest whatever the order of its items: for
        Pelican's lookup tables (``generated_content``, ``static_content``) and
        list of static files, filled in an order that changes from run to run
        and never shown in it."""
        key = id(mapping)
        hit = self._unordered.get(key)
        if hit is not None and hit[0] is mapping:
            return hit[1]
        items = mapping.items() if isinstance(mapping, dict) else enumerate(mapping)
        if isinstance(mapping, dict):
            pairs = sorted(_h(self.digest(k), self.digest(v)) for k, v in items)
        else:
            pairs = sorted(self.digest(v) for _, v in items)
        value = _h(b"u", _name(mapping), *pairs)
        self._unordered[key] = (mapping, value)
        return value

    # ------------------------------------------------------------ contents
    def content_fields(self, content: Any) -> bytes:
        fields = self._field_digests(content)
        self._fields[id(content)] = fields
        return _h(b"F", _name(content), *fields.values())

    def _field_digests(self, content: Any) -> dict[str, bytes]:
        return {
            k: _h(k.encode(), self.digest(v))
            for k, v in vars(content).items()
            if k not in CONTENT_SKIP
        }

    def contents_digest(self) -> bytes:
        """The fields of every content reached so far (and of what they reach)."""
        while self._pending:
            content = self._pending.pop()
            token = self._token(content)
            self.contents[token] = (content, self.content_fields(content))
        count = len(self.contents)
        if self._contents_digest[0] != count:
            parts = sorted(
                token.encode() + d for token, (_, d) in self.contents.items()
            )
            self._contents_digest = (count, _h(b"A", *parts))
        return self._contents_digest[1]

    # --------------------------------------------------------------- check
    def verify(self) -> list[str]:
        """Values whose digest changed after it was taken (empty: none)."""
        fresh = self.checker()
        changed = []
        for obj, value, _ in list(self._reused.values()):
            try:
                if fresh.digest(obj) != value:
                    changed.append(_name(obj).decode())
            except Unkeyable:
                changed.append(_name(obj).decode())
        for mapping, value in list(self._unordered.values()):
            if fresh.unordered(mapping) != value:
                changed.append(_name(mapping).decode())
        for token, (content, value) in list(self.contents.items()):
            if value and fresh.content_fields(content) != value:
                before = self._fields.get(id(content), {})
                after = fresh._field_digests(content)
                names = sorted(
                    k
                    for k in before.keys() | after.keys()
                    if before.get(k) != after.get(k)
                )
                changed.append(f"{token} ({', '.join(names) or 'their order'})")
        return changed
