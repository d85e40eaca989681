"""Principals without a server: API keys and their hash, the store's checks on a fake client, the
authenticator's snapshot (refresh, revocation, a key added a moment ago) on an injected clock, and
JWT bearer tokens verified against a JWK set file made here."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clickhouse_driver.errors import NetworkError
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, OKPKey

from query.api_keys import KEY_PREFIX, key_hash, new_key
from query.authentication import Authenticator
from query.jwt_bearer import Jwks, JwtVerifier, public_key_set
from query.principals import Change, PrincipalStore, UnknownPrincipal, authenticator_for, fold, principal_json
from traceability.access import PUBLIC, Principal
from traceability.errors import BadParameter, ClickHouseUnavailable, SetupError, Unauthenticated, Unavailable

pytestmark = [pytest.mark.unit, pytest.mark.filterwarnings("ignore:EdDSA is deprecated")]  # the tests' own signing

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ISSUER = "https://idp.example.org/realms/lotline"
LAB = Principal("p-lab", "lab", lab_id="LAB-CTI-YW", name="CTI Yiwu")
ORG = Principal("p-org", "org", org_id="ORG-YIWU-TOYS")


class Clock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Loader:
    """A fake ``PrincipalStore.by_key_hash``: what it returns can change between loads, as the table does."""

    def __init__(self, principals: dict[str, Principal]) -> None:
        self.principals = dict(principals)
        self.loads = 0
        self.fail: Exception | None = None

    def __call__(self) -> dict[str, Principal]:
        self.loads += 1
        if self.fail is not None:
            raise self.fail
        return dict(self.principals)


# -- keys --------------------------------------------------------------------------------------


def test_a_new_key_is_the_prefix_and_256_random_bits_in_base64url():
    key = new_key()
    assert key.startswith(KEY_PREFIX) and "." not in key
    body = key.removeprefix(KEY_PREFIX)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body)
    assert len(base64.urlsafe_b64decode(body + "=")) == 32


def test_keys_never_repeat():
    assert len({new_key() for _ in range(2000)}) == 2000


def test_the_stored_hash_is_the_hex_sha256_of_the_key():
    key = new_key()
    assert key_hash(key) == hashlib.sha256(key.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", key_hash(key)) and key_hash(key) != key_hash(new_key())


# -- the table's rows folded -------------------------------------------------------------------


def change(pid: str, kind: str, at: datetime, role: str = "lab", lab: str = "LAB-1", key: str = "h1") -> Change:
    return Change(pid, kind, role, lab, "", "", "", key, at)  # type: ignore[arg-type]


def test_a_principal_is_its_added_row_and_its_first_revocation():
    later = NOW + timedelta(hours=1)
    rows = [change("p-1", "revoked", later + timedelta(hours=1)), change("p-1", "added", NOW),
            change("p-1", "revoked", later), change("p-2", "added", NOW, key="h2")]
    folded = fold(rows)
    assert list(folded) == ["p-1", "p-2"]
    (first, h1), (second, h2) = folded["p-1"], folded["p-2"]
    assert first.principal == Principal("p-1", "lab", lab_id="LAB-1")
    assert (first.created_at, first.revoked_at) == (NOW, later)
    assert not first.active and second.active and (h1, h2) == ("h1", "h2")


def test_a_revocation_of_nobody_added_is_ignored():
    assert fold([change("p-x", "revoked", NOW)]) == {}


def test_the_listing_json_carries_no_key_and_no_hash():
    row, hashed = fold([change("p-1", "added", NOW, key="abc123")])["p-1"]
    shown = principal_json(row)
    assert shown["party"] == "LAB-1" and shown["active"] is True and shown["created_at"] == "2026-11-20T12:00:00Z"
    assert "abc123" not in json.dumps(shown) and not {"key", "key_sha256", "api_key"} & shown.keys()


# -- the store, on a fake client ---------------------------------------------------------------


class FakeClient:
    """Answers the store's two statements (its SELECT and its INSERT) from a list of rows."""

    TYPES = [("principal_id", "String"), ("change", "String"), ("role", "String"), ("lab_id", "String"),
             ("org_id", "String"), ("regulator_id", "String"), ("name", "String"), ("key_sha256", "String"),
             ("at_seconds", "UInt32")]

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def execute(self, sql: str, params: Any = None, **options: Any) -> Any:
        if sql.startswith("INSERT"):
            self.rows.extend(params)
            return None
        values = [[*(r[n] for n, _ in self.TYPES[:-1]), int(r["at"].timestamp())] for r in self.rows]
        return [list(column) for column in zip(*values, strict=True)], self.TYPES

    def disconnect(self) -> None:
        pass


