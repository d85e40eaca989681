"""Who is calling: a request's ``Authorization`` header turned into a ``Principal`` (DESIGN §5).

- No header: the public (``PUBLIC``), who may verify reports and read the log.
- ``Bearer <API key>``: the principal whose key hashes to it, in a snapshot of the principals not
  revoked. The snapshot is reloaded when it is ``refresh_seconds`` old, so a revocation holds
  within that time; on a miss it is reloaded at once if it is over ``miss_reload_seconds`` old, so
  a key added a moment ago works, and keys guessed at random cannot make it reload more than ten
  times a second.
- ``Bearer <JWT>`` (three dot-separated parts): the principal the ``JwtVerifier`` finds in it, when
  the deployment trusts an issuer.
- Anything else: ``Unauthenticated`` with a short reason that never repeats the credential.

A failed reload raises (``ClickHouseUnavailable``: HTTP 503) rather than answer from a snapshot
that may still hold a revoked key; requests without a credential need no snapshot at all.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping

from query.api_keys import key_hash
from query.jwt_bearer import JwtVerifier
from traceability.access import PUBLIC, Principal
from traceability.errors import Unauthenticated

#: RFC 6750 §2.1: ``Bearer`` (any case), then a b64token; 16 KiB bounds what is hashed or parsed.
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9._~+/-]{1,16384}=*)")
_EXPECTED = "expected 'Authorization: Bearer <API key or token>'"


class Authenticator:
    """Turns ``Authorization`` headers into principals; thread-safe (FastAPI calls it from its thread pool).

    Args:
        load: Reads every principal not revoked, by the hash of its key (``PrincipalStore.by_key_hash``).
        refresh_seconds: The oldest snapshot used (how long a revoked key may still work).
        jwt: Verifies JWT bearer tokens; ``None``: tokens are refused.
        clock: Monotonic seconds.
        miss_reload_seconds: A key not in a snapshot this old or older reloads it once at once.
    """

    def __init__(self, load: Callable[[], Mapping[str, Principal]], *, refresh_seconds: float = 1.0,
                 jwt: JwtVerifier | None = None, clock: Callable[[], float] = time.monotonic,
                 miss_reload_seconds: float = 0.1) -> None:
        self._load = load
        self._refresh = refresh_seconds
        self._miss_reload = min(miss_reload_seconds, refresh_seconds)
        self._jwt = jwt
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: Mapping[str, Principal] = {}
        self._loaded_at: float | None = None

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller an ``Authorization`` header names (``PUBLIC`` without one).

        Raises:
            Unauthenticated: the header is not ``Bearer`` and a credential, the key is unknown or
                revoked, or the token does not verify.
            ClickHouseUnavailable: the principals could not be reloaded.
        """
        if authorization is None:
            return PUBLIC
        found = _BEARER.fullmatch(authorization.strip())
        if found is None:
            raise Unauthenticated(_EXPECTED)
        credential = found.group(1)
        if credential.count(".") == 2:
            return self._token(credential)
        return self._key(credential)

    def _key(self, key: str) -> Principal:
        hashed = key_hash(key)
        with self._lock:
            if self._age() >= self._refresh:
                self._reload()
            principal = self._snapshot.get(hashed)
            if principal is None and self._age() >= self._miss_reload:
                self._reload()
                principal = self._snapshot.get(hashed)
        if principal is None:
            raise Unauthenticated("unknown or revoked API key")
        return principal

    def _token(self, token: str) -> Principal:
        if self._jwt is None:
            raise Unauthenticated("bearer tokens are not accepted here (no issuer configured); use an API key")
        return self._jwt.verify(token)

    def _age(self) -> float:
        return float("inf") if self._loaded_at is None else self._clock() - self._loaded_at

    def _reload(self) -> None:
        started = self._clock()  # what the snapshot is as fresh as: a change after the read began may be missing
        self._snapshot = dict(self._load())
        self._loaded_at = started
