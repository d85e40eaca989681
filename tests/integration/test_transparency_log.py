"""The transparency log served from a real deployment: checkpoints, proofs, the witness's check.

Entries go straight to partition 0 of the deployment's log topic (some of them twice, as an
at-least-once producer would send them), a worker stores them, and then every answer is held to
an oracle that shares nothing with the reader: the leaves are the distinct entries in order of
first send, and the roots are those of ``MerkleTree.from_leaf_hashes`` over them. Proofs from
the API are checked with the verifiers against the root of a signed checkpoint opened with the
log's verifier key, the way a witness would.

Then the stored log is tampered with in ClickHouse (``ALTER TABLE ... UPDATE`` and ``DELETE``
are mutations on 18.16's MergeTree): an entry's verdict flipped, an entry dropped, the log
truncated. Each time ``lotline log check`` of a checkpoint saved before must fail, and the
altered entry's inclusion proof must not verify against that checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaProducer

from deploy.log_key import log_key
from query.api import create_api
from query.log_api import log_router
from query.transparency import LogReader, LogSigner
from schemas.checkpoint import open_checkpoint, parse_verifier_key, verifier_key_text
from schemas.credential import new_key
from traceability.ledger import ReportFacts
from traceability.log_entries import key_entries, report_entry
from traceability.registry import SigningKey
from traceability.transparency import Checkpoint, MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from traceability.trust import Judgement

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
ORIGIN = "lotline/log"  # the settings' default, which the CLI uses too


def _report(i: int, verdict: str = "pass") -> bytes:
    facts = ReportFacts(f"LOT-{i % 37:03d}", "LAB-LOG", f"RPT-LOG-{i:04d}", 1, verdict, f"ev-log-{i:04d}",
                        "GB 6675.4-2014", START + timedelta(minutes=i), None, origin=f"report {i}".encode())
    return report_entry(facts, Judgement("unsigned", "lab_unknown", verdict))


def _key(i: int) -> list[bytes]:
    jwk = json.dumps({"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(bytes([i % 256]) * 32).decode()})
    revoked = START + timedelta(days=1) if i % 2 else None
    return key_entries("LAB-LOG", SigningKey(f"LAB-LOG-k{i}", jwk, START, None, revoked, "rotated" if revoked else ""))


def _batch(first: int, count: int, rng: random.Random, earlier: list[bytes]) -> list[bytes]:
    """``count`` new entries (reports, now and then a key's), with about one in ten sent twice."""
    entries: list[bytes] = []
    for i in range(first, first + count):
        entries += _key(i) if i % 25 == 0 else [_report(i)]
        if rng.random() < 0.1:  # a redelivery: the same bytes again, later
            entries.append(rng.choice(earlier + entries))
    return entries


def _send(deployment, entries: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=deployment.infra.kafka_bootstrap, linger_ms=5)
    try:
        for entry in entries:
            producer.send(deployment.topics.log, value=entry, partition=0)
        producer.flush()
    finally:
        producer.close()


def _leaves(sent: list[bytes]) -> list[bytes]:
    """The oracle: distinct entries in order of first send, as leaf hashes."""
    return [leaf_hash(e) for e in dict.fromkeys(sent)]


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _api(deployment, reader: LogReader) -> TestClient:
    signer = LogSigner(ORIGIN, log_key(deployment.settings.log_key_file))
    api = create_api(deployment.services())
    api.include_router(log_router(lambda: reader, signer))
    return TestClient(api, raise_server_exceptions=False)


def _reader(deployment) -> LogReader:
    return LogReader(deployment.address.client, deployment.settings.database, origin=ORIGIN)


def _signed_checkpoint(api: TestClient) -> Checkpoint:
    note = api.get("/v1/log/checkpoint")
    assert note.status_code == 200 and note.headers["content-type"] == "text/plain; charset=utf-8"
    name, public_key = parse_verifier_key(api.get("/v1/log/key").text)
    checkpoint = open_checkpoint(note.text, name, public_key)
    assert checkpoint.origin == name == ORIGIN
    return checkpoint


def _proven_entry(api: TestClient, index: int, checkpoint: Checkpoint) -> bool:
    """Whether leaf ``index``'s stored bytes verify, by the API's proof, under ``checkpoint``."""
    entry = api.get(f"/v1/log/entries/{index}").json()
    proof = api.get("/v1/log/proof/inclusion", params={"index": index, "size": checkpoint.size}).json()
    return verify_inclusion(leaf_hash(_b64(entry["entry_b64"])), index, checkpoint.size,
                            [_b64(p) for p in proof["proof"]], checkpoint.root)


def _mutate(deployment, sql: str, params: dict) -> None:
    """An ALTER ... UPDATE/DELETE on ``log_entries``, waited for (18.16 has no ``mutations_sync``)."""
    client, db = deployment.client(), deployment.settings.database
    client.execute(f"ALTER TABLE {db}.log_entries {sql}", params)
    deadline = time.monotonic() + 60
    while client.execute("SELECT count() FROM system.mutations WHERE database = %(db)s AND table = 'log_entries' "
                         "AND is_done = 0", {"db": db})[0][0]:
        assert time.monotonic() < deadline, "a mutation did not finish in 60 s"
        time.sleep(0.1)


def _first_offset(deployment, entry: bytes) -> int:
    return deployment.client().execute(
        f"SELECT min(log_offset) FROM {deployment.settings.database}.log_entries WHERE log_partition = 0 "
        "AND entry_sha256 = %(sha)s", {"sha": hashlib.sha256(entry).hexdigest()})[0][0]


def _check(deployment, saved: Path, *more: str):
    return deployment.lotline("log", "check", str(saved), *more)


def test_the_served_log_proves_every_entry_and_extends_its_saved_checkpoints_until_history_is_altered(
        deployment, tmp_path):
    rng = random.Random(9162)
    deployment.start_worker()
    first = _batch(0, 200, rng, [])
    _send(deployment, first)
    deployment.sync()

    reader = _reader(deployment)
    api = _api(deployment, reader)
    leaves = _leaves(first)
    assert reader.size() == len(leaves) < len(first)  # repeats are one leaf
    saved_path = tmp_path / "saved.checkpoint"
    made = deployment.lotline("log", "checkpoint", "--out", str(saved_path))
    assert made.returncode == 0, made.stderr
    saved = _signed_checkpoint(api)
    assert saved == open_checkpoint(saved_path.read_text(), ORIGIN, log_key(deployment.settings.log_key_file)
                                    .public_key())
    assert saved.root == MerkleTree.from_leaf_hashes(leaves).root()
    assert all(_proven_entry(api, i, saved) for i in range(saved.size))
    stated = api.get("/v1/log/proof/inclusion", params={"index": 0, "size": saved.size}).json()["root"]
    assert _b64(stated) == saved.root

    second = _batch(200, 150, rng, first)
    _send(deployment, second)
    deployment.sync()
    leaves = _leaves(first + second)
    later = _signed_checkpoint(api)  # the same reader, refreshed by what is new
    oracle = MerkleTree.from_leaf_hashes(leaves)
    assert (later.size, later.root) == (len(leaves), oracle.root())
    assert all(_proven_entry(api, i, later) for i in range(later.size))
    for old in sorted({1, 2, 3, 7, 8, 64, 100, saved.size - 1, saved.size, later.size - 1, later.size}):
        body = api.get("/v1/log/proof/consistency", params={"old": old, "new": later.size}).json()
        assert (body["old_root"], body["new_root"]) == (base64.b64encode(oracle.root(old)).decode(),
                                                        base64.b64encode(later.root).decode())
        assert verify_consistency(old, later.size, oracle.root(old), later.root, [_b64(p) for p in body["proof"]])

    vkey = tmp_path / "log.vkey"
    vkey.write_text(api.get("/v1/log/key").text + "\n")
    for args in ((), ("--key", str(vkey))):
        done = _check(deployment, saved_path, *args)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"the log extends the saved checkpoint (size {saved.size} -> {later.size})"
    stranger = tmp_path / "stranger.vkey"
    stranger.write_text(verifier_key_text(ORIGIN, new_key().public_key()))
    done = _check(deployment, saved_path, "--key", str(stranger))
    assert done.returncode == 1 and "does not verify" in done.stderr and "not signed by" in done.stderr

    proof = deployment.lotline("log", "proof", "ev-log-0005")
    assert proof.returncode == 0, proof.stderr
    assert "verified" in proof.stdout and "report_id=RPT-LOG-0005" in proof.stdout
    assert deployment.lotline("log", "proof", "ev-not-logged").returncode == 4

    # An entry's verdict flipped in storage, its sha256 column updated to match.
    victim = 57
    genuine = _report(victim)
    forged = _report(victim, verdict="fail")
    offset = _first_offset(deployment, genuine)
    index = api.get("/v1/log/proof/inclusion", params={"event_id": "ev-log-0057"}).json()["index"]
    assert index == leaves.index(leaf_hash(genuine)) < saved.size
    _mutate(deployment, "UPDATE entry = %(forged)s, entry_sha256 = %(sha)s WHERE log_partition = 0 "
            "AND log_offset = %(offset)s", {"forged": forged.decode(), "sha": hashlib.sha256(forged).hexdigest(),
                                            "offset": offset})
    done = _check(deployment, saved_path)
    assert done.returncode == 1, done.stdout
    assert "does not extend the saved checkpoint" in done.stderr and "altered" in done.stderr
    restarted = _api(deployment, _reader(deployment))  # a server started after the forgery
    assert not _proven_entry(restarted, index, saved)
    assert not _proven_entry(api, index, saved)  # the running server still proves the genuine leaf: not these bytes
    assert api.get(f"/v1/log/entries/{index}").json()["entry"]["verdict"] == "fail"
    _mutate(deployment, "UPDATE entry = %(genuine)s, entry_sha256 = %(sha)s WHERE log_partition = 0 "
            "AND log_offset = %(offset)s", {"genuine": genuine.decode(), "sha": hashlib.sha256(genuine).hexdigest(),
                                            "offset": offset})
    assert _check(deployment, saved_path).returncode == 0  # the genuine bytes again: the same history

    # An entry dropped (every copy of it), then the log truncated below the saved size.
    dropped = _report(11)
    _mutate(deployment, "DELETE WHERE entry_sha256 = %(sha)s", {"sha": hashlib.sha256(dropped).hexdigest()})
    done = _check(deployment, saved_path)
    assert done.returncode == 1 and "does not verify against the saved root" in done.stderr, done.stderr
    _mutate(deployment, "DELETE WHERE log_offset >= %(offset)s", {"offset": _first_offset(deployment, _report(101))})
    done = _check(deployment, saved_path)
    assert done.returncode == 1 and "truncated" in done.stderr, done.stderr


def test_log_requests_malformed_beyond_the_log_or_unknown_are_answered_with_the_field_or_a_404(deployment):
    deployment.start_worker()
    _send(deployment, [_report(i) for i in range(5)])
    deployment.sync()
    api = _api(deployment, _reader(deployment))

    def field(response) -> list:
        assert response.status_code == 422, response.text
        return [d["loc"] for d in response.json()["detail"]]

    def beyond(response, named: str) -> None:  # past what the log holds: nothing there (yet), like an unknown id
        assert response.status_code == 404, response.text
        assert response.json()["detail"].startswith(named), response.text

    beyond(api.get("/v1/log/entries/5"), "index 5")
    assert field(api.get("/v1/log/entries/-1")) == [["path", "index"]]
    assert field(api.get("/v1/log/entries/one")) == [["path", "index"]]
    beyond(api.get("/v1/log/proof/inclusion", params={"index": 5}), "index 5")
    beyond(api.get("/v1/log/proof/inclusion", params={"index": 0, "size": 6}), "size 6")
    beyond(api.get("/v1/log/proof/inclusion", params={"index": 3, "size": 3}), "index 3")
    assert field(api.get("/v1/log/proof/inclusion")) == [["query", "index"]]
    assert field(api.get("/v1/log/proof/inclusion", params={"index": 1, "event_id": "ev-log-0001"})) == [
        ["query", "index"]]
    beyond(api.get("/v1/log/proof/inclusion", params={"event_id": "ev-log-0004", "size": 4}), "size 4")
    assert field(api.get("/v1/log/proof/inclusion", params={"event_id": "bad id"})) == [["query", "event_id"]]
    assert field(api.get("/v1/log/proof/consistency", params={"old": 0})) == [["query", "old"]]
    beyond(api.get("/v1/log/proof/consistency", params={"old": 3, "new": 2}), "old 3")
    beyond(api.get("/v1/log/proof/consistency", params={"old": 1, "new": 6}), "new 6")
    unknown = api.get("/v1/log/proof/inclusion", params={"event_id": "ev-not-logged"})
    assert unknown.status_code == 404 and "ev-not-logged" in unknown.json()["detail"]

    entry = api.get("/v1/log/entries/4").json()
    assert set(entry) == {"index", "entry", "entry_b64", "leaf_hash"}
    assert _b64(entry["entry_b64"]) == _report(4) and entry["entry"]["event_id"] == "ev-log-0004"
    assert entry["leaf_hash"] == leaf_hash(_report(4)).hex()
    by_event = api.get("/v1/log/proof/inclusion", params={"event_id": "ev-log-0004"}).json()
    assert set(by_event) == {"index", "size", "leaf_hash", "root", "proof"}
    assert (by_event["index"], by_event["size"], by_event["leaf_hash"]) == (4, 5, entry["leaf_hash"])
    consistency = api.get("/v1/log/proof/consistency", params={"old": 2}).json()
    assert set(consistency) == {"old", "new", "old_root", "new_root", "proof"} and consistency["new"] == 5