@pytest.fixture
def table() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def store(table) -> PrincipalStore:
    client = FakeClient(table)
    return PrincipalStore(lambda: client, "lotline")


def test_add_stores_the_hash_of_the_key_it_returns_and_never_the_key(store, table):
    principal, key = store.add("lab", lab_id="LAB-CTI-YW", name="CTI Yiwu", now=NOW)
    assert re.fullmatch(r"p-[0-9a-f]{12}", principal.principal_id)
    assert principal == Principal(principal.principal_id, "lab", lab_id="LAB-CTI-YW", name="CTI Yiwu")
    (row,) = table
    assert row["key_sha256"] == key_hash(key) and key not in json.dumps(row, default=str)
    assert row["change"] == "added" and row["at"] == NOW
    assert store.by_key_hash() == {key_hash(key): principal}


@pytest.mark.parametrize(("role", "parties", "field", "reason"), [
    ("lab", {}, "lab_id", "a lab principal names its lab"),
    ("org", {"lab_id": "LAB-1"}, "org_id", "an org principal names its org"),
    ("regulator", {"regulator_id": "SAMR-ZJ", "org_id": "ORG-1"}, "org_id",
     "a regulator principal names its regulator"),
    ("admin", {"lab_id": "LAB-1"}, "lab_id", "an admin principal names no lab, org or regulator"),
    ("superuser", {}, "role", "'superuser' is not one of lab, org, regulator, admin"),
    ("lab", {"lab_id": "LAB 1"}, "lab_id", None),
])
def test_add_refuses_a_wrong_binding_naming_the_argument(store, table, role, parties, field, reason):
    with pytest.raises(BadParameter) as refused:
        store.add(role, now=NOW, **parties)
    assert refused.value.field == field and table == []
    assert reason is None or refused.value.reason == reason


def test_add_refuses_a_name_of_more_than_one_line(store):
    with pytest.raises(BadParameter, match="name"):
        store.add("admin", name="ops\nroot", now=NOW)


def test_revoke_adds_a_revoked_row_and_the_key_leaves_the_snapshot(store, table):
    principal, key = store.add("org", org_id="ORG-1", now=NOW)
    row = store.revoke(principal.principal_id, now=NOW + timedelta(minutes=5))
    assert row.revoked_at == NOW + timedelta(minutes=5) and table[-1]["change"] == "revoked"
    assert table[-1]["key_sha256"] == key_hash(key)
    assert store.by_key_hash() == {} and [r.active for r in store.list()] == [False]


def test_revoking_an_unknown_or_revoked_principal_is_an_error(store):
    with pytest.raises(UnknownPrincipal, match="p-nobody"):
        store.revoke("p-nobody", now=NOW)
    principal, _ = store.add("admin", now=NOW)
    store.revoke(principal.principal_id, now=NOW)
    with pytest.raises(BadParameter, match="revoked already"):
        store.revoke(principal.principal_id, now=NOW)


def test_a_server_that_cannot_be_reached_is_clickhouse_unavailable_and_the_client_is_dropped():
    class Down(FakeClient):
        def execute(self, sql: str, params: Any = None, **options: Any) -> Any:
            raise NetworkError("Connection refused (127.0.0.1:9000)")

    made: list[FakeClient] = []
    store = PrincipalStore(lambda: made.append(Down([])) or made[-1], "lotline")
    for _ in range(2):
        with pytest.raises(ClickHouseUnavailable, match="Connection refused"):
            store.by_key_hash()
    assert len(made) == 2  # a failed connection is not reused


# -- the authenticator -------------------------------------------------------------------------


def authenticator(loader: Loader, clock: Clock, **options: Any) -> Authenticator:
    return Authenticator(loader, refresh_seconds=1.0, clock=clock, **options)


def test_no_header_is_the_public_and_loads_nothing():
    loader = Loader({})
    assert authenticator(loader, Clock()).authenticate(None) is PUBLIC
    assert loader.loads == 0


def test_a_known_key_is_its_principal_and_the_snapshot_is_reused_within_the_refresh_time():
    key, clock = new_key(), Clock()
    loader = Loader({key_hash(key): LAB})
    auth = authenticator(loader, clock)
    assert auth.authenticate(f"Bearer {key}") == LAB
    clock.advance(0.9)
    assert auth.authenticate(f"bearer  {key} ") == LAB  # the scheme is case-insensitive (RFC 7235)
    assert loader.loads == 1
    clock.advance(0.1)
    assert auth.authenticate(f"Bearer {key}") == LAB and loader.loads == 2


