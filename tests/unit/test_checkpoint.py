"""Signed checkpoints as C2SP signed notes, checked against the notes golang.org/x/mod publishes."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.checkpoint import (
    key_id,
    open_checkpoint,
    open_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key_text,
)
from traceability.errors import InvalidEvent
from traceability.transparency import Checkpoint, MerkleTree, leaf_hash

pytestmark = pytest.mark.unit

# Published vectors, values only: golang.org/x/mod sumdb/note/note_test.go (TestSign, TestOpen,
# TestNewVerifier), sumdb/client_test.go (testVerifierKey and a signed tree in TestClientFork),
# gosumcheck/main.go (sum.golang.org's key), at commit fe2ec04f; c2sp.org/signed-note's example.
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpR"
             "Zb6KE6RyyBwJnAM=\n")
ENOCH_SIG = ("\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33W"
             "Wd1RvMc+QQ=\n")
SUMDB_VKEY = "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6"
SUMDB_TREE = ("go.sum database tree\n6\nwc4SkQt52o5W2nQ8To2ARs+mWuUJjss+sdleoiqxMmM=\n\n"
              "\u2014 localhost.localdev/sumdb AAAMZ6oRNswlEZ6ZZhxrCvgl1MBy+nusq4JU+TG6Fe2NihWLqOzb+y2c2kzRLoCr4tvw"
              "9o36ucQEnhc20e4nA4Qc/wc=\n")
GO_SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7"
             "Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")


def _peter_private_key() -> Ed25519PrivateKey:
    # x/mod's private key text: PRIVATE+KEY+<name>+<id>+base64(0x01 || 32-byte seed).
    raw = base64.b64decode(PETER_SKEY.split("+", 4)[4])  # the base64 may hold "+" too
    assert raw[0] == 1
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


PETER = parse_verifier_key(PETER_VKEY)[1]
ENOCH = parse_verifier_key(ENOCH_VKEY)[1]


# Known answers.

def test_signing_the_published_text_gives_the_published_note_byte_for_byte():
    assert sign_note(TEXT, "PeterNeumann", _peter_private_key()) == TEXT + "\n" + PETER_SIG


def test_the_published_note_opens_to_its_text():
    assert open_note(TEXT + "\n" + PETER_SIG, "PeterNeumann", PETER) == TEXT


def test_the_verifier_key_of_the_published_private_key_is_the_published_one():
    public_key = _peter_private_key().public_key()
    assert verifier_key_text("PeterNeumann", public_key) == PETER_VKEY
    assert key_id("PeterNeumann", public_key).hex() == "c74f20a3"


@pytest.mark.parametrize("vkey", [PETER_VKEY, ENOCH_VKEY, SUMDB_VKEY, GO_SUMDB_VKEY, C2SP_VKEY])
def test_a_published_verifier_key_reads_back_to_the_same_text(vkey):
    # The last three carry '+' inside their base64 key.
    assert verifier_key_text(*parse_verifier_key(vkey)) == vkey


def test_the_signed_note_example_of_the_c2sp_spec_opens():
    name, public_key = parse_verifier_key(C2SP_VKEY)
    assert open_note(C2SP_NOTE, name, public_key) == "This is an example message.\n"


def test_a_published_signed_tree_head_opens_as_a_checkpoint():
    name, public_key = parse_verifier_key(SUMDB_VKEY)
    checkpoint = open_checkpoint(SUMDB_TREE, name, public_key)
    assert (checkpoint.origin, checkpoint.size) == ("go.sum database tree", 6)
    assert base64.b64encode(checkpoint.root) == b"wc4SkQt52o5W2nQ8To2ARs+mWuUJjss+sdleoiqxMmM="


# Several keys.

def test_another_keys_line_is_ignored_whichever_comes_first():
    for note in (TEXT + "\n" + PETER_SIG + ENOCH_SIG, TEXT + "\n" + ENOCH_SIG + PETER_SIG):
        assert open_note(note, "PeterNeumann", PETER) == TEXT
        assert open_note(note, "EnochRoot", ENOCH) == TEXT


def test_a_line_with_our_name_but_another_key_id_is_ignored():
    impostor = Ed25519PrivateKey.generate()
    note = sign_note(TEXT, "PeterNeumann", impostor)
    with pytest.raises(InvalidEvent, match="not signed by PeterNeumann"):
        open_note(note, "PeterNeumann", PETER)
    both = note + PETER_SIG
    assert open_note(both, "PeterNeumann", PETER) == TEXT


def test_a_note_signed_only_by_another_key_is_refused():
    with pytest.raises(InvalidEvent, match="not signed by"):
        open_note(TEXT + "\n" + ENOCH_SIG, "PeterNeumann", PETER)


def test_a_witness_can_cosign_a_signed_note_by_adding_its_line():
    log, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    signed = sign_note(TEXT, "lotline.example/log", log)
    cosigned = signed + sign_note(TEXT, "regulator.example/witness", witness).removeprefix(TEXT + "\n")
    assert open_note(cosigned, "lotline.example/log", log.public_key()) == TEXT
    assert open_note(cosigned, "regulator.example/witness", witness.public_key()) == TEXT


# Tampering and malformed notes.

def test_a_note_whose_text_is_changed_fails():
    altered = TEXT.replace("answer", "Answer") + "\n" + PETER_SIG
    with pytest.raises(InvalidEvent, match="does not verify"):
        open_note(altered, "PeterNeumann", PETER)


def test_a_note_whose_signature_is_changed_fails():
    signature = bytearray(base64.b64decode(PETER_SIG.split()[-1]))
    signature[10] ^= 1
    line = f"\u2014 PeterNeumann {base64.b64encode(bytes(signature)).decode()}\n"
    with pytest.raises(InvalidEvent, match="does not verify"):
        open_note(TEXT + "\n" + line, "PeterNeumann", PETER)


def test_a_bad_line_of_our_key_rejects_the_note_even_beside_a_good_one():
    truncated = PETER_SIG[:-12] + "\n"  # still our name and key ID, the signature cut short
    with pytest.raises(InvalidEvent):
        open_note(TEXT + "\n" + PETER_SIG + truncated, "PeterNeumann", PETER)


@pytest.mark.parametrize("note", [
    TEXT + PETER_SIG,  # no blank line
    TEXT + "\n" + PETER_SIG[:-1],  # no final newline
    TEXT + "\n",
    TEXT + "\n\n",
    TEXT + "\n" + PETER_SIG.replace("\u2014", "-"),
    TEXT + "\n" + PETER_SIG.replace("PeterNeumann ", "PeterNeumann"),
    TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"),
    TEXT + "\n" + PETER_SIG.replace("=\n", "!\n"),
    TEXT + "\n" + "\u2014 PeterNeumann AAAA\n",  # shorter than a key ID and a byte
    TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG,
    TEXT.replace("you", "\ud800you", 1) + "\n" + PETER_SIG,  # not encodable as UTF-8
    TEXT + "\n" + PETER_SIG * 101,
])
def test_a_malformed_note_is_an_invalid_event(note):
    with pytest.raises(InvalidEvent):
        open_note(note, "PeterNeumann", PETER)


@pytest.mark.parametrize("vkey", [
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # x/mod: wrong length
    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # x/mod: unknown algorithm
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # another key ID
    "PeterNeumanm+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # another name
    "PeterNeumann+c74f20a3",
    "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
])
def test_a_mangled_verifier_key_is_refused(vkey):
    with pytest.raises(InvalidEvent):
        parse_verifier_key(vkey)


@pytest.mark.parametrize(("text", "name"), [
    ("no final newline", "log"), ("tab\there\n", "log"), ("text\n", ""), ("text\n", "a b"), ("text\n", "a+b"),
])
def test_sign_refuses_what_no_reader_could_open(text, name):
    with pytest.raises(InvalidEvent):
        sign_note(text, name, Ed25519PrivateKey.generate())


# Checkpoints.

def test_a_signed_checkpoint_opens_to_the_same_checkpoint():
    tree = MerkleTree.from_leaf_hashes([leaf_hash(bytes([i])) for i in range(11)])
    checkpoint = Checkpoint("lotline.example/log", tree.size, tree.root())
    key = Ed25519PrivateKey.generate()
    signed = sign_checkpoint(checkpoint, "lotline.example/log", key)
    assert signed.startswith(checkpoint.body() + "\n\u2014 lotline.example/log ")
    assert open_checkpoint(signed, "lotline.example/log", key.public_key()) == checkpoint


def test_a_signed_checkpoint_with_a_changed_size_fails():
    key = Ed25519PrivateKey.generate()
    signed = sign_checkpoint(Checkpoint("lotline.example/log", 11, bytes(32)), "lotline.example/log", key)
    with pytest.raises(InvalidEvent, match="does not verify"):
        open_checkpoint(signed.replace("\n11\n", "\n12\n"), "lotline.example/log", key.public_key())


def test_a_signed_note_that_is_not_a_checkpoint_opens_as_a_note_but_not_as_a_checkpoint():
    assert open_note(TEXT + "\n" + PETER_SIG, "PeterNeumann", PETER) == TEXT
    with pytest.raises(InvalidEvent, match="checkpoint"):
        open_checkpoint(TEXT + "\n" + PETER_SIG, "PeterNeumann", PETER)
