"""The voter's identity: a random id in a signed cookie, and the signed
link that confirms their e-mail address.

The cookie holds only the id, signed (itsdangerous) with IDEAS_SECRET: a
changed or made-up cookie fails the signature. It is HttpOnly (no script
reads it), SameSite=Strict (no other site's page can vote with it), scoped
to the service's path, and Secure when the request came over https.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "piazza_voter"
# Browsers cap a cookie's life at 400 days.
MAX_AGE = 400 * 86400


class VoterCookies:
    def __init__(self, secret: str, path: str) -> None:
        self._cookies = URLSafeTimedSerializer(secret, salt="piazza-ideas-voter")
        self._links = URLSafeTimedSerializer(secret, salt="piazza-ideas-confirm")
        self.path = path

    def read(self, value: str | None) -> tuple[str | None, bool]:
        """(voter id, forged?) from the cookie's value: no cookie is (None,
        False); one that fails its signature or has expired is (None, True)."""
        if not value:
            return None, False
        try:
            voter = self._cookies.loads(value, max_age=MAX_AGE)
        except BadSignature:
            return None, True
        if not isinstance(voter, str) or not voter:
            return None, True
        return voter, False

    def header(self, voter: str, *, secure: bool) -> str:
        """The Set-Cookie value that gives a browser its voter id."""
        value = self._cookies.dumps(voter)
        attributes = [
            f"{COOKIE}={value}",
            f"Path={self.path}",
            f"Max-Age={MAX_AGE}",
            "HttpOnly",
            "SameSite=Strict",
        ]
        if secure:
            attributes.append("Secure")
        return "; ".join(attributes)

    def clearing(self, *, secure: bool) -> str:
        """The Set-Cookie value that removes a bad cookie."""
        tail = "; Secure" if secure else ""
        return (
            f"{COOKIE}=; Path={self.path}; Max-Age=0; HttpOnly; SameSite=Strict{tail}"
        )

    def confirmation(self, voter: str, email: str) -> str:
        """The token of a confirmation link for ``voter`` and ``email``."""
        return self._links.dumps({"v": voter, "e": email.lower()})

    def confirmed(self, token: str, max_age: int) -> tuple[str, str] | None:
        """(voter, email) from a token, or None if forged or too old."""
        try:
            data = self._links.loads(token, max_age=max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        voter, email = data.get("v"), data.get("e")
        if not isinstance(voter, str) or not isinstance(email, str):
            return None
        return voter, email