def test_a_revoked_key_stops_working_within_the_refresh_time():
    key, clock = new_key(), Clock()
    loader = Loader({key_hash(key): LAB})
    auth = authenticator(loader, clock)
    auth.authenticate(f"Bearer {key}")
    del loader.principals[key_hash(key)]  # revoked just after the load
    clock.advance(0.99)
    assert auth.authenticate(f"Bearer {key}") == LAB  # the snapshot is not a second old yet
    clock.advance(0.01)
    with pytest.raises(Unauthenticated, match="unknown or revoked API key"):
        auth.authenticate(f"Bearer {key}")


def test_a_key_added_a_moment_ago_works_after_one_immediate_reload():
    known, added, clock = new_key(), new_key(), Clock()
    loader = Loader({key_hash(known): LAB})
    auth = authenticator(loader, clock)
    auth.authenticate(f"Bearer {known}")
    loader.principals[key_hash(added)] = ORG
    clock.advance(0.05)
    with pytest.raises(Unauthenticated):  # the snapshot is too young to reload for a miss
        auth.authenticate(f"Bearer {added}")
    clock.advance(0.06)
    assert auth.authenticate(f"Bearer {added}") == ORG and loader.loads == 2


def test_unknown_keys_reload_at_most_once_every_tenth_of_a_second():
    clock, loader = Clock(), Loader({})
    auth = authenticator(loader, clock)
    for _ in range(100):
        with pytest.raises(Unauthenticated):
            auth.authenticate(f"Bearer {new_key()}")
        clock.advance(0.01)
    assert loader.loads == 10  # one per 0.1 s, not one per guess


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token lotline_abc",
                                    "Bearer a b", "Bearer lotline_ab\x00cd", "Bearer " + "A" * 20_000])
def test_a_malformed_header_is_unauthenticated_and_not_echoed(header):
    loader = Loader({})
    with pytest.raises(Unauthenticated) as refused:
        authenticator(loader, Clock()).authenticate(header)
    assert str(refused.value) == "expected 'Authorization: Bearer <API key or token>'" and loader.loads == 0


def test_an_unknown_key_is_refused_without_echoing_it():
    key = new_key()
    with pytest.raises(Unauthenticated) as refused:
        authenticator(Loader({}), Clock()).authenticate(f"Bearer {key}")
    assert key not in str(refused.value) and key.removeprefix(KEY_PREFIX) not in str(refused.value)


def test_a_token_with_no_issuer_configured_is_refused():
    with pytest.raises(Unauthenticated, match="no issuer configured"):
        authenticator(Loader({}), Clock()).authenticate("Bearer aaa.bbb.ccc")


def test_a_failed_load_raises_and_the_next_call_tries_again():
    key, clock = new_key(), Clock()
    loader = Loader({key_hash(key): LAB})
    loader.fail = Unavailable("connection refused", "ClickHouse")
    auth = authenticator(loader, clock)
    with pytest.raises(Unavailable):
        auth.authenticate(f"Bearer {key}")
    loader.fail = None
    assert auth.authenticate(f"Bearer {key}") == LAB and loader.loads == 2


def test_threads_share_one_snapshot():
    key, clock = new_key(), Clock()
    loader = Loader({key_hash(key): LAB})
    auth = authenticator(loader, clock)
    found: list[Principal] = []
    threads = [threading.Thread(target=lambda: found.extend(auth.authenticate(f"Bearer {key}") for _ in range(200)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [LAB] * 1600 and loader.loads == 1


# -- JWT bearer tokens -------------------------------------------------------------------------

T0 = 1_795_000_000  # seconds since the epoch: "now" for the verifier


@pytest.fixture
def signing_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": "idp-2026"})


@pytest.fixture
def jwks_file(tmp_path, signing_key) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [signing_key.as_dict(private=False)]}))
    return path


def claims(**changes: Any) -> dict[str, Any]:
    found = {"iss": ISSUER, "sub": "u-42", "aud": "lotline-api", "exp": T0 + 300, "iat": T0 - 5, "role": "lab",
             "lab": "LAB-CTI-YW", "name": "Li Wei"}
    return {k: v for k, v in {**found, **changes}.items() if v is not None}


def token(key: Any, alg: str = "EdDSA", kid: str | None = "idp-2026", **changes: Any) -> str:
    header = {"alg": alg, **({"kid": kid} if kid is not None else {})}
    return jwt.encode(header, claims(**changes), key, algorithms=[alg])


def verifier(path: Path, clock: Clock | None = None, **options: Any) -> JwtVerifier:
    keys = Jwks(str(path), clock=clock or Clock())
    return JwtVerifier(ISSUER, keys, clock=lambda: T0, **options)


