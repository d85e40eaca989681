"""JWT bearer tokens from the deployment's identity provider (DESIGN §5), verified into a ``Principal``.

A deployment behind an identity provider trusts one issuer (``LOTLINE_JWT_ISSUER``) and its key
set (``LOTLINE_JWT_JWKS``: a file, or an http(s) URL). A token is accepted only if:

- its header's ``alg`` is one of the allowed asymmetric algorithms (never ``none``, never an HMAC:
  a public key must not become a shared secret) and its ``kid`` names a key of the issuer's set of
  the type that algorithm needs; the key comes from the set, never from the token;
- its signature verifies (joserfc, with a registry that knows only the allowed algorithms);
- it has ``iss`` (the issuer), ``sub`` and ``exp``; ``exp`` and ``nbf`` hold with ``leeway_seconds``
  of clock skew; ``aud`` names the configured audience, when one is configured;
- its ``role`` claim is one of lab, org, regulator, admin, bound as ``principal_problem`` asks by
  the ``lab``, ``org`` or ``regulator`` claim (an admin's token names none).

The principal is ``jwt:<iss>#<sub>``, named by the ``name`` claim if there is one. Everything
refused is ``Unauthenticated`` with a short reason; no part of the token is repeated.

The key set is kept and fetched again when it is ``max_age_seconds`` old, or when a token names a
kid it does not hold (at most once every ``unknown_kid_seconds``: tokens with made-up kids cannot
make it fetch more often). A failed fetch keeps the set already held.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.error import URLError

import structlog
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jwk import Key, KeySet

from query.params import identifier
from traceability.access import ROLES, Principal, principal_problem
from traceability.errors import BadParameter, SetupError, Unauthenticated, Unavailable

log = structlog.get_logger(__name__)

#: What may sign a token: asymmetric algorithms only.
ASYMMETRIC = frozenset({"EdDSA", "Ed25519", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512",
                        "PS256", "PS384", "PS512"})
#: A key set larger than this is not one (1 MiB).
MAX_JWKS_BYTES = 1 << 20
#: A principal's name, as in ``query.principals``.
MAX_NAME = 200
_KEY_TYPES = frozenset({"OKP", "EC", "RSA"})
_CLAIMS = {"lab": "lab_id", "org": "org_id", "regulator": "regulator_id"}
_REASONS = {"iss": "the token is from another issuer", "aud": "the token is for another audience",
            "nbf": "the token is not valid yet", "iat": "the token was issued in the future"}


class _EdDSA(EdDSAAlgorithm):
    # RFC 9864 deprecates the name "EdDSA" (it covers Ed25519 and Ed448), but it is what identity
    # providers sign with today; the warning would be raised on every request.
    security_warning = None  # type: ignore[assignment]


class _Registry(jws.JWSRegistry):
    """joserfc's algorithms with a quiet EdDSA; each verifier allows only its own (``allowed``)."""

    algorithms = {**jws.JWSRegistry.algorithms, "EdDSA": _EdDSA()}


