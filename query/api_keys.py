"""API keys (DESIGN §5): their form and the hash that is stored in their place.

A key is ``lotline_`` and 43 base64url characters: 256 random bits from ``secrets``. The prefix
says what the string is wherever it turns up (a log, a commit, a secret scanner's rule); base64url
has no dots, so a key is never taken for a JWT. Only ``key_hash(key)`` is stored: with 256 random
bits a fast unsalted hash is right (nothing to guess from a dictionary, nothing to slow down).
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "lotline_"
#: 256 random bits.
KEY_BYTES = 32


def new_key() -> str:
    """A new API key: ``lotline_`` and 256 random bits, base64url."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def key_hash(key: str) -> str:
    """The hex SHA-256 of an API key: what is stored and looked up, never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()
