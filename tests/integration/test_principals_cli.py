"""`lotline principals add | list | revoke` on the real ClickHouse (18.16 here): every role added,
listed without keys or hashes, its printed key authenticating through ``authenticator_for`` until it
is revoked; a wrong binding refused; and JWTs verified with a key set served over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from query.api_keys import key_hash
from query.jwt_bearer import Jwks, JwtVerifier
from query.principals import COLUMNS, authenticator_for
from traceability.access import Principal
from traceability.errors import Unauthenticated

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:EdDSA is deprecated")]  # tokens signed here

ISSUER = "https://idp.example.org/realms/lotline"
ROLES = {
    "lab": ["--lab", "LAB-CTI-YW", "--name", "CTI Yiwu, report desk"],
    "org": ["--org", "ORG-YIWU-TOYS"],
    "regulator": ["--regulator", "SAMR-ZJ"],
    "admin": ["--name", "ops"],
}


def add(deployment, role: str, *args: str) -> dict[str, Any]:
    done = deployment.lotline("principals", "add", "--role", role, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def listed(deployment) -> list[dict[str, Any]]:
    done = deployment.lotline("principals", "list", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["principals"]


def keys_only(deployment, refresh_seconds: float = 1.0):
    return authenticator_for(deployment.address.client, deployment.settings.database, jwt_issuer=None,
                             jwt_jwks=None, refresh_seconds=refresh_seconds)


def test_every_role_is_added_listed_without_its_key_and_authenticates_until_revoked(deployment):
    made = {role: add(deployment, role, *args) for role, args in ROLES.items()}
    keys = {role: answer.pop("api_key") for role, answer in made.items()}
    assert made["lab"]["party"] == "LAB-CTI-YW" and made["regulator"]["regulator_id"] == "SAMR-ZJ"
    assert all(answer["note"].startswith("shown once") for answer in made.values())

    text = deployment.lotline("principals", "list")
    assert text.returncode == 0, text.stderr
    shown = text.stdout + json.dumps(listed(deployment))
    assert "4 principals, 4 active" in text.stdout and "lab LAB-CTI-YW" in text.stdout
    for role, key in keys.items():
        assert made[role]["principal_id"] in text.stdout
        assert key not in shown and key_hash(key) not in shown and key.removeprefix("lotline_")[:12] not in shown
    assert [p["principal_id"] for p in listed(deployment)] == sorted(a["principal_id"] for a in made.values())

    auth = keys_only(deployment, refresh_seconds=0.2)
    for role, key in keys.items():
        expected = made[role]
        assert auth.authenticate(f"Bearer {key}") == Principal(
            expected["principal_id"], role, expected["lab_id"], expected["org_id"], expected["regulator_id"],
            expected["name"])

    lab_id = made["lab"]["principal_id"]
    revoked = deployment.lotline("principals", "revoke", lab_id)
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked {lab_id} (lab LAB-CTI-YW)" in revoked.stdout
    time.sleep(0.25)  # the authenticator's refresh time
    with pytest.raises(Unauthenticated, match="unknown or revoked"):
        auth.authenticate(f"Bearer {keys['lab']}")
    assert auth.authenticate(f"Bearer {keys['org']}").org_id == "ORG-YIWU-TOYS"
    (lab_row,) = [p for p in listed(deployment) if p["principal_id"] == lab_id]
    assert lab_row["active"] is False and lab_row["revoked_at"] >= lab_row["created_at"]

    again = deployment.lotline("principals", "revoke", lab_id)
    assert again.returncode == 2 and "revoked already" in again.stderr
    nobody = deployment.lotline("principals", "revoke", "p-000000000000")
    assert nobody.returncode == 4 and "no principal 'p-000000000000'" in nobody.stderr


def test_a_key_added_after_the_api_loaded_works_at_once(deployment):
    auth = keys_only(deployment)
    first = add(deployment, "admin")
    assert auth.authenticate(f"Bearer {first['api_key']}").role == "admin"
    time.sleep(0.15)  # past the miss reload time, well within the refresh time
    second = add(deployment, "org", "--org", "ORG-1")
    assert auth.authenticate(f"Bearer {second['api_key']}").principal_id == second["principal_id"]


def test_add_prints_the_key_once_with_what_to_do_with_it(deployment):
    done = deployment.lotline("principals", "add", "--role", "regulator", "--regulator", "SAMR-ZJ",
                              "--name", "Zhejiang market regulator")
    assert done.returncode == 0, done.stderr
    assert "role       regulator SAMR-ZJ" in done.stdout and "name       Zhejiang market regulator" in done.stdout
    (key,) = [line.split()[-1] for line in done.stdout.splitlines() if line.startswith("api key")]
    assert "shown once" in done.stdout and "only its SHA-256 hash" in done.stdout
    assert keys_only(deployment).authenticate(f"Bearer {key}").regulator_id == "SAMR-ZJ"


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "lab"], "lotline: --lab: a lab principal names its lab (pass --lab LAB)"),
    (["--role", "org", "--lab", "LAB-1"], "lotline: --org: an org principal names its org (pass --org ORG)"),
    (["--role", "admin", "--regulator", "SAMR-ZJ"],
     "lotline: --regulator: an admin principal names no lab, org or regulator"),
    (["--role", "lab", "--lab", "LAB 1"], "lotline: --lab: "),
])
def test_a_wrong_binding_is_exit_2_naming_the_option_and_stores_nothing(deployment, args, message):
    done = deployment.lotline("principals", "add", *args)
    assert done.returncode == 2 and done.stderr.startswith(message), done.stderr
    assert "lotline_" not in done.stdout and listed(deployment) == []


def test_an_unknown_role_is_refused_by_the_parser(deployment):
    done = deployment.lotline("principals", "add", "--role", "root")
    assert done.returncode == 2 and "invalid choice: 'root'" in done.stderr


def test_a_deployment_made_before_principals_gets_its_table_on_first_use(deployment):
    deployment.client().execute(f"DROP TABLE {deployment.settings.database}.principals")
    done = deployment.lotline("principals", "list")
    assert done.returncode == 0 and "0 principals, 0 active" in done.stdout, done.stderr
    described = deployment.client().execute(f"DESCRIBE TABLE {deployment.settings.database}.principals")
    assert tuple(row[0] for row in described) == COLUMNS


def test_no_clickhouse_is_exit_3(deployment):
    done = deployment.lotline("principals", "list", LOTLINE_CLICKHOUSE_URL="clickhouse://127.0.0.1:9/x")
    assert done.returncode == 3 and done.stderr.startswith("lotline: cannot reach ClickHouse"), done.stderr


# -- JWTs with the issuer's key set served over HTTP -------------------------------------------


class KeySetServer:
    """An identity provider's JWKS endpoint on a loopback port, counting its fetches."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.failing = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                owner.fetches += 1
                status, body = (500, b"down") if owner.failing else (200, json.dumps({"keys": owner.keys}).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/realms/lotline/certs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def idp() -> Iterator[KeySetServer]:
    server = KeySetServer()
    yield server
    server.close()


def token(key: OKPKey, kid: str, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "u-42", "aud": "lotline-api", "exp": now + 300, "role": "org",
            "org": "ORG-YIWU-TOYS", **claims}
    return jwt.encode({"alg": "EdDSA", "kid": kid}, body, key, algorithms=["EdDSA"])


def test_jwts_and_api_keys_authenticate_side_by_side_with_the_key_set_fetched_once(deployment, idp):
    signing = OKPKey.generate_key("Ed25519", parameters={"kid": "idp-2026"})
    idp.keys = [signing.as_dict(private=False)]
    key = add(deployment, "admin")["api_key"]
    auth = authenticator_for(deployment.address.client, deployment.settings.database, jwt_issuer=ISSUER,
                             jwt_jwks=idp.url, jwt_audience="lotline-api")
    assert idp.fetches == 0  # a URL is fetched when the first token comes

    for _ in range(3):
        found = auth.authenticate(f"Bearer {token(signing, 'idp-2026')}")
        assert found == Principal(f"jwt:{ISSUER}#u-42", "org", org_id="ORG-YIWU-TOYS")
    assert idp.fetches == 1
    assert auth.authenticate(f"Bearer {key}").role == "admin"
    with pytest.raises(Unauthenticated, match="another audience"):
        auth.authenticate(f"Bearer {token(signing, 'idp-2026', aud='another-api')}")


def test_a_rotated_key_is_fetched_for_its_unknown_kid_and_a_failing_endpoint_keeps_the_set(idp):
    old, new = (OKPKey.generate_key("Ed25519", parameters={"kid": kid}) for kid in ("idp-2026", "idp-2027"))
    idp.keys = [old.as_dict(private=False)]
    now = [0.0]
    check = JwtVerifier(ISSUER, Jwks(idp.url, clock=lambda: now[0]))
    assert check.verify(token(old, "idp-2026")).role == "org" and idp.fetches == 1

    idp.keys.append(new.as_dict(private=False))
    now[0] = 10.0
    assert check.verify(token(new, "idp-2027")).org_id == "ORG-YIWU-TOYS" and idp.fetches == 2

    idp.failing = True
    now[0] = 700.0  # the set is old: fetched again, the answer is a 500, the keys held stay
    assert check.verify(token(new, "idp-2027")).role == "org" and idp.fetches == 3