def unsigned(header: dict[str, Any], body: dict[str, Any], signature: bytes = b"") -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    return ".".join([part(json.dumps(header).encode()), part(json.dumps(body).encode()), part(signature)])


def test_a_good_token_is_its_subject_with_its_role_and_lab(jwks_file, signing_key):
    found = verifier(jwks_file, audience="lotline-api").verify(token(signing_key))
    assert found == Principal(f"jwt:{ISSUER}#u-42", "lab", lab_id="LAB-CTI-YW", name="Li Wei")


def test_verifying_an_eddsa_token_raises_no_deprecation_warning(jwks_file, signing_key):
    signed = token(signing_key)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verifier(jwks_file).verify(signed)


def test_a_token_goes_through_the_authenticator(jwks_file, signing_key):
    auth = Authenticator(Loader({}), jwt=verifier(jwks_file), clock=Clock())
    assert auth.authenticate(f"Bearer {token(signing_key, role='admin', lab=None)}").role == "admin"


@pytest.mark.parametrize(("changes", "reason"), [
    ({"exp": T0 - 31}, "the token has expired"),
    ({"nbf": T0 + 31}, "the token is not valid yet"),
    ({"iat": T0 + 60}, "the token was issued in the future"),
    ({"iss": "https://evil.example.org"}, "the token is from another issuer"),
    ({"aud": "another-api"}, "the token is for another audience"),
    ({"aud": None}, "the token lacks the claim(s) aud"),
    ({"exp": None}, "the token lacks the claim(s) exp"),
    ({"sub": None}, "the token lacks the claim(s) sub"),
    ({"iss": None}, "the token lacks the claim(s) iss"),
    ({"role": None}, "the token's role claim is not one of lab, org, regulator, admin"),
    ({"role": "superuser"}, "the token's role claim is not one of"),
    ({"lab": None}, "the token's claims: a lab principal names its lab"),
    ({"org": "ORG-1"}, "the token's claims: a lab principal names its lab"),
    ({"role": "admin"}, "the token's claims: an admin principal names no lab, org or regulator"),
    ({"lab": ["LAB-1"]}, "the token's lab claim is not a string"),
    ({"lab": "LAB 1"}, "the token's lab claim:"),
])
def test_a_token_whose_claims_do_not_hold_is_refused(jwks_file, signing_key, changes, reason):
    with pytest.raises(Unauthenticated) as refused:
        verifier(jwks_file, audience="lotline-api").verify(token(signing_key, **changes))
    assert str(refused.value).startswith(reason)


def test_times_within_the_leeway_are_accepted(jwks_file, signing_key):
    assert verifier(jwks_file).verify(token(signing_key, exp=T0 - 29, nbf=T0 + 29)).role == "lab"


def test_without_an_audience_configured_aud_is_not_required(jwks_file, signing_key):
    assert verifier(jwks_file).verify(token(signing_key, aud=None)).lab_id == "LAB-CTI-YW"


def test_a_token_signed_by_another_key_with_the_same_kid_is_refused(jwks_file):
    impostor = OKPKey.generate_key("Ed25519", parameters={"kid": "idp-2026"})
    with pytest.raises(Unauthenticated, match="signature does not verify"):
        verifier(jwks_file).verify(token(impostor))


def test_an_altered_payload_is_refused(jwks_file, signing_key):
    header, _, signature = token(signing_key).split(".")
    forged = unsigned({}, claims(role="admin", lab=None)).split(".")[1]
    with pytest.raises(Unauthenticated, match="signature does not verify"):
        verifier(jwks_file).verify(f"{header}.{forged}.{signature}")


def test_alg_none_is_refused(jwks_file):
    with pytest.raises(Unauthenticated, match="algorithm 'none' is not accepted"):
        verifier(jwks_file).verify(unsigned({"alg": "none", "kid": "idp-2026"}, claims()))


def test_hs256_with_the_public_key_as_secret_is_refused(jwks_file, signing_key):
    public = json.dumps(signing_key.as_dict(private=False)).encode()
    for secret in (public, signing_key.as_dict(private=False)["x"].encode()):
        forged = jwt.encode({"alg": "HS256", "kid": "idp-2026"}, claims(), OctKey.import_key(secret),
                            algorithms=["HS256"])
        with pytest.raises(Unauthenticated, match="algorithm 'HS256' is not accepted"):
            verifier(jwks_file, algorithms=("EdDSA",)).verify(forged)


