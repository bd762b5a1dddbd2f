"""Proof of work before a vote or a proposal: the verifier the app calls.

The interface is two calls: :meth:`Verifier.challenge` (a fresh challenge,
as JSON, for ``GET /challenge``) and :meth:`Verifier.verify` (the client's
solution; a :class:`Spent` receipt, or rules.Refused). The receipt's
signature is recorded in the write's own transaction (store._spend), so a
solution pays for one write only, even when the same one is sent twice at
once.

:class:`Altcha` implements it with ALTCHA's v2 protocol (the ``altcha``
library, self-hosted: no third party): the challenge is signed with a key
derived from IDEAS_SECRET, so the service keeps no state until a solution
is spent; the work is to find a random counter up to IDEAS_POW_MAX_NUMBER.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

import altcha

from services.ideas.rules import Refused

MAX_PAYLOAD = 4096


@dataclass(frozen=True)
class Spent:
    """A verified solution: what marks it spent, and until when it matters."""

    signature: str
    expires: float


class Verifier(Protocol):
    def challenge(self) -> dict: ...

    def verify(self, payload: object) -> Spent: ...


class Altcha:
    """ALTCHA v2 challenges, signed with a key derived from the secret."""

    def __init__(
        self,
        secret: str,
        *,
        algorithm: str = "SHA-256",
        cost: int = 1,
        max_number: int = 50000,
        expires: int = 600,
    ) -> None:
        self._key = hashlib.sha256(f"piazza-ideas-pow:{secret}".encode()).hexdigest()
        self.algorithm = algorithm
        self.cost = cost
        self.max_number = max_number
        self.expires = expires

    def challenge(self) -> dict:
        made = altcha.create_challenge(
            self.algorithm,
            self.cost,
            counter=secrets.randbelow(self.max_number + 1),
            expires_at=int(time.time()) + self.expires,
            hmac_secret=self._key,
        )
        return made.to_dict()

    def verify(self, payload: object) -> Spent:
        if not isinstance(payload, str) or not payload:
            raise Refused(
                "pow_missing",
                "altcha: a solved proof-of-work challenge is required "
                "(GET challenge, solve it, send it as altcha)",
                403,
            )
        if len(payload) > MAX_PAYLOAD:
            raise Refused("pow_invalid", "altcha: too long", 403)
        try:
            parsed = altcha.Payload.from_base64(payload)
        except (ValueError, KeyError, TypeError, RecursionError):
            raise Refused("pow_invalid", "altcha: not an ALTCHA payload", 403) from None
        expires = parsed.challenge.parameters.expires_at
        if not isinstance(expires, int):
            raise Refused("pow_invalid", "altcha: the challenge has no expiry", 403)
        try:
            result = altcha.verify_solution(parsed, self._key)
        except (ValueError, TypeError):
            raise Refused("pow_invalid", "altcha: not an ALTCHA payload", 403) from None
        if result.expired:
            raise Refused(
                "pow_expired", "altcha: the challenge expired; ask for a new one", 403
            )
        if not result.verified:
            raise Refused(
                "pow_invalid", "altcha: the solution does not solve the challenge", 403
            )
        return Spent(str(parsed.challenge.signature), float(expires))


def solve(challenge: dict) -> str:
    """A solution to ``challenge`` as the browser widget would send it (for
    tests, benchmarks and scripts that talk to the service)."""
    parsed = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(parsed)
    if solution is None:
        raise RuntimeError("could not solve the challenge in time")
    return altcha.Payload(parsed, solution).to_base64()
