"""Pre-compressed siblings made once per file version (plugins/compressed):
what they hold, what the cache spares, and a warm build identical to a cold
one, byte for byte."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
import readcache
from compressed import codecs, settings
from compressed.store import compress_output, prune
from conftest import ROOT, run_pelican
from pelican.settings import read_settings

from piazza.search import index_site

PAGE = (
    "<!doctype html><title>Pagina</title>" + "<p>Officine Ardesia</p>" * 80
).encode()


def _settings(cache: Path, **values) -> settings.Settings:
    return settings.read({"COMPRESSED_CACHE_PATH": str(cache), **values})


@pytest.mark.parametrize("fmt", ["br", "gz"])
def test_a_variant_holds_the_file_and_an_incompressible_one_is_none(fmt):
    assert codecs.decompress(codecs.compress(PAGE, fmt, 5), fmt) == PAGE
    assert codecs.compress(os.urandom(4096), fmt, 5) == b""


def test_the_same_bytes_give_the_same_gzip_file_at_any_time():
    first = codecs.compress(PAGE, "gz", 9)
    assert first == codecs.compress(PAGE, "gz", 9)  # no name, no time inside


def _site(folder: Path) -> Path:
    (folder / "posts").mkdir(parents=True)
    for number in range(40):
        (folder / "posts" / f"p{number}.html").write_bytes(PAGE + str(number).encode())
    (folder / "tiny.css").write_bytes(b"a{}")
    (folder / "noise.js").write_bytes(random.Random(1).randbytes(2048))
    (folder / "logo.png").write_bytes(PAGE)  # not text: left alone
    return folder


def test_every_text_file_gets_its_siblings_and_the_cache_spares_the_work(tmp_path):
    chosen = _settings(tmp_path / "cache", COMPRESSED_WORKERS=2)
    site = _site(tmp_path / "one")
    done = compress_output(site, chosen)
    assert (done.files, done.variants, done.compressed) == (41, 80, 82)
    for page in (site / "posts").glob("*.html"):
        for fmt in ("br", "gz"):
            blob = page.with_name(f"{page.name}.{fmt}").read_bytes()
            assert codecs.decompress(blob, fmt) == page.read_bytes()
    assert not (site / "tiny.css.br").exists()  # under the minimum size
    assert not (site / "noise.js.gz").exists()  # would not be smaller
    assert not (site / "logo.png.br").exists()

    again = _site(tmp_path / "two")  # a fresh build of the same site
    (again / "posts" / "p7.html").write_bytes(PAGE + b"changed")
    redone = compress_output(again, chosen)
    assert (redone.variants, redone.compressed) == (80, 2)  # p7, in two formats
    for name in ("posts/p3.html.br", "posts/p3.html.gz", "noise.js"):
        assert (again / name).read_bytes() == (site / name).read_bytes()
    assert not (again / "noise.js.gz").exists()  # remembered as not smaller


def test_a_changed_quality_is_a_new_variant_not_a_stale_one(tmp_path):
    site = _site(tmp_path / "site")
    compress_output(site, _settings(tmp_path / "cache", COMPRESSED_BROTLI_QUALITY=1))
    best = compress_output(
        site, _settings(tmp_path / "cache", COMPRESSED_BROTLI_QUALITY=11)
    )
    assert best.compressed == 41  # brotli again; gzip's level did not change
    blob = (site / "posts" / "p1.html.br").read_bytes()
    assert blob == codecs.compress((site / "posts" / "p1.html").read_bytes(), "br", 11)


def test_the_cache_keeps_the_most_recently_used(tmp_path):
    cache = tmp_path / "cache"
    for number, age in enumerate((300, 200, 100)):
        entry = cache / "br5" / "ab" / f"entry{number}"
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_bytes(b"x" * 1000)
        os.utime(entry, (1e9 - age, 1e9 - age))
    assert prune(cache, 2000) == 1
    assert sorted(p.name for p in cache.rglob("entry*")) == ["entry1", "entry2"]


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("COMPRESSED_FORMATS", ("br", "zstd"), "COMPRESSED_FORMATS: unknown 'zstd'"),
        ("COMPRESSED_BROTLI_QUALITY", 12, "COMPRESSED_BROTLI_QUALITY=12"),
        ("COMPRESSED_EXTENSIONS", ("html", ".gz"), "COMPRESSED_EXTENSIONS: .gz, html"),
        ("COMPRESSED_WORKERS", "2", "COMPRESSED_WORKERS='2'"),
    ],
)
def test_a_setting_that_cannot_be_used_is_named(tmp_path, name, value, said):
    with pytest.raises(settings.SettingsError, match=said):
        _settings(tmp_path, **{name: value})


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_build_from_a_warm_cache_is_byte_identical_to_a_clean_one(tmp_path):
    content = shutil.copytree(ROOT / "content", tmp_path / "content")
    caches = {
        "COMPRESSED_CACHE_PATH": str(tmp_path / "compressed"),
        "READ_CACHE_PATH": str(tmp_path / "read"),  # plugins/readcache, on too
        "RENDER_CACHE_PATH": str(tmp_path / "render"),  # plugins/rendercache, too
        "COMMUNITY_CACHE_DIR": str(tmp_path / "no-cache"),
    }

    def build(name: str) -> Path:  # the copy, where the post changes
        output = tmp_path / name
        result = run_pelican(output, content=content, overrides=caches)
        assert result.returncode == 0, f"build failed:\n{result.log}"
        index_site(output)
        return output

    clean = build("clean")
    post = content / "posts" / "2026-03-stagione-corse.it.md"
    text = post.read_text(encoding="utf-8")
    post.write_text(text + "\nUna riga in più.\n", encoding="utf-8")
    changed = build("changed")
    assert _files(changed) != _files(clean)
    post.write_text(text, encoding="utf-8")
    warm = build("warm")

    built, again = _files(clean), _files(warm)
    assert sum(name.endswith(".br") for name in built) > 50
    assert built.keys() == again.keys()
    differing = [name for name in built if built[name] != again[name]]
    assert differing == []
    assert len(list((tmp_path / "read").iterdir())) == 1  # one fingerprint


def test_the_reader_cache_belongs_to_the_settings_that_read(tmp_path):
    base = read_settings(str(ROOT / "publishconf.py"))
    same = read_settings(str(ROOT / "publishconf.py"))
    other = {**base, "MARKDOWN": {**base["MARKDOWN"], "output_format": "xhtml"}}
    assert readcache.fingerprint(base) == readcache.fingerprint(same)
    assert readcache.fingerprint(base) != readcache.fingerprint(other)
    assert readcache.fingerprint(base) != readcache.fingerprint(
        {**base, "TIMEZONE": "UTC"}
    )