class Jwks:
    """The issuer's key set, from a file or an http(s) URL, kept and fetched again now and then.

    Thread-safe: one lock holds a fetch and the lookups around it.

    Args:
        location: A file path, or an ``http://`` / ``https://`` URL.
        max_age_seconds: How long a fetched set is used before it is fetched again.
        unknown_kid_seconds: The shortest time between two fetches caused by an unknown kid.
        timeout_seconds: How long a URL may take to answer.
        clock: Monotonic seconds.

    Raises:
        SetupError: ``location`` is a file that cannot be read or holds no usable key set.
    """

    def __init__(self, location: str, *, max_age_seconds: float = 600, unknown_kid_seconds: float = 10,
                 timeout_seconds: float = 5, clock: Callable[[], float] = time.monotonic) -> None:
        self.location = location
        self._url = location.startswith(("http://", "https://"))
        self._max_age, self._unknown_kid = max_age_seconds, unknown_kid_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        if not self._url:
            self._fetch()  # a file is there at start-up or the setting is wrong: say so now

    def key(self, kid: str, algorithm: str) -> Key:
        """The key ``kid`` of the type ``algorithm`` needs.

        Raises:
            Unauthenticated: the set holds no such key, even fetched again.
            Unavailable: the set has never been fetched and cannot be now.
        """
        with self._lock:
            if self._clock() - self._fetched_at >= self._max_age:
                self._fetch()
            found = self._find(kid, algorithm)
            if found is None and self._clock() - self._fetched_at >= self._unknown_kid:
                self._fetch()
                found = self._find(kid, algorithm)
        if found is None:
            raise Unauthenticated("the token's key (kid) is not in the issuer's key set")
        return found

    def _find(self, kid: str, algorithm: str) -> Key | None:
        wanted = _Registry.algorithms[algorithm].key_type
        return next((k for k in self._keys or () if k.kid == kid and k.key_type == wanted), None)

    def _fetch(self) -> None:
        self._fetched_at = self._clock()  # a failure too: the next try waits like a success would
        try:
            self._keys = public_key_set(self._read())
        except (OSError, ValueError, JoseError) as exc:
            reason = str(exc)[:200] or type(exc).__name__
            if self._keys is not None:
                log.warning("jwks_fetch_failed", location=self.location, reason=reason, kept=len(self._keys.keys))
            elif self._url:
                raise Unavailable(reason, service=f"the JWT issuer's key set at {self.location}") from None
            else:
                raise SetupError(f"LOTLINE_JWT_JWKS: {self.location}: not a readable JWK set ({reason})") from None

    def _read(self) -> bytes:
        if not self._url:
            return Path(self.location).read_bytes()[: MAX_JWKS_BYTES + 1]
        request = urllib.request.Request(self.location, headers={"Accept": "application/json"})
        try:
            with _http_only().open(request, timeout=self._timeout) as answer:
                data: bytes = answer.read(MAX_JWKS_BYTES + 1)
        except URLError as exc:  # HTTPError (a 4xx or 5xx answer) is one
            raise OSError(str(exc.reason)) from None
        return data


