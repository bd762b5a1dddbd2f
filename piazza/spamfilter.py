"""The spam rules for comments: pure logic, no files, no network.

One editable file (deploy/comments-blocklist.toml, parsed by
:func:`parse_blocklist`) says what a comment may not carry::

    max-links = 3                    # links in the text (website not counted)
    emails = ["spam@example.com"]    # exact addresses, any case
    domains = ["casino.example"]     # and their subdomains: in links, website, e-mail
    words = ["viagra", "buy now"]    # whole words or phrases, any case

:func:`judge` answers ``None`` for a comment that passes, or a
:class:`Refusal` whose ``reason`` is one of the stable codes below (the
widget maps them to messages in the reader's language):

- ``too-many-links``: more links in the text than ``max-links``;
- ``blocked-email``: the e-mail is on the list;
- ``blocked-domain``: a link, the website or the e-mail's domain is on the
  list (or under a listed domain);
- ``blocked-word``: the text or the name carries a listed word or phrase.

:func:`adds_links` tells an edit that carries more links than the comment
had (the "post an empty comment, edit links in later" trick,
isso-comments/isso#1038): the server judges such an edit like a new comment.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_MAX_LINKS = 3
KEYS = {"max-links", "emails", "domains", "words"}

# A link, as Isso's Markdown and a reader's browser would make one: a URL
# with a scheme, a bare "www." address, or a Markdown/HTML link target.
LINK = re.compile(
    r"""(?ix)
    (?:\b(?:https?|ftp)://|\bwww\.)[^\s<>"'()\[\]]+
    | \]\(\s*<?[^\s)>]+            # Markdown: [text](target)
    | \bhref\s*=\s*["']?[^\s"'>]+  # HTML: <a href=...>
    """
)
HOST = re.compile(r"(?i)(?:[a-z0-9-]+\.)+[a-z]{2,63}")


class BlocklistError(Exception):
    """A blocklist file that cannot be used (the message names the line or key)."""


@dataclass(frozen=True)
class Refusal:
    """Why a comment is refused: a stable code and a sentence for people."""

    reason: str
    message: str


@dataclass(frozen=True)
class Blocklist:
    max_links: int = DEFAULT_MAX_LINKS
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()
    _words: re.Pattern | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.words and self._words is None:
            alternatives = "|".join(re.escape(w) for w in self.words)
            pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
            object.__setattr__(self, "_words", pattern)


def parse_blocklist(text: str, source: str = "the blocklist") -> Blocklist:
    """The blocklist a TOML text describes; BlocklistError naming the line
    (a syntax error) or the key (a wrong value) otherwise."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        where = str(error).replace(
            "(at end of document)", f"(at line {len(text.splitlines())}, its end)"
        )
        raise BlocklistError(f"{source}: {where}; fix that line") from None
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise BlocklistError(
            f"{source}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})"
        )
    max_links = data.get("max-links", DEFAULT_MAX_LINKS)
    if not isinstance(max_links, int) or isinstance(max_links, bool) or max_links < 0:
        raise BlocklistError(
            f"{source}: max-links = {max_links!r}: give a whole number, 0 or more"
        )
    lists = {}
    for key in ("emails", "domains", "words"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item.strip() for item in value
        ):
            raise BlocklistError(
                f"{source}: {key} must be a list of non-empty strings, "
                f'e.g. {key} = ["..."]'
            )
        lists[key] = [item.strip().lower() for item in value]
    for email in lists["emails"]:
        if "@" not in email:
            raise BlocklistError(f"{source}: emails: {email!r} is not an e-mail")
    domains = [d.lstrip(".").removeprefix("www.") for d in lists["domains"]]
    for domain in domains:
        if not HOST.fullmatch(domain):
            raise BlocklistError(
                f"{source}: domains: {domain!r} is not a domain (e.g. casino.example)"
            )
    return Blocklist(
        max_links=max_links,
        emails=frozenset(lists["emails"]),
        domains=frozenset(domains),
        words=tuple(dict.fromkeys(lists["words"])),
    )


def links(text: str) -> list[str]:
    """The links in a comment's text, in order."""
    return [match.group(0) for match in LINK.finditer(text or "")]


def host_of(link: str) -> str | None:
    """The host a link, a website or an e-mail points to (lower case)."""
    link = link.strip()
    if link.startswith("]("):
        link = link[2:].strip().lstrip("<")
    elif link.lower().startswith("href") and "=" in link:
        link = link.split("=", 1)[1].strip().strip("\"'")
    if "@" in link and "://" not in link:
        link = link.rsplit("@", 1)[1]
    if "://" not in link:
        link = "http://" + link.lstrip("/")
    try:
        host = urlsplit(link).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def _blocked_host(host: str | None, domains: frozenset[str]) -> bool:
    if not host:
        return False
    parts = host.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts)))


def judge(
    blocklist: Blocklist,
    *,
    text: str,
    author: str | None = None,
    email: str | None = None,
    website: str | None = None,
) -> Refusal | None:
    """None if a comment (new or edited) passes the blocklist, else why not."""
    found = links(text)
    if email and email.strip().lower() in blocklist.emails:
        return Refusal("blocked-email", "this e-mail address may not comment")
    hosts = [host_of(link) for link in found]
    if website:
        hosts.append(host_of(website))
    if email:
        hosts.append(host_of(email))
    if blocklist.domains and any(_blocked_host(h, blocklist.domains) for h in hosts):
        return Refusal("blocked-domain", "a link or address points to a blocked site")
    if blocklist._words is not None and any(
        blocklist._words.search(value or "") for value in (text, author)
    ):
        return Refusal("blocked-word", "the comment carries a blocked word")
    if len(found) > blocklist.max_links:
        return Refusal(
            "too-many-links",
            f"at most {blocklist.max_links} links in a comment ({len(found)} given)",
        )
    return None


def adds_links(before: str, after: str) -> bool:
    """Whether an edit gives a comment more links than it had."""
    return len(links(after)) > len(links(before))
