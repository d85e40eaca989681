"""``lotline keys new``, run in-process: a 0600 private key that loads back, a public JWK that
verifies the key's signatures, and no file overwritten without ``--force``."""

from __future__ import annotations

import argparse
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lotline.cli import keys
from schemas import credential
from traceability.errors import BadParameter
from traceability.json_form import parse_event
from traceability.validation import validate

pytestmark = pytest.mark.unit


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="lotline")
    keys.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["keys", "new", *argv])
    return int(args.run(None, args))  # keys need no settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def no_umask():
    """Without a umask, a file the command did not create 0600 would come out 0666 or 0644."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_keys_new_writes_a_0600_pem_and_a_public_jwk(tmp_path, no_umask, capsys):
    assert run("--lab", "LAB-CTI-YW", "--out", str(tmp_path / "cti")) == 0
    pem, jwk_file = tmp_path / "cti.key.pem", tmp_path / "cti.pub.jwk"
    assert mode(pem) == 0o600 and mode(jwk_file) == 0o644
    key, jwk = credential.load_private_pem(pem.read_bytes()), json.loads(jwk_file.read_text())
    assert jwk == credential.public_jwk(key, credential.default_kid("LAB-CTI-YW", key))
    shown = capsys.readouterr().out
    assert jwk["kid"] in shown and str(pem) in shown and str(jwk_file) in shown
    assert json.dumps(jwk, separators=(",", ":")) in shown  # the registry line


def test_the_public_jwk_verifies_a_signature_made_with_the_private_key(tmp_path):
    run("--lab", "LAB-CTI-YW", "--out", str(tmp_path / "cti"), "--kid", "cti-2026")
    key = credential.load_private_pem((tmp_path / "cti.key.pem").read_bytes())
    jwk = json.loads((tmp_path / "cti.pub.jwk").read_text())
    assert jwk["kid"] == "cti-2026"
    token = credential.compact_jws({"alg": "EdDSA", "typ": "vc+jwt", "kid": jwk["kid"]}, b"{}", key)
    assert credential.signature_holds(credential.read(token), jwk)
    assert not credential.signature_holds(credential.read(token), credential.public_jwk(credential.new_key(), "x"))


@pytest.mark.parametrize("existing", ["cti.key.pem", "cti.pub.jwk"])
def test_an_existing_file_is_not_overwritten_without_force(tmp_path, existing):
    (tmp_path / existing).write_bytes(b"keep me")
    with pytest.raises(BadParameter, match="exists; pass --force"):
        run("--lab", "LAB-CTI-YW", "--out", str(tmp_path / "cti"))
    assert (tmp_path / existing).read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]  # nothing half written


def test_force_replaces_a_readable_key_file_with_a_fresh_0600_one(tmp_path, no_umask):
    old = tmp_path / "cti.key.pem"
    old.write_bytes(b"old")
    old.chmod(0o644)
    assert run("--lab", "LAB-CTI-YW", "--out", str(tmp_path / "cti"), "--force") == 0
    assert mode(old) == 0o600
    credential.load_private_pem(old.read_bytes())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cti.key.pem", "cti.pub.jwk"]


def test_an_empty_lab_is_a_bad_parameter(tmp_path):
    with pytest.raises(BadParameter, match="--lab"):
        run("--lab", " ", "--out", str(tmp_path / "cti"))


def test_the_printed_keys_item_pastes_into_a_lab_entry_that_validates(tmp_path, capsys):
    run("--lab", "LAB-CTI-YW", "--out", str(tmp_path / "cti"))
    shown = capsys.readouterr().out
    assert 'under "keys" in lab LAB-CTI-YW' in shown
    item = json.loads(shown.strip().splitlines()[-1])
    jwk = json.loads((tmp_path / "cti.pub.jwk").read_text())
    assert item["kid"] == jwk["kid"] and item["jwk"] == jwk
    assert (item["not_after"], item["revoked_at"], item["revocation_reason"]) == (None, None, "")
    lab = parse_event(json.dumps({"type": "lab", "event_id": "lab-ev-1", "lab_id": "LAB-CTI-YW", "name": "CTI",
                                  "registered_at": item["not_before"], "keys": [item]}))
    [key] = validate(lab, datetime.now(UTC)).keys
    assert key.kid == jwk["kid"] and json.loads(key.jwk) == jwk
