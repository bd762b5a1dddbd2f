"""Pages kept between builds (plugins/rendercache): a build that keeps pages
writes, byte for byte, what a clean build writes, whatever changed: a post's
body, title, summary, date, tags; and what can't be trusted is refused."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT, run_pelican

from rendercache.key import Keyer, Unkeyable

sys.path.insert(0, str(ROOT / "bench"))
from synth import make_site


# ------------------------------------------------------------------ keys
class Post:
    """A stand-in for a Pelican content: fields, a body, a source file."""

    def __init__(self, path: str, title: str, body: str) -> None:
        self.relative_source_path = path
        self.title = title
        self._content = body


def _keyer() -> Keyer:
    return Keyer(
        lambda o: isinstance(o, Post),
        lambda o: o.relative_source_path,
        lambda o: False,
    )


def test_a_page_key_follows_every_value_and_every_posts_fields_not_bodies():
    a, b = Post("a.md", "A", "body a"), Post("b.md", "B", "body b")
    context = {"articles": [a, b], "SITENAME": "Piazza", "page": 2}
    first = _keyer()
    page, every = first.digest(dict(context)), first.contents_digest()

    again = _keyer()
    assert again.digest(dict(context)) == page
    assert again.contents_digest() == every

    b._content = "another body"  # bodies are checked by what a page read
    keyer = _keyer()
    keyer.digest(dict(context))
    assert keyer.contents_digest() == every

    b.title = "B, renamed"
    keyer = _keyer()
    assert keyer.digest(dict(context)) == page  # b is named by its file
    assert keyer.contents_digest() != every  # and its fields are in every key

    keyer = _keyer()
    assert keyer.digest({**context, "page": 3}) != page
    assert keyer.digest({**context, "articles": [b, a]}) != page


def test_a_value_that_changes_after_it_was_digested_is_found_by_verify():
    a = Post("a.md", "A", "body")
    tags = ["moto"]
    keyer = _keyer()
    for page in (1, 2):  # the list's digest serves the second page again
        keyer.digest({"tags": tags, "article": a, "page": page})
    keyer.contents_digest()
    assert keyer.verify() == []
    tags.append("lago")
    a.title = "A, renamed"
    changed = keyer.verify()
    assert "builtins.list" in changed
    assert "a.md (title)" in changed


def test_the_check_after_the_build_takes_again_only_what_could_change():
    """verify() and the template contexts' check start from the digests of
    the immutable values (a string can't change; the keyer keeps it alive, so
    no other value takes its id), and digest every container again."""
    title = "".join(["A", " title"])  # a string of its own, not interned
    a = Post("a.md", title, "body")
    meta = {"title": title, "tags": ["moto"]}
    keyer = _keyer()
    first = keyer.digest(meta)
    keyer.digest({"article": a})
    keyer.contents_digest()
    checker = keyer.checker()
    assert checker.digest(title) == keyer.digest(title)
    assert checker.digest(meta) == first  # the same values: the same digest
    assert keyer.verify() == []
    meta["tags"].append("lago")  # inside a container digested before
    assert keyer.checker().digest(meta) != first
    a.title = "".join(["A", " title"])  # another string, equal: not a change
    assert keyer.verify() == []
    a.title = "Another title"
    assert "a.md (title)" in keyer.verify()


def test_what_cannot_be_digested_faithfully_is_refused():
    keyer = _keyer()
    with pytest.raises(Unkeyable, match="lock"):
        keyer.digest({"lock": threading.Lock()})
    loop: list = []
    loop.append(loop)
    with pytest.raises(Unkeyable, match="cycle"):
        _keyer().digest(loop)


# ---------------------------------------------------------------- builds
def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _content(folder: Path) -> Path:
    content = make_site(folder, 14)
    for name in ("extra", "images"):
        shutil.copytree(ROOT / "content" / name, content / name)
    # A post whose summary is made from its body (no Summary line).
    post = content / "posts" / "articolo-00003.it.md"
    lines = post.read_text(encoding="utf-8").splitlines()
    post.write_text(
        "\n".join(line for line in lines if not line.startswith("Summary:")) + "\n",
        encoding="utf-8",
    )
    return content


class Builds:
    """Builds of one content folder: kept pages, or every page rendered."""

    def __init__(self, tmp: Path, content: Path) -> None:
        self.tmp = tmp
        self.content = content
        self.number = 0
        self.caches = {
            "COMMUNITY_CACHE_DIR": str(tmp / "no-community"),
            "READ_CACHE_PATH": str(tmp / "read"),
            "COMPRESSED_CACHE_PATH": str(tmp / "compressed"),
            "RENDER_CACHE_PATH": str(tmp / "render"),
        }

    def build(self, **overrides) -> Path:
        self.number += 1
        output = self.tmp / f"out-{self.number}"
        result = run_pelican(
            output, content=self.content, overrides={**self.caches, **overrides}
        )
        assert result.returncode == 0, f"build failed:\n{result.log}"
        return output

    def last(self) -> dict[str, int]:
        manifest = json.loads((self.tmp / "render" / "manifest.json").read_text())
        return manifest["last_build"]

    def same_as_clean(self) -> dict[str, int]:
        """Build keeping pages, then with none kept; both the same, bytes and
        all; what the first one did."""
        kept = _files(self.build())
        counts = self.last()
        clean = _files(self.build(RENDER_CACHE=False))
        assert kept.keys() == clean.keys()
        assert [name for name in clean if kept[name] != clean[name]] == []
        return counts


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_republish_renders_what_changed_and_writes_what_a_clean_build_writes(
    tmp_path,
):
    content = _content(tmp_path / "content")
    builds = Builds(tmp_path, content)
    first = builds.build()
    assert builds.last()["kept"] == 0
    pages = builds.last()["rendered"]

    unchanged = _files(builds.build())
    assert (builds.last()["kept"], builds.last()["rendered"]) == (pages, 0)
    assert unchanged == _files(first)

    posts = content / "posts"
    # A body, with its own Summary line: only the pages that show the body.
    with (posts / "articolo-00007.it.md").open("a", encoding="utf-8") as file:
        file.write("\nUna frase aggiunta.\n")
    counts = builds.same_as_clean()
    assert 0 < counts["rendered"] < 5, counts

    # A body its summary is made from: the listings that show it, too.
    with (posts / "articolo-00003.it.md").open("a", encoding="utf-8") as file:
        file.write("\nUn'altra frase.\n")
    _edit(posts / "articolo-00003.it.md", "## Sezione\n\n", "## Sezione\n\nIn breve. ")
    counts = builds.same_as_clean()
    assert counts["rendered"] > 2, counts

    # Fields every listing, feed and neighbour may show.
    for name, old, new in (
        ("articolo-00005.it.md", "Title: Articolo numero 5", "Title: Un titolo nuovo"),
        ("articolo-00006.it.md", "Summary: Riassunto", "Summary: Sommario"),
        ("articolo-00008.it.md", "Date: 2020-01-07", "Date: 2021-06-07"),
        ("articolo-00009.it.md", "Tags: ", "Tags: un tema nuovo, "),
    ):
        _edit(posts / name, old, new)
        counts = builds.same_as_clean()
        assert counts["kept"] < pages, (name, counts)


def test_the_sample_site_kept_is_the_sample_site_rendered(tmp_path):
    content = shutil.copytree(ROOT / "content", tmp_path / "content")
    builds = Builds(tmp_path, content)
    builds.build()
    post = content / "posts" / "2026-03-stagione-corse.it.md"
    with post.open("a", encoding="utf-8") as file:
        file.write("\nUna riga in più.\n")
    counts = builds.same_as_clean()
    assert counts["kept"] > counts["rendered"] > 0, counts


def test_attach_links_turn_the_cache_off_for_the_build(tmp_path):
    content = _content(tmp_path / "content")
    with (content / "posts" / "articolo-00002.it.md").open("a") as file:
        file.write("\n[La moto]({attach}../images/sebino-800.svg)\n")
    builds = Builds(tmp_path, content)
    builds.build()
    assert not (tmp_path / "render" / "manifest.json").exists()
