"""Releases on S3-compatible object storage (AWS S3, MinIO, Garage, R2...).

``--target s3://bucket/prefix`` lays a bucket out so that a republish sends
only what changed, with neither a send nor a copy for the rest::

    prefix/bases/20260522T101530Z/...         a whole site (every file)
    prefix/bases/20260522T101530Z.sha256      its checksums (written last)
    prefix/releases/20260601T090000Z/...      what differs from its base
    prefix/releases/20260601T090000Z.sha256   checksums of the whole release
    prefix/releases/20260601T090000Z.json     manifest, naming the base (last)
    prefix/current.json                       the pointer: {"release", "base"}
    prefix/.piazza-publish.lock               held while a publish runs

A file of release R is ``releases/R/<path>`` if R has it there, else
``bases/<R's base>/<path>``: the delivery side (deploy/nginx-s3.conf, or a
CDN's edge function) looks in that order, for the release and the base the
pointer names, so every file a reader gets comes from one release. A release
is written beside its base: the files whose bytes differ from the base's
(copied server-side from the live release when they are unchanged since, sent
otherwise). A release that removes a file of its base (an overlay can't hide
one), or whose overlay would hold more than ``rebase_above`` of its files,
gets a base of its own instead: every file under ``bases/<its name>/``,
copied server-side from the live release when unchanged (CopyObject: no bytes
sent), and an empty overlay. A base stays while a kept release uses it.
Releases published before bases existed are whole under ``releases/R/``;
they are served and rolled back to as they are (the lookup finds everything
there).

A release is complete when its manifest exists; files under a release or a
base that no complete release names are an upload that broke off, removed by
the next publish.

The switch is one write of ``current.json`` (the names in its JSON body and
in its ``x-amz-meta-release`` and ``x-amz-meta-base`` headers), conditional
on the pointer being the one read before the upload (``If-Match`` its ETag,
``If-None-Match: *`` for the first): of two publishers, one switches, the
other is told so.

The client is boto3: credentials, profiles, regions, retries and the
conditional headers come from the AWS SDK, configured as every AWS tool is
(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION,
AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import os
import posixpath
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from piazza.errors import PublishError
from piazza.release import (
    _NAME,
    RELEASES,
    Build,
    Manifest,
    Release,
    Transfer,
    parse_checksums,
    sort_key,
)

POINTER = "current.json"
BASES = "bases"
NO_BASE = "-"  # the pointer's base for a release that is whole (no base)
# A release gets a base of its own when its overlay would hold more than this
# fraction of its files (0: every release is whole, its unchanged files copied).
DEFAULT_REBASE_ABOVE = 0.2
ENV_REBASE_ABOVE = "PIAZZA_S3_REBASE_ABOVE"
LOCK = ".piazza-publish.lock"
STALE_LOCK_SECONDS = 3600
ENV_MAX_DELETE = "PIAZZA_S3_MAX_DELETE"
DEFAULT_MAX_DELETE = 0.10  # of the live release's files
_SPEC = re.compile(
    r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$"
)
_WORKERS = 16

# Cache lifetimes of objects, as deploy/nginx.conf gives them by URL (a CDN
# reading the bucket directly honours these): a hash in the name is forever,
# theme files and images a day, HTML, feeds and the rest five minutes.
IMMUTABLE = "public, max-age=31536000, immutable"
DAY = "public, max-age=86400"
SHORT = "public, max-age=300"
_FINGERPRINTED = re.compile(r"\.[0-9a-f]{8,}\.(css|js|svg|png|jpe?g|webp|avif|woff2?)$")
_DAY = re.compile(r"^(theme/|images/|favicon\.svg$)")
# Names that carry their content's hash (fingerprinted assets, Pagefind's
# index, fragments and filters): such a name never means other bytes, and a
# release that drops one no longer links to it.
_CONTENT_NAMED = re.compile(
    r"(\.[0-9a-f]{8,}\.(css|js|svg|png|jpe?g|webp|avif|woff2?)"
    r"|(^|/)pagefind/(.+/)?[^/]*_[0-9a-f]{7,}\.pf_[a-z]+)(\.(gz|br))?$"
)
_TYPES = {
    ".atom.xml": "application/atom+xml",
    ".rss.xml": "application/rss+xml",
    ".woff2": "font/woff2",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".js": "application/javascript",
    ".xml": "text/xml",
}
_CHARSET = (
    "text/",
    "application/javascript",
    "application/json",
    "application/feed+json",
    "application/atom+xml",
    "application/rss+xml",
    "image/svg+xml",
)
ENCODINGS = {".br": "br", ".gz": "gzip"}


def is_s3(spec: str) -> bool:
    return spec.strip().startswith("s3://")


def cache_control(rel: str) -> str:
    """Cache-Control of the object at ``rel`` (a path in the release)."""
    if _FINGERPRINTED.search(rel):
        return IMMUTABLE
    if _DAY.match(rel):
        return DAY
    return SHORT


def content_named(rel: str) -> bool:
    """Whether ``rel``'s name carries the hash of its content."""
    return _CONTENT_NAMED.search(rel) is not None