def _http_only() -> urllib.request.OpenerDirector:
    """An opener without file://, ftp:// or data: handlers: the URL, or a redirect, reaches only an http(s) server."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.HTTPHandler, urllib.request.HTTPSHandler, urllib.request.HTTPRedirectHandler,
                    urllib.request.HTTPDefaultErrorHandler, urllib.request.HTTPErrorProcessor):
        opener.add_handler(handler())
    return opener


def public_key_set(data: bytes) -> KeySet:
    """The asymmetric public keys of a JWK set (``{"keys": [...]}``); private parts and secret
    (``oct``) keys are left out, keys of unknown types skipped (RFC 7517 §5).

    Raises:
        ValueError: not a JWK set of at most ``MAX_JWKS_BYTES``, or no asymmetric key in it.
    """
    if len(data) > MAX_JWKS_BYTES:
        raise ValueError(f"over {MAX_JWKS_BYTES:,} bytes")
    found = json.loads(data)
    if not isinstance(found, dict) or not isinstance(found.get("keys"), list):
        raise ValueError('not a JWK set: {"keys": [...]}')
    usable = [k for k in found["keys"] if isinstance(k, dict) and k.get("kty") in _KEY_TYPES]
    keys = KeySet.import_key_set({"keys": usable}) if usable else KeySet([])
    public = [KeySet.registry_cls.import_key(k.as_dict(private=False)) for k in keys]
    if not public:
        raise ValueError("no OKP, EC or RSA key in it")
    return KeySet(public)


class JwtVerifier:
    """Verifies bearer JWTs of one issuer and makes their principals (see the module's docstring).

    Args:
        issuer: The ``iss`` a token must carry.
        jwks: The issuer's key set.
        audience: The ``aud`` a token must name, if any.
        algorithms: Those a token may be signed with (asymmetric only).
        leeway_seconds: Clock skew allowed on ``exp``, ``nbf`` and ``iat``.
        clock: Seconds since the epoch.

    Raises:
        SetupError: an algorithm is not an asymmetric signature algorithm.
    """

    def __init__(self, issuer: str, jwks: Jwks, *, audience: str | None = None,
                 algorithms: Collection[str] = ("EdDSA", "ES256", "RS256"), leeway_seconds: int = 30,
                 clock: Callable[[], float] = time.time) -> None:
        if wrong := sorted(set(algorithms) - ASYMMETRIC):
            raise SetupError(f"JWT algorithms {wrong} are not accepted (only {', '.join(sorted(ASYMMETRIC))})")
        self.issuer = issuer
        self._jwks = jwks
        self._algorithms = frozenset(algorithms)
        self._registry = _Registry(algorithms=sorted(self._algorithms))
        required: dict[str, Any] = {"iss": {"essential": True, "value": issuer}, "sub": {"essential": True},
                                    "exp": {"essential": True}}
        if audience is not None:
            required["aud"] = {"essential": True, "value": audience}
        self._claims = jwt.JWTClaimsRegistry(now=lambda: int(clock()), leeway=leeway_seconds, **required)

    def verify(self, token: str) -> Principal:
        """The principal a token names.

        Raises:
            Unauthenticated: the token is malformed, signed by no key of the issuer's with an
                allowed algorithm, expired, not valid yet, from another issuer or for another
                audience, or its claims bind no principal.
            Unavailable: the issuer's key set cannot be fetched and none is held.
        """
        algorithm, kid = self._chosen(token)
        key = self._jwks.key(kid, algorithm)
        try:
            claims = jwt.decode(token, key, registry=self._registry).claims
        except BadSignatureError:
            raise Unauthenticated("the token's signature does not verify") from None
        except (JoseError, ValueError):
            raise Unauthenticated("not a valid JWT") from None
        self._check(claims)
        return principal_of(claims)

    def _chosen(self, token: str) -> tuple[str, str]:
        """The token's algorithm and kid, each checked before any key is looked at."""
        header = _header(token)
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            shown = repr(algorithm)[:20] if isinstance(algorithm, str) else "missing"
            raise Unauthenticated(f"token algorithm {shown} is not accepted ({', '.join(sorted(self._algorithms))})")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the token names no key (kid)")
        return algorithm, kid

    def _check(self, claims: dict[str, Any]) -> None:
        try:
            self._claims.validate(claims)
        except ExpiredTokenError:
            raise Unauthenticated("the token has expired") from None
        except MissingClaimError as exc:
            raise Unauthenticated(f"the token lacks the claim(s) {exc.claim}") from None
        except ClaimError as exc:
            raise Unauthenticated(_REASONS.get(exc.claim, f"the token's {exc.claim} claim is not valid")) from None


def principal_of(claims: Mapping[str, Any]) -> Principal:
    """The principal of a verified token's claims: ``jwt:<iss>#<sub>``, its role and party.

    Raises:
        Unauthenticated: the role is missing or unknown, a party claim is not an id, or the
            binding is wrong (``principal_problem``).
    """
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthenticated(f"the token's role claim is not one of {', '.join(ROLES)}")
    parties = {field: _party(claims.get(claim), claim) for claim, field in _CLAIMS.items()}
    name = claims.get("name")
    principal = Principal(f"jwt:{claims['iss']}#{claims['sub']}", role,
                          name=name[:MAX_NAME] if isinstance(name, str) else "", **parties)
    problem = principal_problem(principal)
    if problem is not None:
        raise Unauthenticated(f"the token's claims: {problem}")
    return principal


def _party(value: Any, claim: str) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise Unauthenticated(f"the token's {claim} claim is not a string")
    try:
        return identifier(claim, value)
    except BadParameter as exc:
        raise Unauthenticated(f"the token's {claim} claim: {exc.reason}") from None


def _header(token: str) -> dict[str, Any]:
    part = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError):
        raise Unauthenticated("not a valid JWT (its header is not base64url JSON)") from None
    if not isinstance(header, dict):
        raise Unauthenticated("not a valid JWT (its header is not a JSON object)")
    return header
