"""piazza/spamfilter.py: the blocklist's rules, with plain inputs."""

from __future__ import annotations

import pytest
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from piazza.spamfilter import (
    Blocklist,
    BlocklistError,
    adds_links,
    host_of,
    judge,
    links,
    parse_blocklist,
)

LIST = parse_blocklist(
    """
max-links = 2
emails = ["Spam@Example.org"]
domains = ["pillole.example", "www.casino.example"]
words = ["viagra", "soldi facili"]
"""
)


def test_the_shipped_blocklist_parses():
    text = (ROOT / "deploy" / "comments-blocklist.toml").read_text()
    assert isinstance(parse_blocklist(text), Blocklist)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Nessun link qui.", 0),
        ("Vedi https://a.example/x e http://b.example.", 2),
        ("Vedi www.a.example", 1),
        ("[testo](https://a.example) e [altro](/relativo/)", 2),
        ('<a href="https://a.example">a</a>', 1),
        ("scrivimi a nome@a.example", 0),
    ],
)
def test_links_are_counted(text, found):
    assert len(links(text)) == found


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"text": "uno http://a.example due http://b.example tre http://c.example"},
         "too-many-links"),
        ({"text": "Ciao", "email": " spam@EXAMPLE.org "}, "blocked-email"),
        ({"text": "Ciao", "email": "chiunque@pillole.example"}, "blocked-domain"),
        ({"text": "Ciao", "website": "shop.pillole.example"}, "blocked-domain"),
        ({"text": "[qui](https://PILLOLE.example/x)"}, "blocked-domain"),
        ({"text": "vedi casino.example.com? no: https://casino.example/"},
         "blocked-domain"),
        ({"text": "Compra Viagra!"}, "blocked-word"),
        ({"text": "Ciao", "author": "Soldi   facili"}, None),  # whole phrase only
        ({"text": "Ciao", "author": "SOLDI FACILI"}, "blocked-word"),
        ({"text": "Viagrande è in Sicilia"}, None),  # a whole word, not a part
        ({"text": "Due link: https://a.example e https://b.example"}, None),
        ({"text": "Ciao", "website": "https://pillole.example.org"}, None),
    ],
)  # fmt: skip
def test_judge(fields, reason):
    refusal = judge(LIST, **fields)
    assert (refusal.reason if refusal else None) == reason


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("max-links = 2\nwords = [\"a\" \"b\"]\n", "line 2"),
        ("words = [\n", "line 1"),
        ("colours = []\n", "unknown key 'colours'"),
        ("max-links = -1\n", "max-links"),
        ("max-links = true\n", "max-links"),
        ("words = [\"\"]\n", "words"),
        ("emails = [\"nobody\"]\n", "'nobody'"),
        ("domains = [\"not a domain\"]\n", "'not a domain'"),
    ],
)  # fmt: skip
def test_a_malformed_blocklist_names_what_to_fix(text, where):
    with pytest.raises(BlocklistError) as error:
        parse_blocklist(text, "deploy/comments-blocklist.toml")
    assert str(error.value).startswith("deploy/comments-blocklist.toml: ")
    assert where in str(error.value)


def test_an_edit_that_adds_links_is_told_apart():
    assert adds_links("", "https://a.example")
    assert adds_links("Bel post", "Bel post, www.a.example")
    assert not adds_links("vedi https://a.example", "vedi https://b.example")
    assert not adds_links("vedi https://a.example", "vedi")


def test_hosts_of_links_websites_and_emails():
    assert host_of("https://Shop.Example:8080/x") == "shop.example"
    assert host_of("www.example.org/pagina") == "www.example.org"
    assert host_of("](https://a.example/x") == "a.example"
    assert host_of('href="https://a.example"') == "a.example"
    assert host_of("nome@Posta.Example") == "posta.example"


words = st.text(alphabet="abcdefghij ", min_size=1, max_size=40)


@given(words, st.lists(st.sampled_from(["a.example", "b.example"]), max_size=6))
def test_the_link_limit_is_exact(prefix, hosts):
    """A text passes the link limit exactly when it has at most max-links
    links, whatever surrounds them."""
    text = prefix + " " + " ".join(f"https://{host}/p" for host in hosts)
    refusal = judge(Blocklist(max_links=3), text=text)
    assert (refusal is None) == (len(hosts) <= 3)


@given(st.text(max_size=200))
def test_judge_never_fails_on_any_text(text):
    judge(LIST, text=text, author=text, email=text, website=text)
    adds_links(text, text + " https://a.example")


@given(st.sampled_from(["pillole.example", "x.pillole.example", "a.b.pillole.example"]))
def test_a_blocked_domain_blocks_its_subdomains(host):
    assert judge(LIST, text=f"https://{host}/").reason == "blocked-domain"