def content_type(rel: str) -> str:
    """Content-Type of ``rel`` (feeds and fonts by their proper types)."""
    lower = rel.lower()
    kind = next((t for end, t in _TYPES.items() if lower.endswith(end)), None)
    if kind is None and lower.startswith("feeds/") and lower.endswith(".json"):
        kind = "application/feed+json"
    if kind is None:
        kind = mimetypes.guess_type(rel, strict=False)[0] or "application/octet-stream"
    if kind.startswith(_CHARSET):
        kind += "; charset=utf-8"
    return kind


def object_headers(rel: str, files: Sequence[str] | set[str] = ()) -> dict[str, str]:
    """Content-Type, Cache-Control (and Content-Encoding) to store with ``rel``.

    ``foo.html.br`` beside ``foo.html`` is foo.html compressed: it keeps the
    type and lifetime of foo.html and says ``Content-Encoding: br`` (the
    delivery side picks it for browsers that accept it).
    """
    base, ext = posixpath.splitext(rel)
    if ext in ENCODINGS and base in files:
        return {
            "ContentType": content_type(base),
            "CacheControl": cache_control(base),
            "ContentEncoding": ENCODINGS[ext],
        }
    return {"ContentType": content_type(rel), "CacheControl": cache_control(rel)}


def parse_spec(spec: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``; prefix ends with / or is ''."""
    match = _SPEC.match(spec.strip())
    if not match:
        raise PublishError(
            f"{spec!r} is not an S3 target: write s3://BUCKET or s3://BUCKET/PREFIX "
            "(a bucket name is 3 to 63 lowercase letters, digits, dots and dashes)."
        )
    prefix = (match.group("prefix") or "").strip("/")
    return match.group("bucket"), f"{prefix}/" if prefix else ""


def make_client(stats: Stats | None = None) -> Any:
    """A boto3 S3 client configured from the environment or AWS_PROFILE."""
    try:
        import boto3  # noqa: PLC0415 (only S3 targets need it)
        from botocore.config import Config  # noqa: PLC0415
    except ImportError as exc:
        raise PublishError(
            "Publishing to S3 needs boto3: .venv/bin/pip install -r requirements.txt"
        ) from exc
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    try:
        session = boto3.session.Session(profile_name=os.environ.get("AWS_PROFILE"))
    except Exception as exc:  # botocore's ProfileNotFound and friends
        raise PublishError(
            f"AWS profile {os.environ.get('AWS_PROFILE')!r}: {exc}. Fix AWS_PROFILE "
            "or ~/.aws/config."
        ) from exc
    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=_WORKERS * 2,
        # Path-style addressing for S3-compatible servers on their own endpoint.
        s3={"addressing_style": "path"} if endpoint else {},
    )
    client = session.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=os.environ.get("AWS_REGION") or session.region_name or "us-east-1",
        config=config,
    )
    if stats is not None:
        client.meta.events.register("before-send.s3", stats.count)
        client.meta.events.register("before-call.s3", stats.call)
    return client


@dataclass
class Stats:
    """Requests made, bytes of request bodies sent, calls by operation (for
    the benchmark and the tests)."""

    requests: int = 0
    bytes_sent: int = 0
    calls: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, request, **_kwargs) -> None:
        body = getattr(request, "body", None)
        size = len(body) if isinstance(body, bytes | bytearray) else 0
        if size == 0 and body is not None and hasattr(body, "seek"):
            with contextlib.suppress(OSError, ValueError):
                position = body.tell()
                size = body.seek(0, 2) - position
                body.seek(position)
        with self._lock:
            self.requests += 1
            self.bytes_sent += size

    def call(self, model, **_kwargs) -> None:
        with self._lock:
            self.calls[model.name] += 1


@dataclass
class S3Target:
    """Releases under ``s3://bucket/prefix``; see the module docstring."""

    spec: str
    bucket: str
    prefix: str
    client: Any = field(repr=False)
    force: bool = False
    max_delete: float = DEFAULT_MAX_DELETE
    rebase_above: float = DEFAULT_REBASE_ABOVE
    stats: Stats = field(default_factory=Stats, repr=False)
    _pointer_etag: str | None = field(default=None, repr=False)
    _pointer_read: bool = field(default=False, repr=False)

    # -- keys and small helpers

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(parts)

    def _error(self, exc: Exception, what: str) -> PublishError:
        code = _code(exc)
        where = f"s3://{self.bucket}/{self.prefix}"
        if code in {"NoSuchBucket"}:
            hint = "create the bucket, or fix the name in --target / PIAZZA_TARGET."
        elif code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            hint = (
                "check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
                "AWS_PROFILE) and that they may read and write this prefix."
            )
        else:
            hint = (
                "check AWS_ENDPOINT_URL, the network and the credentials, "
                "then publish again."
            )
        return PublishError(f"On {where}, could not {what}: {exc}. {hint}")

    def _get(self, key: str) -> tuple[bytes, str] | None:
        """(body, ETag) of ``key``, or None if there is no such object."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _code(exc) in {"NoSuchKey", "404"}:
                return None
            raise self._error(exc, f"read {key}") from exc
        return answer["Body"].read(), answer["ETag"]

    def _list(self, prefix: str, delimiter: str = "") -> Iterator[dict]:
        paginator = self.client.get_paginator("list_objects_v2")
        options = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            options["Delimiter"] = delimiter
        try:
            yield from paginator.paginate(**options)
        except Exception as exc:
            raise self._error(exc, f"list {prefix}") from exc

    def _delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            try:
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except Exception as exc:
                raise self._error(exc, "delete old objects") from exc

    # -- the Target protocol

    def preflight(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            if _code(exc) in {"404", "NoSuchBucket"}:
                raise PublishError(
                    f"The bucket {self.bucket} does not exist on "
                    f"{self.client.meta.endpoint_url}: create it, or fix the name in "
                    "--target / PIAZZA_TARGET (and AWS_ENDPOINT_URL for a server "
                    "that is not AWS)."
                ) from exc
            raise self._error(exc, "reach the bucket") from exc

    def pointer(self) -> dict | None:
        """The pointer object's content (and remember its ETag for the switch)."""
        found = self._get(self.key(POINTER))
        self._pointer_read = True
        if found is None:
            self._pointer_etag = None
            return None
        body, etag = found
        self._pointer_etag = etag
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _scan(
        self, root: str = RELEASES, marker: str = ".json"
    ) -> tuple[set[str], set[str]]:
        """(folders, names with a ``marker`` object) under ``root``/: releases
        and their manifests, or bases and their checksums."""
        folders: set[str] = set()
        complete: set[str] = set()
        under = self.key(root) + "/"
        for page in self._list(under, "/"):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(under) :].rstrip("/")
                if _NAME.match(name):
                    folders.add(name)
            for item in page.get("Contents", []):
                name = item["Key"][len(under) :]
                if name.endswith(marker) and _NAME.match(name[: -len(marker)]):
                    complete.add(name[: -len(marker)])
        return folders, complete

    def base_of(self, name: str) -> str | None:
        """The base release ``name`` overlays: NO_BASE for a whole release (or
        one published before bases), None if it has no readable manifest."""
        got = self._get(self.key(RELEASES, f"{name}.json"))
        if got is None:
            return None
        try:
            data = json.loads(got[0])
        except ValueError:
            return None
        base = data.get("base") if isinstance(data, dict) else None
        return base if isinstance(base, str) and _NAME.match(base) else NO_BASE

    def _base_checksums(self, base: str) -> dict[str, str]:
        got = self._get(self.key(BASES, f"{base}.sha256"))
        return parse_checksums(got[0].decode("utf-8")) if got else {}

    def releases(self) -> list[Release]:
        pointer = self.pointer() or {}
        current = pointer.get("release")
        _folders, manifests = self._scan()
        found = []
        for name in manifests:
            got = self._get(self.key(RELEASES, f"{name}.json"))
            manifest = Manifest.from_json(got[0].decode("utf-8")) if got else None
            found.append(Release(name, manifest, name == current))
        return sorted(found, key=lambda r: sort_key(r.name))

    def checksums(self, name: str) -> dict[str, str]:
        got = self._get(self.key(RELEASES, f"{name}.sha256"))
        return parse_checksums(got[0].decode("utf-8")) if got else {}

    def upload(self, build: Build, manifest: Manifest, basis: str | None) -> Transfer:
        """Write release ``manifest.name``: an overlay of the live release's
        base (only the files that differ from it), or a base of its own."""
        name = manifest.name
        if not _NAME.match(name):
            raise PublishError(f"{name!r} is not a release name.")
        new = build.checksums
        old = self.checksums(basis) if basis else {}
        self.guard_deletions(old, new, basis)
        old_base = self.base_of(basis) if basis else None
        if old_base == NO_BASE:
            old_base = None
        in_base = self._base_checksums(old_base) if old_base else {}
        overlay = [rel for rel, digest in new.items() if in_base.get(rel) != digest]
        # An overlay can't remove a file of its base, except one named by its
        # content (nothing links to it any more, and its name never means
        # other bytes): it stays in the base, unused, until the next base.
        removed = {rel for rel in set(in_base) - set(new) if not content_named(rel)}
        rebase = (
            not in_base or bool(removed) or len(overlay) > self.rebase_above * len(new)
        )
        base = name if rebase else old_base
        folder = BASES if rebase else RELEASES
        wanted = list(new) if rebase else overlay
        files = set(new)
        counts = {"sent": 0, "bytes": 0}
        lock = threading.Lock()

        def live_key(rel: str) -> str:
            """Where the live release keeps ``rel`` (unchanged since)."""
            if old_base and in_base.get(rel) == old[rel]:
                return self.key(BASES, old_base, rel)
            return self.key(RELEASES, basis, rel)

        def one(rel: str) -> None:
            dest = self.key(folder, name, rel)
            if basis and old.get(rel) == new[rel]:
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=dest,
                    CopySource={"Bucket": self.bucket, "Key": live_key(rel)},
                    MetadataDirective="COPY",
                )
                return
            send_file(self, build.path / rel, dest, object_headers(rel, files))
            with lock:
                counts["sent"] += 1
                counts["bytes"] += build.sizes[rel]

        described = {**json.loads(manifest.to_json()), "base": base}
        try:
            with ThreadPoolExecutor(_WORKERS) as pool:
                for _ in pool.map(one, wanted):
                    pass
            if rebase:
                self._put(f"{BASES}/{name}.sha256", build.checksum_text(), "text/plain")
            self._put(RELEASES + f"/{name}.sha256", build.checksum_text(), "text/plain")
            self._put(
                RELEASES + f"/{name}.json",
                json.dumps(described, ensure_ascii=False, separators=(",", ":")) + "\n",
                "application/json",
            )
        except Exception as exc:
            with contextlib.suppress(Exception):
                self._remove_release(name)
                if rebase:
                    self._remove_base(name)
            if isinstance(exc, PublishError):
                raise
            raise PublishError(
                f"The upload of release {name} to s3://{self.bucket}/{self.prefix} "
                f"broke off: {exc}. The live site is unchanged; publish again when "
                "the cause is fixed (the next publish removes what was uploaded)."
            ) from exc
        return Transfer(
            files_sent=counts["sent"],
            bytes_sent=counts["bytes"],
            files_linked=len(new) - counts["sent"],
            files_total=len(new),
            bytes_total=build.bytes,
        )

    def guard_deletions(
        self, live: dict[str, str], new: dict[str, str], basis: str | None
    ) -> None:
        """Refuse (without ``force``) a release that drops many live files."""
        gone = sorted(set(live) - set(new))
        limit = max(20, int(len(live) * self.max_delete))
        if self.force or len(gone) <= limit:
            return
        shown = ", ".join(gone[:5]) + (", ..." if len(gone) > 5 else "")
        raise PublishError(
            f"This release would remove {len(gone):,} of the {len(live):,} files of "
            f"the live release {basis} (more than {limit:,}: {shown}). If that is "
            "what you want (a section deleted on purpose), publish again with "
            f"--force; the limit is {ENV_MAX_DELETE} (a fraction, now "
            f"{self.max_delete:g}). Nothing was uploaded."
        )

    def _put(self, rel: str, text: str, kind: str, **extra: Any) -> str:
        try:
            answer = self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(rel),
                Body=text.encode("utf-8"),
                ContentType=f"{kind}; charset=utf-8",
                CacheControl="no-cache",
                **extra,
            )
        except Exception as exc:
            if _code(exc) in {
                "PreconditionFailed",
                "412",
                "ConditionalRequestConflict",
            }:
                raise
            raise self._error(exc, f"write {self.key(rel)}") from exc
        return answer.get("ETag", "")

    def switch(self, name: str) -> None:
        if not self._pointer_read:
            self.pointer()
        base = self.base_of(name)
        if base is None:
            raise PublishError(
                f"There is no complete release {name} on {self.spec}: "
                "`invoke releases` lists the ones there are."
            )
        before = self._pointer_etag
        condition = {"IfMatch": before} if before else {"IfNoneMatch": "*"}
        body = json.dumps(
            {"release": name, "base": base, "switched_at": _now(), "by": _holder()},
            separators=(",", ":"),
        )
        try:
            etag = self._put(
                POINTER,
                body + "\n",
                "application/json",
                # nginx reads the names from these headers (deploy/nginx-s3.conf).
                Metadata={"release": name, "base": base},
                **condition,
            )
        except Exception as exc:
            now = (self.pointer() or {}).get("release", "?")
            raise PublishError(
                f"Another publish or rollback switched {self.spec} (to release "
                f"{now}) while this one ran, so release {name} was NOT made live. "
                "Look at `invoke releases`, then publish (or roll back) again."
            ) from exc
        self._pointer_etag = etag

    def remove(self, names: Sequence[str]) -> None:
        pointer = self.pointer() or {}
        current = pointer.get("release")
        folders, manifests = self._scan()
        doomed = {n for n in names if _NAME.match(n) and n != current}
        # Uploads that broke off: a folder without a manifest (we hold the lock).
        doomed |= {n for n in folders - manifests if n != current}
        for name in sorted(doomed):
            self._remove_release(name)
        # Bases no kept release stands on (pruned, or an upload that broke off).
        used = {self.base_of(n) for n in manifests - doomed} | {pointer.get("base")}
        if None in used - {pointer.get("base")}:
            return  # a manifest we can't read: keep every base rather than guess
        folders, complete = self._scan(BASES, ".sha256")
        for name in sorted((folders | complete) - used):
            self._remove_base(name)

    def keys(self, *folder: str) -> list[str]:
        """Every key under the folder ``folder`` (parts joined with /)."""
        return [
            item["Key"]
            for page in self._list(self.key(*folder) + "/")
            for item in page.get("Contents", [])
        ]

    def _remove_release(self, name: str) -> None:
        # The manifest first: a release half deleted is an incomplete one.
        self._delete([self.key(RELEASES, f"{name}.json")])
        self._delete([*self.keys(RELEASES, name), self.key(RELEASES, f"{name}.sha256")])

    def _remove_base(self, name: str) -> None:
        self._delete([self.key(BASES, f"{name}.sha256")])
        self._delete(self.keys(BASES, name))

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        key = self.key(LOCK)
        holder = {"by": _holder(), "pid": os.getpid(), "since": _now()}
        body = json.dumps(holder).encode("utf-8")
        for attempt in range(2):
            try:
                answer = self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*"
                )
                break
            except Exception as exc:
                if _code(exc) not in {"PreconditionFailed", "412"}:
                    raise self._error(exc, f"take the lock {key}") from exc
                found = self._get(key)
                if found is None:
                    continue
                other, etag = found
                if attempt == 0 and _stale(other):
                    with contextlib.suppress(Exception):
                        self.client.delete_object(
                            Bucket=self.bucket, Key=key, IfMatch=etag
                        )
                    continue
                raise PublishError(
                    f"Another publish to {self.spec} is running ({_describe(other)}): "
                    "wait for it to finish, then try again. If it died on another "
                    f"machine, delete s3://{self.bucket}/{key} (it expires after "
                    f"{STALE_LOCK_SECONDS // 60} minutes)."
                ) from None
        else:
            raise PublishError(f"Could not take the lock s3://{self.bucket}/{key}.")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                self.client.delete_object(
                    Bucket=self.bucket, Key=key, IfMatch=answer["ETag"]
                )


