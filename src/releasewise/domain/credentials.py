"""Formats of the secrets releasewise hands out: API tokens, session ids, links.

Secrets are random, shown once, and stored only as SHA-256 digests. A fast hash
is right here (unlike passwords): the secrets carry 256 bits of entropy, so
there is nothing to brute-force, and lookups must be cheap on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "rwt"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ParsedToken:
    public_id: str
    secret: str


def format_api_token(public_id: str, secret: str) -> str:
    """``rwt_<public id>_<secret>``: the public id finds the row, the secret proves it."""
    return f"{TOKEN_PREFIX}_{public_id}_{secret}"


def parse_api_token(raw: str) -> ParsedToken | None:
    """Split a presented token, or return None if it cannot be one of ours."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    public_id, secret = parts[1], parts[2]
    if not (8 <= len(public_id) <= 32 and public_id.isalnum()):
        return None
    if not (20 <= len(secret) <= 100):
        return None
    return ParsedToken(public_id, secret)


def new_public_id() -> str:
    return secrets.token_hex(6)