def test_hmac_or_none_cannot_be_allowed(jwks_file):
    for algorithms in (("HS256",), ("EdDSA", "none")):
        with pytest.raises(SetupError, match="not accepted"):
            verifier(jwks_file, algorithms=algorithms)


def test_an_allowed_algorithm_with_a_key_of_another_type_is_refused(jwks_file, signing_key):
    ec = ECKey.generate_key("P-256", parameters={"kid": "idp-2026"})
    with pytest.raises(Unauthenticated, match="not in the issuer's key set"):
        verifier(jwks_file).verify(token(ec, alg="ES256"))


def test_a_token_without_a_kid_or_with_a_garbled_header_is_refused(jwks_file, signing_key):
    with pytest.raises(Unauthenticated, match="names no key"):
        verifier(jwks_file).verify(token(signing_key, kid=None))
    with pytest.raises(Unauthenticated, match="header is not base64url JSON"):
        verifier(jwks_file).verify("!!!.e30.AA")
    with pytest.raises(Unauthenticated, match="not a JSON object"):
        verifier(jwks_file).verify(unsigned([], {}))  # type: ignore[arg-type]


def test_an_unknown_kid_fetches_the_set_again_but_not_more_than_every_ten_seconds(jwks_file, signing_key):
    clock = Clock()
    check = verifier(jwks_file, clock)
    rotated = OKPKey.generate_key("Ed25519", parameters={"kid": "idp-2027"})
    jwks_file.write_text(json.dumps({"keys": [signing_key.as_dict(private=False), rotated.as_dict(private=False)]}))
    clock.advance(5)
    with pytest.raises(Unauthenticated, match="not in the issuer's key set"):  # fetched 5 s ago: not again
        check.verify(token(rotated, kid="idp-2027"))
    clock.advance(5)
    assert check.verify(token(rotated, kid="idp-2027")).role == "lab"


def test_the_set_is_fetched_again_when_it_is_ten_minutes_old(jwks_file, signing_key):
    clock = Clock()
    check = verifier(jwks_file, clock)
    jwks_file.write_text(json.dumps({"keys": [OKPKey.generate_key("Ed25519").as_dict(private=False)]}))
    assert check.verify(token(signing_key)).role == "lab"
    clock.advance(600)
    with pytest.raises(Unauthenticated):  # the old key left the set
        check.verify(token(signing_key))


def test_a_set_that_cannot_be_read_again_keeps_the_keys_held(jwks_file, signing_key):
    clock = Clock()
    check = verifier(jwks_file, clock)
    jwks_file.write_text("not json")
    clock.advance(600)
    assert check.verify(token(signing_key)).role == "lab"


def test_the_key_set_keeps_only_public_asymmetric_keys(signing_key):
    private = OKPKey.generate_key("Ed25519", parameters={"kid": "leaked"})
    secret = OctKey.generate_key(256, parameters={"kid": "hmac"})
    data = json.dumps({"keys": [private.as_dict(private=True), secret.as_dict(private=True),
                                {"kty": "ML-DSA", "kid": "pq"}, signing_key.as_dict(private=False)]}).encode()
    kept = public_key_set(data)
    assert [k.kid for k in kept] == ["leaked", "idp-2026"]
    assert all("d" not in k.as_dict(private=False) and not k.is_private for k in kept)


@pytest.mark.parametrize("content", ["", "{}", '{"keys": []}', '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "[1]"])
def test_a_jwks_file_without_public_keys_is_a_setup_error(tmp_path, content):
    path = tmp_path / "jwks.json"
    path.write_text(content)
    with pytest.raises(SetupError, match="LOTLINE_JWT_JWKS"):
        Jwks(str(path))


def test_a_missing_jwks_file_is_a_setup_error(tmp_path):
    with pytest.raises(SetupError, match="not a readable JWK set"):
        Jwks(str(tmp_path / "absent.json"))


def test_an_unreachable_jwks_url_with_no_keys_held_is_unavailable(signing_key):
    keys = Jwks("http://127.0.0.1:9/jwks.json", timeout_seconds=1)  # port 9 (discard): nothing listens
    check = JwtVerifier(ISSUER, keys, clock=lambda: T0)
    with pytest.raises(Unavailable, match="key set"):
        check.verify(token(signing_key))


@pytest.mark.parametrize(("issuer", "jwks"), [(ISSUER, None), (None, "/etc/jwks.json")])
def test_an_issuer_without_its_key_set_or_the_reverse_is_a_setup_error(issuer, jwks):
    with pytest.raises(SetupError, match="both an issuer and its key set"):
        authenticator_for(lambda: None, "lotline", jwt_issuer=issuer, jwt_jwks=jwks)
