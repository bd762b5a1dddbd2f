"""The ideas service's settings, read from the environment once at start.

Every setting is an ``IDEAS_*`` variable; :data:`DEFAULTS` lists them with
their defaults and what they do. A value that can't be used stops the
service with a :class:`ConfigError` naming the variable. The secret has no
default: production refuses to start without it; development
(``IDEAS_ENV=development``, what `invoke ideas-server` sets) makes up one
for the process's life.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DEFAULTS: dict[str, str] = {
    # "production" (the default) or "development".
    "IDEAS_ENV": "production",
    # Signs the voter cookie, confirmation links and proof-of-work
    # challenges. At least 32 characters. Required in production.
    "IDEAS_SECRET": "",
    # The SQLite database (WAL mode); its folder is created.
    "IDEAS_DB": str(ROOT / "var" / "ideas" / "ideas.db"),
    # Where nginx serves the service: the cookie's Path.
    "IDEAS_PUBLIC_PATH": "/idee-api/",
    # The service's public URL, for the links in confirmation e-mails
    # (e.g. https://www.officineardesia.example/idee-api).
    "IDEAS_PUBLIC_URL": "",
    # Where a confirmed reader is sent (a page of the board); empty: a JSON answer.
    "IDEAS_CONFIRMED_URL": "",
    # Active votes a voter may hold at once (a done or declined idea gives
    # its vote back).
    "IDEAS_VOTE_BUDGET": "10",
    # Comma-separated addresses or networks of the proxies whose
    # X-Forwarded-For is believed (nginx on loopback).
    "IDEAS_TRUSTED_PROXIES": "127.0.0.1,::1",
    # Limits, checked and recorded in the write's own transaction.
    "IDEAS_RANGE_VOTES_PER_HOUR": "120",  # votes and withdrawals per /24 or /48
    "IDEAS_VOTER_VOTES_PER_HOUR": "40",  # votes and withdrawals per voter
    "IDEAS_RANGE_PROPOSALS_PER_DAY": "10",
    "IDEAS_RANGE_EMAILS_PER_DAY": "10",  # confirmation e-mails sent
    # Largest request body in bytes (a larger one gets 413).
    "IDEAS_MAX_BODY": "16384",
    # Proof of work (ALTCHA v2): the key derivation, its cost, and the largest
    # counter a solver may have to reach (the work is about half of it).
    "IDEAS_POW_ALGORITHM": "SHA-256",
    "IDEAS_POW_COST": "1",
    "IDEAS_POW_MAX_NUMBER": "50000",
    "IDEAS_POW_EXPIRES": "600",  # seconds a challenge stays valid
    # Confirmation links stay valid this many seconds.
    "IDEAS_CONFIRM_MAX_AGE": "172800",
    # SMTP for confirmation e-mails; without a host, confirming is off (503).
    "IDEAS_SMTP_HOST": "",
    "IDEAS_SMTP_PORT": "25",
    "IDEAS_SMTP_USERNAME": "",
    "IDEAS_SMTP_PASSWORD": "",
    "IDEAS_SMTP_STARTTLS": "false",
    "IDEAS_SMTP_FROM": "",
    # The build's list of polls (output/polls.json of the live release, e.g.
    # /srv/piazza/current/polls.json), re-read when it changes. Empty: no
    # poll takes votes.
    "IDEAS_POLLS_FILE": "",
    # The editors' moderation page (/moderate/ under IDEAS_PUBLIC_PATH): its
    # password, the secret itself or a Werkzeug hash (`python -c "from
    # werkzeug.security import generate_password_hash as g; print(g('...'))"`).
    # Empty: the page says it is not set up.
    "IDEAS_EDITOR_PASSWORD": "",
    # Where accepting from the page writes the idea (a checkout's
    # content/ideas/, as `invoke ideas --accept` does); empty: the page says
    # to accept from the terminal.
    "IDEAS_CONTENT_DIR": "",
    # Who gets an e-mail for each new proposal (comma-separated), and in
    # which language (it or en).
    "IDEAS_EDITORS_EMAIL": "",
    "IDEAS_EDITORS_LANG": "it",
    # An idea's page on the board, for the links in notifications: {slug}
    # (its content file's) and {id} are filled in; e.g.
    # https://www.officineardesia.example/idee/{slug}/ and, in English,
    # https://www.officineardesia.example/en/ideas/{slug}/ (empty: Italian's).
    "IDEAS_IDEA_URL": "",
    "IDEAS_IDEA_URL_EN": "",
}


class ConfigError(Exception):
    """A setting that can't be used; the message names the variable."""


