"""The pure parts of serving the log: the witness's check, the signer, the JSON shapes, the key file.

The check is exercised with real trees and real proofs (no fake): a log that only grew extends
every checkpoint it had; one whose history changed, shrank or is another log does not.
"""

from __future__ import annotations

import base64
import os
import stat
import threading

import pytest

from deploy.log_key import log_key
from query.log_api import consistency_json, entry_json, inclusion_json
from query.log_check import check_extension
from query.transparency import ConsistencyProof, InclusionProof, LogEntry, LogSigner
from schemas import credential
from schemas.checkpoint import open_checkpoint, parse_verifier_key
from traceability.errors import SetupError
from traceability.transparency import EMPTY_ROOT, Checkpoint, MerkleTree, leaf_hash

pytestmark = pytest.mark.unit
ORIGIN = "trace.example.org/log"


def tree(entries: list[bytes]) -> MerkleTree:
    return MerkleTree.from_leaf_hashes(leaf_hash(e) for e in entries)


def head(t: MerkleTree, size: int | None = None, origin: str = ORIGIN) -> Checkpoint:
    size = t.size if size is None else size
    return Checkpoint(origin, size, t.root(size))


ENTRIES = [f'{{"event_id":"ev-{i}","kind":"report_version"}}'.encode() for i in range(40)]


@pytest.mark.parametrize("old", [1, 2, 3, 5, 8, 13, 32, 39])
def test_a_log_that_only_grew_extends_every_checkpoint_it_had(old):
    grown = tree(ENTRIES)
    extension = check_extension(head(grown, old), head(grown), grown.consistency_proof(old))
    assert (extension.holds, extension.old_size, extension.new_size, extension.reason) == (True, old, 40, "")


@pytest.mark.parametrize("changed", [0, 6, 19])
def test_a_log_whose_history_changed_does_not_extend_a_checkpoint_saved_before(changed):
    saved = head(tree(ENTRIES), 20)
    forged = tree([*ENTRIES[:changed], b'{"verdict":"fail"}', *ENTRIES[changed + 1:]])
    extension = check_extension(saved, head(forged), forged.consistency_proof(20))
    assert not extension.holds and "does not verify against the saved root" in extension.reason


def test_a_dropped_entry_or_a_reordering_is_an_altered_history():
    saved = head(tree(ENTRIES), 20)
    for later in (ENTRIES[:7] + ENTRIES[8:], [ENTRIES[1], ENTRIES[0], *ENTRIES[2:]]):
        t = tree(later)
        assert not check_extension(saved, head(t), t.consistency_proof(20)).holds


def test_a_log_smaller_than_the_saved_checkpoint_was_truncated():
    extension = check_extension(head(tree(ENTRIES)), head(tree(ENTRIES[:30])), [])
    assert not extension.holds and "truncated" in extension.reason and (extension.old_size, extension.new_size) == (
        40, 30)


def test_at_equal_sizes_the_roots_decide_and_no_proof_is_needed():
    same = head(tree(ENTRIES))
    assert check_extension(same, same, []).holds
    other = head(tree([*ENTRIES[:39], b"{}"]))
    assert "altered" in check_extension(same, other, []).reason


def test_the_empty_tree_is_extended_by_any_log_but_a_false_empty_checkpoint_is_not():
    assert check_extension(Checkpoint(ORIGIN, 0, EMPTY_ROOT), head(tree(ENTRIES)), []).holds
    assert not check_extension(Checkpoint(ORIGIN, 0, b"\x01" * 32), head(tree(ENTRIES)), []).holds


def test_a_checkpoint_of_another_log_is_never_extended():
    t = tree(ENTRIES)
    extension = check_extension(head(t, 10, origin="elsewhere.example/log"), head(t), t.consistency_proof(10))
    assert not extension.holds and "elsewhere.example/log" in extension.reason


def test_a_proof_for_other_sizes_does_not_pass_for_these():
    t = tree(ENTRIES)
    assert not check_extension(head(t, 10), head(t), t.consistency_proof(11)).holds


def test_the_signer_signs_under_its_origin_and_its_verifier_key_opens_the_note():
    signer = LogSigner(ORIGIN, credential.new_key())
    checkpoint = head(tree(ENTRIES))
    name, public_key = parse_verifier_key(signer.verifier_key())
    assert name == ORIGIN and open_checkpoint(signer.sign(checkpoint), name, public_key) == checkpoint
    with pytest.raises(ValueError, match="signed as"):
        signer.sign(head(tree(ENTRIES), origin="elsewhere.example/log"))


def test_answers_carry_exact_bytes_in_base64_leaf_hashes_in_hex_and_roots_as_checkpoints_state_them():
    t = tree(ENTRIES)
    leaf = leaf_hash(ENTRIES[3])
    assert entry_json(LogEntry(3, ENTRIES[3], leaf)) == {
        "index": 3, "entry": {"event_id": "ev-3", "kind": "report_version"},
        "entry_b64": base64.b64encode(ENTRIES[3]).decode(), "leaf_hash": leaf.hex()}
    assert entry_json(LogEntry(0, b"\xff not json", leaf))["entry"] is None
    proof = inclusion_json(InclusionProof(3, 40, leaf, t.root(), tuple(t.inclusion_proof(3))))
    assert proof["root"] == head(t).body().split("\n")[2]
    assert [base64.b64decode(p) for p in proof["proof"]] == t.inclusion_proof(3)
    shown = consistency_json(ConsistencyProof(5, 40, t.root(5), t.root(), tuple(t.consistency_proof(5))))
    assert (shown["old"], shown["new"], len(shown["proof"])) == (5, 40, len(t.consistency_proof(5)))


def test_the_log_key_is_made_once_with_mode_0600_and_then_read(tmp_path):
    path = tmp_path / "state" / "log.key.pem"
    made = log_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert log_key(path).public_key().public_bytes_raw() == made.public_key().public_bytes_raw()
    assert [p.name for p in path.parent.iterdir()] == ["log.key.pem"]  # no temporary file left


def test_processes_starting_together_agree_on_one_log_key(tmp_path):
    path = tmp_path / "log.key.pem"
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(log_key(path).public_key().public_bytes_raw()))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1


def test_a_missing_readable_by_others_or_foreign_key_file_is_a_setup_error(tmp_path):
    path = tmp_path / "log.key.pem"
    with pytest.raises(SetupError, match="no log signing key"):
        log_key(path, create=False)
    assert not path.exists()
    log_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(SetupError, match="can be read by others"):
        log_key(path)
    path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not a key")
    os.close(fd)
    with pytest.raises(SetupError, match="not an unencrypted PKCS#8 PEM"):
        log_key(path)
