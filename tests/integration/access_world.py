"""A small world of competitors and their regulators on one real deployment, for the access tests.

Parties: a pigment maker and a toy maker in Zhejiang, a German distributor and a French retailer
that received the toy lot, an unrelated French maker; two labs; the regulators of Germany,
Zhejiang and the US; an admin; the public. Batches (``PIG-1`` went into ``TOY-1``, which went into
the gift box ``BOX-1``; ``OTH-1`` is unrelated), four reports, one principal per party, and a JWT
issuer with its key set in a file.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import OKPKey

from query.audit import audit_records
from query.principals import authenticator_for
from tests.integration.chains import RECENT
from tests.integration.conftest import Deployment, _deploy, _dismantle
from traceability.audit import AuditRecord

BATCHES = ("PIG-1", "TOY-1", "BOX-1", "OTH-1")
NOBODY_BATCH = "NON-1"  # as long as every batch id: an unknown answer has the same length
LABS_REPORTS = {"R-PIG": "LAB-PIG", "R-TOY": "LAB-TOY", "R-BOX": "LAB-TOY", "R-OTH": "LAB-TOY"}
NOBODY_REPORT = "R-NON"
ISSUER = "https://id.example.org"

#: Caller name -> (role, party field, party).
PRINCIPALS = {
    "admin": ("admin", "", ""),
    "toy maker": ("org", "org_id", "ORG-TOY"),
    "pigment maker": ("org", "org_id", "ORG-PIG"),
    "distributor": ("org", "org_id", "ORG-DIST"),
    "stranger": ("org", "org_id", "ORG-X"),
    "DE regulator": ("regulator", "regulator_id", "REG-DE"),
    "ZJ regulator": ("regulator", "regulator_id", "REG-ZJ"),
    "US regulator": ("regulator", "regulator_id", "REG-US"),
    "pigment lab": ("lab", "lab_id", "LAB-PIG"),
    "toy lab": ("lab", "lab_id", "LAB-TOY"),
}


def _t(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _registry() -> list[dict[str, Any]]:
    at = "2026-01-01T00:00:00Z"
    orgs = [("ORG-PIG", "Yiwu Pigments", "CN", "CN-ZJ"), ("ORG-TOY", "Yiwu Toys", "CN", "CN-ZJ"),
            ("ORG-DIST", "Hamburg Distribution", "DE", ""), ("ORG-RET", "Lyon Retail", "FR", ""),
            ("ORG-X", "Paris Makers", "FR", ""), ("ORG-SHOP", "Paris Shop", "FR", "")]
    regulators = [("REG-DE", ["DE"]), ("REG-ZJ", ["CN-ZJ"]), ("REG-US", ["US"])]
    return [
        *({"type": "organisation", "event_id": f"org-{org}", "org_id": org, "name": name, "country": country,
           "subdivision": sub, "roles": ["manufacturer"], "registered_at": at} for org, name, country, sub in orgs),
        *({"type": "regulator", "event_id": f"reg-{reg}", "regulator_id": reg, "name": reg, "jurisdiction": areas,
           "recognises_mra_signatories": True, "recognised_bodies": [], "required_qualifications": [],
           "registered_at": at} for reg, areas in regulators),
    ]


def _production(batch: str, org: str, source: str) -> dict[str, Any]:
    return {"type": "production", "event_id": f"prod-{batch}", "org_id": org, "site": "site",
            "occurred_at": _t(RECENT), "inputs": [{"batch_id": source, "quantity": 10.0, "unit": "kg"}],
            "outputs": [{"batch_id": batch, "product_id": f"SKU-{batch}", "quantity": 200.0, "unit": "ea"}]}


def shipment_json(event_id: str, batch: str, sender: str, recipient: str, quantity: float, country: str
                  ) -> dict[str, Any]:
    return {"type": "shipment", "event_id": event_id, "shipment_id": event_id.upper(), "batch_id": batch,
            "quantity": quantity, "unit": "ea", "from_org": sender, "to_org": recipient, "to_location": "a warehouse",
            "to_country": country, "occurred_at": _t(RECENT + timedelta(hours=2))}


def result_json(event_id: str, report_id: str, lab: str, batch: str, verdict: str) -> dict[str, Any]:
    value = 120.0 if verdict == "fail" else 12.0
    return {"type": "lab_result", "event_id": event_id, "report_id": report_id, "report_version": 1, "lab_id": lab,
            "batch_id": batch, "sample_id": f"S-{batch}", "method": "GB 6675.4-2014", "verdict": verdict,
            "tested_at": _t(RECENT), "issued_at": _t(RECENT + timedelta(hours=1)),
            "measurements": [{"analyte": "Pb (soluble)", "value": value, "unit": "mg/kg", "limit": 90.0,
                              "verdict": verdict}]}


def _chain() -> list[dict[str, Any]]:
    return [
        _production("PIG-1", "ORG-PIG", "RAW-P"), _production("TOY-1", "ORG-TOY", "PIG-1"),
        _production("BOX-1", "ORG-TOY", "TOY-1"), _production("OTH-1", "ORG-X", "RAW-X"),
        {**shipment_json("shp-de", "TOY-1", "ORG-TOY", "ORG-DIST", 100.0, "DE")},
        {**shipment_json("shp-fr", "TOY-1", "ORG-TOY", "ORG-RET", 50.0, "FR")},
        {**shipment_json("shp-box", "BOX-1", "ORG-TOY", "ORG-RET", 20.0, "FR")},
        {**shipment_json("shp-oth", "OTH-1", "ORG-X", "ORG-SHOP", 5.0, "FR")},
        result_json("res-pig", "R-PIG", "LAB-PIG", "PIG-1", "fail"),
        result_json("res-toy", "R-TOY", "LAB-TOY", "TOY-1", "pass"),
        result_json("res-box", "R-BOX", "LAB-TOY", "BOX-1", "pass"),
        result_json("res-oth", "R-OTH", "LAB-TOY", "OTH-1", "pass"),
    ]


class _Counting(TestClient):
    """A test client that counts the requests it makes (the audit log must hold each one)."""

    made: list[int]

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.made[0] += 1
        return super().request(*args, **kwargs)


@dataclass
class World:
    dep: Deployment
    root: Path
    signing: Ed25519PrivateKey
    keys: dict[str, str] = field(default_factory=dict)
    made: list[int] = field(default_factory=lambda: [0])
    _services: Any = None
    _app: Any = None

    @property
    def app(self) -> Any:
        return self._app

    def api(self, caller: str) -> TestClient:
        return self.api_with(self.keys.get(caller))

    def api_with(self, credential: str | None) -> TestClient:
        client = _Counting(self._app, raise_server_exceptions=False)
        client.made = self.made
        if credential is not None:
            client.headers["Authorization"] = f"Bearer {credential}"
        return client

    def key(self, role: str, party: str) -> str:
        field_ = {"lab": "lab_id", "org": "org_id", "regulator": "regulator_id"}.get(role)
        return self.dep.key(role, **({field_: party} if field_ else {}))

    def revoke(self, key: str) -> None:
        from query.principals import PrincipalStore, key_hash

        store = PrincipalStore(self.dep.address.client, self.dep.settings.database)
        principal = store.by_key_hash()[key_hash(key)]
        store.revoke(principal.principal_id, now=datetime.now(UTC))

    def token(self, claims: dict[str, Any], *, expires: datetime, forged: bool = False, issuer: str = ISSUER) -> str:
        signing = Ed25519PrivateKey.generate() if forged else self.signing
        key = OKPKey.import_key(signing, {"kid": "idp-1"})
        now = int(time.time())
        body = {"iss": issuer, "sub": f"user-{claims.get('org', 'x')}", "iat": now - 60,
                "exp": int(expires.timestamp()), **claims}
        return jwt.encode({"alg": "EdDSA", "kid": "idp-1"}, body, key, algorithms=["EdDSA"])

    def shipment(self, event_id: str, sender: str, recipient: str) -> dict[str, Any]:
        return shipment_json(event_id, "TOY-1", sender, recipient, 1.0, "DE")

    def result(self, event_id: str, lab: str) -> dict[str, Any]:
        return result_json(event_id, f"R-{event_id}", lab, "TOY-1", "pass")

    def sync(self) -> None:
        self.dep.sync()

    def event_ids(self) -> set[str]:
        client = self.dep.client()
        db = self.dep.settings.database
        rows = client.execute(f"SELECT event_id FROM {db}.shipments UNION ALL SELECT event_id FROM {db}.lab_results "
                              f"UNION ALL SELECT event_id FROM {db}.rejects")
        return {row[0] for row in rows}

    def requests_made(self) -> int:
        return self.made[0]

    def flush_audit(self) -> None:
        assert self._services.audit_writer.flush(30)

    def audit_records(self) -> list[AuditRecord]:
        return audit_records(self.dep.client(), self.dep.settings.database, principal=None, since=None, limit=None)

    def lotline_audit(self, *args: str) -> list[str]:
        done = self.dep.lotline("audit", *args)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    def close(self) -> None:
        _dismantle(self.dep)


def build_world(infra: Any, root: Path) -> World:
    from query.api import create_api
    from query.log_api import log_router
    from query.transparency import LogReader, LogSigner

    dep = _deploy(infra, root)
    dep.start_worker()
    path = root / "world.jsonl"
    path.write_text("\n".join(json.dumps(item) for item in _registry() + _chain()) + "\n")
    done = dep.lotline("publish", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    dep.sync()
    dep.serving()  # built: every current answer of the world comes from the serving store
    signing = Ed25519PrivateKey.generate()
    jwks = root / "jwks.json"
    jwks.write_text(json.dumps({"keys": [OKPKey.import_key(signing.public_key(), {"kid": "idp-1"}).as_dict()]}))
    authenticator = authenticator_for(dep.address.client, dep.settings.database, jwt_issuer=ISSUER,
                                      jwt_jwks=str(jwks), refresh_seconds=0.2)
    world = World(dep, root, signing)
    world._services = dep.services(authenticator=authenticator)
    log = LogReader(dep.address.client, dep.settings.database, origin="lotline/log")
    world._app = create_api(world._services,
                            log_routes=log_router(lambda: log, LogSigner("lotline/log", Ed25519PrivateKey.generate())))
    for name, (role, _field, party) in PRINCIPALS.items():
        world.keys[name] = world.key(role, party)
    return world