@dataclass(frozen=True)
class Limits:
    range_votes_per_hour: int
    voter_votes_per_hour: int
    range_proposals_per_day: int
    range_emails_per_day: int


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    sender: str


@dataclass(frozen=True)
class Settings:
    production: bool
    secret: str
    db: Path
    public_path: str
    public_url: str
    confirmed_url: str
    vote_budget: int
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    limits: Limits
    max_body: int
    pow_algorithm: str
    pow_cost: int
    pow_max_number: int
    pow_expires: int
    confirm_max_age: int
    smtp: Smtp | None
    polls_file: Path | None = None
    # The editors' side (services/ideas/moderation.py, notify.py).
    editor_password: str = ""
    content_dir: Path | None = None
    editors_email: tuple[str, ...] = ()
    editors_lang: str = "it"
    idea_url: dict[str, str] = field(default_factory=dict)  # lang: pattern


def _int(env: Mapping[str, str], name: str, minimum: int = 0) -> int:
    value = env[name].strip()
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: not a whole number") from None
    if number < minimum:
        raise ConfigError(f"{name}={number}: must be at least {minimum}")
    return number


def _bool(env: Mapping[str, str], name: str) -> bool:
    value = env[name].strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name}={value!r}: say true or false")


def _networks(env: Mapping[str, str], name: str) -> tuple:
    networks = []
    for item in env[name].split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"{name}: {item.strip()!r} is not an address or network "
                "(e.g. 127.0.0.1 or 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def from_environ(environ: Mapping[str, str]) -> Settings:
    """The settings in ``environ`` (os.environ), checked."""
    env = {**DEFAULTS, **{k: v for k, v in environ.items() if k in DEFAULTS}}
    mode = env["IDEAS_ENV"].strip()
    if mode not in ("production", "development"):
        raise ConfigError(f"IDEAS_ENV={mode!r}: say production or development")
    production = mode == "production"
    secret = env["IDEAS_SECRET"]
    if not secret:
        if production:
            raise ConfigError(
                "IDEAS_SECRET is unset: set it to a long random string "
                "(e.g. `openssl rand -hex 32`) in the service's environment file"
            )
        secret = secrets.token_hex(32)
    elif len(secret) < 32:
        raise ConfigError("IDEAS_SECRET: too short; use at least 32 characters")
    public_path = env["IDEAS_PUBLIC_PATH"].strip()
    if not public_path.startswith("/") or not public_path.endswith("/"):
        raise ConfigError(
            f"IDEAS_PUBLIC_PATH={public_path!r}: must start and end with / "
            "(e.g. /idee-api/)"
        )
    algorithm = env["IDEAS_POW_ALGORITHM"].strip().upper()
    if algorithm not in ("SHA-256", "SHA-384", "SHA-512", "PBKDF2/SHA-256"):
        raise ConfigError(
            f"IDEAS_POW_ALGORITHM={algorithm!r}: use SHA-256, SHA-384, SHA-512 "
            "or PBKDF2/SHA-256"
        )
    smtp = None
    if env["IDEAS_SMTP_HOST"].strip():
        sender = env["IDEAS_SMTP_FROM"].strip()
        if "@" not in sender:
            raise ConfigError(
                "IDEAS_SMTP_FROM: set the sender of confirmation e-mails "
                "(e.g. Officine Ardesia <idee@officineardesia.example>)"
            )
        if not env["IDEAS_PUBLIC_URL"].strip().startswith(("http://", "https://")):
            raise ConfigError(
                "IDEAS_PUBLIC_URL: set the service's public URL (e.g. "
                "https://www.officineardesia.example/idee-api) for the links "
                "in confirmation e-mails"
            )
        smtp = Smtp(
            host=env["IDEAS_SMTP_HOST"].strip(),
            port=_int(env, "IDEAS_SMTP_PORT", 1),
            username=env["IDEAS_SMTP_USERNAME"],
            password=env["IDEAS_SMTP_PASSWORD"],
            starttls=_bool(env, "IDEAS_SMTP_STARTTLS"),
            sender=sender,
        )
    editors = tuple(
        address.strip()
        for address in env["IDEAS_EDITORS_EMAIL"].split(",")
        if address.strip()
    )
    for address in editors:
        if "@" not in address or any(c in address for c in "\r\n<>, "):
            raise ConfigError(
                f"IDEAS_EDITORS_EMAIL: {address!r} is not an e-mail address "
                "(separate several with commas)"
            )
    editors_lang = env["IDEAS_EDITORS_LANG"].strip()
    if editors_lang not in ("it", "en"):
        raise ConfigError(f"IDEAS_EDITORS_LANG={editors_lang!r}: say it or en")
    idea_url = {}
    for lang, name in (("it", "IDEAS_IDEA_URL"), ("en", "IDEAS_IDEA_URL_EN")):
        pattern = env[name].strip() or idea_url.get("it", "")
        if pattern and not pattern.startswith(("http://", "https://")):
            raise ConfigError(
                f"{name}={pattern!r}: an absolute URL, e.g. "
                "https://www.officineardesia.example/idee/{slug}/"
            )
        try:
            pattern.format(slug="x", id=1)
        except (KeyError, IndexError, ValueError):
            raise ConfigError(
                f"{name}={pattern!r}: only {{slug}} and {{id}} may be filled in"
            ) from None
        if pattern:
            idea_url[lang] = pattern
    content_dir = env["IDEAS_CONTENT_DIR"].strip()
    return Settings(
        production=production,
        secret=secret,
        db=Path(env["IDEAS_DB"]).expanduser(),
        public_path=public_path,
        public_url=env["IDEAS_PUBLIC_URL"].strip().rstrip("/"),
        confirmed_url=env["IDEAS_CONFIRMED_URL"].strip(),
        vote_budget=_int(env, "IDEAS_VOTE_BUDGET", 1),
        trusted_proxies=_networks(env, "IDEAS_TRUSTED_PROXIES"),
        limits=Limits(
            range_votes_per_hour=_int(env, "IDEAS_RANGE_VOTES_PER_HOUR", 1),
            voter_votes_per_hour=_int(env, "IDEAS_VOTER_VOTES_PER_HOUR", 1),
            range_proposals_per_day=_int(env, "IDEAS_RANGE_PROPOSALS_PER_DAY", 1),
            range_emails_per_day=_int(env, "IDEAS_RANGE_EMAILS_PER_DAY", 1),
        ),
        max_body=_int(env, "IDEAS_MAX_BODY", 1024),
        pow_algorithm=algorithm,
        pow_cost=_int(env, "IDEAS_POW_COST", 1),
        pow_max_number=_int(env, "IDEAS_POW_MAX_NUMBER", 1),
        pow_expires=_int(env, "IDEAS_POW_EXPIRES", 10),
        confirm_max_age=_int(env, "IDEAS_CONFIRM_MAX_AGE", 60),
        smtp=smtp,
        polls_file=(
            Path(env["IDEAS_POLLS_FILE"].strip()).expanduser()
            if env["IDEAS_POLLS_FILE"].strip()
            else None
        ),
        editor_password=env["IDEAS_EDITOR_PASSWORD"],
        content_dir=Path(content_dir).expanduser() if content_dir else None,
        editors_email=editors,
        editors_lang=editors_lang,
        idea_url=idea_url,
    )
