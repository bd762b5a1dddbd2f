"""feeds.toml and OPML: what an editor writes, imports and gets back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from community.errors import CommunityError
from community.subscriptions import (
    import_opml,
    load_subscriptions,
    parse_subscriptions,
    read_opml,
    render_opml,
)
from piazza.community import import_opml as import_task


def write(tmp_path: Path, text: str, name: str = "feeds.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_or_empty_file_means_no_feeds(tmp_path):
    assert load_subscriptions(tmp_path / "none.toml") == ()
    assert load_subscriptions(write(tmp_path, "")) == ()
    assert load_subscriptions(write(tmp_path, "# nothing yet\n")) == ()


def test_every_key_is_read(tmp_path):
    (sub,) = load_subscriptions(
        write(
            tmp_path,
            '[[feeds]]\nname = "Moto Club Sebino"\nurl = "https://mc.example/feed"\n'
            'site = "https://mc.example/"\navatar = "images/mc.svg"\nlang = "it"\n'
            'include = ["uscite", "/raduno/"]\nexclude = ["mercatino"]\n'
            'max_entries = 7\nslug = "club"\n',
        )
    )
    assert (sub.name, sub.url, sub.site, sub.lang) == (
        "Moto Club Sebino",
        "https://mc.example/feed",
        "https://mc.example/",
        "it",
    )
    assert (sub.slug, sub.max_entries, sub.avatar) == ("club", 7, "images/mc.svg")
    assert sub.wants("Giro del lago", ("uscite",))
    assert sub.wants("Il raduno d'autunno", ())
    assert not sub.wants("Il raduno d'autunno", ("mercatino",))
    assert not sub.wants("Serata officina", ("officina",))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[[feeds]]\nname = "A"\nurl = "https://a.example/\n', 3, "not valid TOML"),
        ('[[feeds]]\nname = "A"\nurl = "https://a.example/"\ncolour = "red"\n', 4,
         "colour"),
        ('[[feeds]]\nname = "A"\n', 1, "url"),
        ('[[feeds]]\nurl = "https://a.example/"\n', 1, "name"),
        ('[[feeds]]\nname = "A"\nurl = "ftp://a.example/feed"\n', 3, "url"),
        ('[[feeds]]\nname = "A"\nurl = "https://a.example/"\nlang = "italiano!"\n', 4,
         "lang"),
        ('[[feeds]]\nname = "A"\nurl = "https://a.example/"\nslug = "No Spaces"\n', 4,
         "slug"),
        ('[[feeds]]\nname = "A"\nurl = "https://a.example/"\ninclude = ["/(/"]\n', 4,
         "include"),
        (('[[feeds]]\nname = "A"\nurl = "https://a.example/f"\n\n'
          '[[feeds]]\nname = "B"\nurl = "http://A.EXAMPLE/f/"\n'),
         7, "repeats the URL"),
    ],
)  # fmt: skip
def test_mistakes_name_the_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(CommunityError) as caught:
        load_subscriptions(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message


def test_two_names_with_the_same_slug_are_an_error(tmp_path):
    with pytest.raises(CommunityError, match="slug"):
        parse_subscriptions(
            '[[feeds]]\nname = "Club Sebino"\nurl = "https://a.example/"\n'
            '[[feeds]]\nname = "Club, Sebino!"\nurl = "https://b.example/"\n',
            "feeds.toml",
        )


OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0"><head><title>Il mio lettore</title></head><body>
  <outline text="Moto">
    <outline type="rss" text="Ardesisti" xmlUrl="https://ardesisti.example/atom.xml"
             htmlUrl="https://ardesisti.example/" language="it"/>
    <outline text="Vecchi">
      <outline type="rss" title="Club Sebino" xmlUrl="https://club.example/feed"/>
      <outline type="rss" title="Club, Sebino!" xmlUrl="https://altro.example/feed"/>
    </outline>
  </outline>
  <outline type="rss" text="Già seguito" xmlUrl="https://GIA.example/rss/"/>
  <outline type="rss" text="Per posta" xmlUrl="mailto:me@example.org"/>
</body></opml>
"""


def test_opml_import_appends_and_says_what_it_skipped(tmp_path):
    feeds = write(
        tmp_path,
        '# Le fonti della comunità\n\n[[feeds]]\nname = "Già"\n'
        'url = "https://gia.example/rss"\n',
    )
    report = import_opml(write(tmp_path, OPML, "reader.opml"), feeds)
    assert [s.name for s in report.added] == [
        "Ardesisti",
        "Club Sebino",
        "Club, Sebino!",
    ]
    skipped = dict(report.skipped)
    assert skipped["https://GIA.example/rss/"] == "already subscribed"
    assert "not an http" in skipped["mailto:me@example.org"]
    text = feeds.read_text()
    assert text.startswith("# Le fonti della comunità\n")  # the editor's file kept
    subs = load_subscriptions(feeds)
    assert [s.name for s in subs] == [
        "Già",
        "Ardesisti",
        "Club Sebino",
        "Club, Sebino!",
    ]
    assert len({s.slug for s in subs}) == 4
    ardesisti = subs[1]
    assert (ardesisti.site, ardesisti.lang) == ("https://ardesisti.example/", "it")
    again = import_opml(tmp_path / "reader.opml", feeds)
    assert again.added == () and feeds.read_text() == text


def test_the_task_prints_what_it_did(tmp_path):
    (tmp_path / "content" / "community").mkdir(parents=True)
    conf = write(tmp_path, 'PATH = "content"\n', "conf.py")
    out = io.StringIO()
    import_task(conf, write(tmp_path, OPML, "r.opml"), console=Console(file=out))
    printed = out.getvalue()
    assert "added: Ardesisti" in printed and "skipped: mailto:me@example.org" in printed
    assert (tmp_path / "content/community/feeds.toml").exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not xml at all <", "not a valid OPML"),
        ("<html><body/></html>", "no <opml> root"),
    ],
)
def test_bad_opml_names_the_file(tmp_path, content, words):
    path = write(tmp_path, content, "bad.opml")
    with pytest.raises(CommunityError, match=words) as caught:
        read_opml(path)
    assert str(path) in str(caught.value)


def test_opml_entities_are_not_expanded(tmp_path):
    secret = write(tmp_path, "TOP-SECRET", "secret.txt")
    path = write(
        tmp_path,
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">'
        '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<opml version="2.0"><body><outline text="&x;&b;" '
        'xmlUrl="https://x.example/feed"/></body></opml>',
        "evil.opml",
    )
    try:
        outlines = read_opml(path)
    except CommunityError:
        return  # refusing it is fine too
    assert all("TOP-SECRET" not in o.name for o in outlines)


def test_rendered_opml_reads_back(tmp_path):
    subs = parse_subscriptions(
        '[[feeds]]\nname = "A & B"\nurl = "https://a.example/f?x=1&y=2"\n'
        'site = "https://a.example/"\nlang = "en"\n',
        "feeds.toml",
    )
    path = write(tmp_path, render_opml(subs, "Comunità"), "out.opml")
    (outline,) = read_opml(path)
    assert (outline.name, outline.url, outline.site, outline.lang) == (
        "A & B",
        "https://a.example/f?x=1&y=2",
        "https://a.example/",
        "en",
    )
