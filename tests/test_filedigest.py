"""A file's digest read once per build (plugins/filedigest), and never a stale
one: a file written again or put in another's place is read again."""

from __future__ import annotations

import hashlib
import os

from filedigest import file_sha256


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_digest_follows_the_file_whatever_was_asked_before(tmp_path):
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"first version")
    assert file_sha256(cover) == _sha(b"first version")
    assert file_sha256(cover) == _sha(b"first version")  # asked again

    cover.write_bytes(b"a longer second version")  # rewritten in place
    assert file_sha256(cover) == _sha(b"a longer second version")

    other = tmp_path / "other.jpg"  # another file of the same size put there
    other.write_bytes(b"a longer second versioN")
    os.replace(other, cover)
    assert file_sha256(cover) == _sha(b"a longer second versioN")

    # the same size rewritten in place, at a later time (as any edit is)
    info = cover.stat()
    cover.write_bytes(b"A longer second versioN")
    os.utime(cover, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    assert file_sha256(cover) == _sha(b"A longer second versioN")


def test_the_same_bytes_at_two_paths_are_two_files(tmp_path):
    one, two = tmp_path / "one.png", tmp_path / "two.png"
    one.write_bytes(b"same")
    two.write_bytes(b"same")
    assert file_sha256(one) == file_sha256(two) == _sha(b"same")
    two.write_bytes(b"different")
    assert file_sha256(one) == _sha(b"same")
    assert file_sha256(two) == _sha(b"different")