def check_live(spec: str, *, console=None) -> list[str]:
    """``invoke check --target s3://...``: is the live release whole?

    Every file its checksums list must be in the bucket under the release.
    Returns the missing ones (and raises PublishError if there are any).
    """
    from piazza import terminal  # noqa: PLC0415

    out = console if console is not None else terminal.console()
    target = open_s3(spec)
    target.preflight()
    pointer = target.pointer() or {}
    release = pointer.get("release")
    if not release:
        raise PublishError(f"{spec} has no {POINTER}: nothing is published there yet.")
    listed = set(target.checksums(release))
    if not listed:
        raise PublishError(
            f"The live release {release} on {spec} has no checksums "
            f"(releases/{release}.sha256): publish again to replace it."
        )
    # A file is in the release's overlay or in its base (deploy/nginx-s3.conf).
    there: set[str] = set()
    base = target.base_of(release)
    for root, name in (RELEASES, release), (BASES, base):
        if name not in {None, NO_BASE}:
            folder = len(target.key(root, name)) + 1
            there |= {key[folder:] for key in target.keys(root, name)}
    missing = sorted(listed - there)
    if missing:
        shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise PublishError(
            f"The live release {release} on {spec} lacks {len(missing):,} of its "
            f"{len(listed):,} files ({shown}): publish again (or roll back)."
        )
    out.print(f"{spec}: live release {release} is whole ({len(listed):,} files).")
    return missing


def send_file(target: S3Target, path: Path, key: str, headers: dict[str, str]) -> None:
    """Upload one file of a release (a seam tests use to break uploads)."""
    with path.open("rb") as body:
        target.client.put_object(Bucket=target.bucket, Key=key, Body=body, **headers)


def open_s3(
    spec: str, *, force: bool = False, rebase_above: float | None = None
) -> S3Target:
    """The S3 target named by ``spec`` (s3://bucket/prefix)."""
    bucket, prefix = parse_spec(spec)
    stats = Stats()
    return S3Target(
        spec.strip(),
        bucket,
        prefix,
        make_client(stats),
        force=force,
        max_delete=_fraction(ENV_MAX_DELETE, DEFAULT_MAX_DELETE, "0.1"),
        rebase_above=(
            _fraction(ENV_REBASE_ABOVE, DEFAULT_REBASE_ABOVE, "0.2")
            if rebase_above is None
            else rebase_above
        ),
        stats=stats,
    )


def _fraction(name: str, default: float, example: str) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise PublishError(
            f"{name}={raw!r} is not a number: write a fraction such as {example}."
        ) from None


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _holder() -> str:
    return f"{os.environ.get('USER', 'someone')}@{socket.gethostname()}"


def _stale(body: bytes) -> bool:
    """Whether a lock's holder is gone: a dead process here, or an old lock."""
    try:
        data = json.loads(body)
        since = datetime.fromisoformat(data["since"])
    except (ValueError, KeyError, TypeError):
        return True
    if str(data.get("by", "")).endswith(f"@{socket.gethostname()}"):
        try:
            os.kill(int(data.get("pid", 0)), 0)
        except ProcessLookupError:
            return True
        except (OSError, ValueError):
            pass
    return (datetime.now(UTC) - since).total_seconds() > STALE_LOCK_SECONDS


def _describe(body: bytes) -> str:
    try:
        data = json.loads(body)
        return f"by {data.get('by')}, pid {data.get('pid')}, since {data.get('since')}"
    except ValueError:
        return "holder unknown"


__all__ = ["S3Target", "check_live", "is_s3", "object_headers", "open_s3"]
