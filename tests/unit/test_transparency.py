"""The transparency log's Merkle tree against published RFC 6962/9162 vectors and an RFC oracle."""

from __future__ import annotations

import ast
import base64
import hashlib
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traceability import transparency
from traceability.errors import BadParameter, InvalidEvent
from traceability.transparency import (
    EMPTY_ROOT,
    Checkpoint,
    MerkleTree,
    leaf_hash,
    node_hash,
    parse_checkpoint_body,
    verify_consistency,
    verify_inclusion,
)

pytestmark = pytest.mark.unit

# Published vectors, values only. RFC 6962 and RFC 9162 hash alike, so they hold for both.
# The 8-leaf test tree, its level-0 hashes and its roots: transparency-dev/merkle,
# testonly/constants.go (LeafInputs, NodeHashes, RootHashes); the same tree as in
# google/certificate-transparency-go's merkletree tests.
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
LEAF_HASHES = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
)]
ROOTS = [bytes.fromhex(h) for h in (  # by tree size, 0..8
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
NODES_LEVEL_1 = [bytes.fromhex(h) for h in (
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
)]


def _hexes(*values: str) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


# Inclusion and consistency proofs: transparency-dev/merkle cmd/proofgen/main.go (inclusionProofs,
# consistencyProofs; the generator of its testdata/ probes), at commit 417fb0c3. Its leaf indexes
# are 1-based; here they are 0-based, as in its testdata/inclusion/*/happy-path.json.
INCLUSION_PROOFS = [  # (index, size, proof)
    (0, 1, []),
    (0, 8, _hexes(
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    )),
    (5, 8, _hexes(
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    )),
    (2, 3, _hexes("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (1, 5, _hexes(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    )),
]
CONSISTENCY_PROOFS = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, _hexes(
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    )),
    (6, 8, _hexes(
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    )),
    (2, 5, _hexes(
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    )),
    (6, 7, _hexes(
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    )),
]


@pytest.fixture(scope="module")
def tree() -> MerkleTree:
    tree = MerkleTree()
    for entry in LEAVES:
        tree.append(leaf_hash(entry))
    return tree


# Published hashes and roots.

def test_the_leaf_hashes_of_the_test_tree_are_the_published_ones():
    assert [leaf_hash(entry) for entry in LEAVES] == LEAF_HASHES


def test_node_hashes_pair_the_leaves_as_published():
    assert [node_hash(LEAF_HASHES[i], LEAF_HASHES[i + 1]) for i in range(0, 8, 2)] == NODES_LEVEL_1


def test_the_empty_tree_has_the_sha256_of_nothing_as_root():
    assert MerkleTree().root() == EMPTY_ROOT == hashlib.sha256(b"").digest() == ROOTS[0]
    assert MerkleTree().size == 0


@pytest.mark.parametrize("size", range(9))
def test_the_full_tree_gives_the_published_root_of_every_earlier_size(tree, size):
    assert tree.root(size) == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_a_tree_built_from_leaf_hashes_has_the_published_root(size):
    built = MerkleTree.from_leaf_hashes(LEAF_HASHES[:size])
    assert built.size == size and built.root() == ROOTS[size]


def test_sumdb_hashes_a_record_as_a_leaf_like_we_do():
    # golang.org/x/mod sumdb/tlog note_test.go: RecordHash("hello world") in a tree body.
    assert base64.b64encode(leaf_hash(b"hello world")) == b"TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0="


# Published proofs.

@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_the_tree_proves_inclusion_with_the_published_path(tree, index, size, proof):
    assert tree.inclusion_proof(index, size) == proof


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_a_published_inclusion_proof_verifies(index, size, proof):
    assert verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_the_tree_proves_consistency_with_the_published_proof(tree, old, new, proof):
    assert tree.consistency_proof(old, new) == proof


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_a_published_consistency_proof_verifies(old, new, proof):
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


def _flip(digest: bytes) -> bytes:
    return bytes([digest[0] ^ 0x10]) + digest[1:]


@pytest.mark.parametrize(("index", "size", "proof"), [p for p in INCLUSION_PROOFS if p[2]])
def test_a_mutated_published_inclusion_proof_fails(index, size, proof):
    leaf, root = LEAF_HASHES[index], ROOTS[size]
    mutants = [
        (leaf, index - 1, size, proof, root), (leaf, index + 1, size, proof, root),
        (leaf, index ^ 2, size, proof, root), (leaf, index, size * 2, proof, root),
        (leaf, index, size // 2, proof, root), (_flip(leaf), index, size, proof, root),
        (leaf, index, size, proof, _flip(root)), (leaf, index, size, proof[:-1], root),
        (leaf, index, size, [*proof, root], root), (leaf, index, size, [root, *proof], root),
        *((leaf, index, size, [*proof[:i], _flip(proof[i]), *proof[i + 1:]], root) for i in range(len(proof))),
    ]
    assert not any(verify_inclusion(*mutant) for mutant in mutants)


@pytest.mark.parametrize(("old", "new", "proof"), [p for p in CONSISTENCY_PROOFS if p[2]])
def test_a_mutated_published_consistency_proof_fails(old, new, proof):
    r1, r2 = ROOTS[old], ROOTS[new]
    mutants = [
        (old - 1, new, r1, r2, proof), (old + 1, new, r1, r2, proof), (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof), (old, new // 2, r1, r2, proof), (old, new, r2, r1, proof),
        (old, new, _flip(r1), r2, proof), (old, new, r1, _flip(r2), proof), (old, new, r1, r2, proof[:-1]),
        (old, new, r1, r2, [*proof, r1]), (old, new, r1, r2, [r1, *proof]), (old, new, r1, r2, []),
        *((old, new, r1, r2, [*proof[:i], _flip(proof[i]), *proof[i + 1:]]) for i in range(len(proof))),
    ]
    assert not any(verify_consistency(*mutant) for mutant in mutants)


# Edges and hostile input.

def test_a_consistency_proof_from_the_empty_tree_is_refused_as_proving_nothing():
    # transparency-dev/merkle testdata/consistency/additional: size1 = 0 is always an error.
    assert not verify_consistency(0, 1, EMPTY_ROOT, ROOTS[1], [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])


def test_equal_sizes_are_consistent_only_with_equal_roots_and_no_proof():
    assert verify_consistency(3, 3, ROOTS[3], ROOTS[3], [])
    assert not verify_consistency(3, 3, ROOTS[3], ROOTS[4], [])
    assert not verify_consistency(3, 3, ROOTS[3], ROOTS[3], [ROOTS[3]])


HOSTILE_INCLUSION = [
    (LEAF_HASHES[0], 0, 0, [], EMPTY_ROOT),
    (LEAF_HASHES[0], -1, 8, INCLUSION_PROOFS[1][2], ROOTS[8]),
    (LEAF_HASHES[0], True, 8, INCLUSION_PROOFS[1][2], ROOTS[8]),
    (LEAF_HASHES[0], 0, 2**64, INCLUSION_PROOFS[1][2], ROOTS[8]),
    (LEAF_HASHES[0], 0, 2**200 + 8, INCLUSION_PROOFS[1][2] * 100, ROOTS[8]),
    (LEAF_HASHES[0], 0, 8.0, INCLUSION_PROOFS[1][2], ROOTS[8]),
    (LEAF_HASHES[0], 0, "8", INCLUSION_PROOFS[1][2], ROOTS[8]),
    (LEAF_HASHES[0][:31], 0, 1, [], ROOTS[1][:31]),
    (None, 0, 1, [], ROOTS[1]),
    (LEAF_HASHES[0], 0, 1, [], None),
    (LEAF_HASHES[0], 0, 8, None, ROOTS[8]),
    (LEAF_HASHES[0], 0, 8, b"".join(INCLUSION_PROOFS[1][2]), ROOTS[8]),
    (LEAF_HASHES[0], 0, 8, [p.hex() for p in INCLUSION_PROOFS[1][2]], ROOTS[8]),
    (LEAF_HASHES[0], 0, 8, [*INCLUSION_PROOFS[1][2][:2], b""], ROOTS[8]),
]


@pytest.mark.parametrize("arguments", HOSTILE_INCLUSION)
def test_hostile_inclusion_arguments_fail_without_raising(arguments):
    assert verify_inclusion(*arguments) is False


HOSTILE_CONSISTENCY = [
    (2, 1, ROOTS[2], ROOTS[1], []),
    (-1, 8, ROOTS[1], ROOTS[8], CONSISTENCY_PROOFS[1][2]),
    (1, 2**64, ROOTS[1], ROOTS[8], CONSISTENCY_PROOFS[1][2]),
    (1, 2**300, ROOTS[1], ROOTS[8], CONSISTENCY_PROOFS[1][2] * 200),
    (1, 8, ROOTS[1][:16], ROOTS[8], CONSISTENCY_PROOFS[1][2]),
    (1, 8, ROOTS[1], None, CONSISTENCY_PROOFS[1][2]),
    (1, 8, ROOTS[1], ROOTS[8], None),
    (1, 8, ROOTS[1], ROOTS[8], [b"x" * 33, *CONSISTENCY_PROOFS[1][2][1:]]),
    (1, 8, ROOTS[1], ROOTS[8], "".join(p.hex() for p in CONSISTENCY_PROOFS[1][2])),
    (None, 8, ROOTS[1], ROOTS[8], CONSISTENCY_PROOFS[1][2]),
    (False, True, ROOTS[1], ROOTS[1], []),
]


@pytest.mark.parametrize("arguments", HOSTILE_CONSISTENCY)
def test_hostile_consistency_arguments_fail_without_raising(arguments):
    assert verify_consistency(*arguments) is False


@pytest.mark.parametrize(("call", "field"), [
    (lambda t: t.root(9), "size"),
    (lambda t: t.root(-1), "size"),
    (lambda t: t.inclusion_proof(8, 8), "index"),
    (lambda t: t.inclusion_proof(-1), "index"),
    (lambda t: t.inclusion_proof(0, 9), "size"),
    (lambda t: t.inclusion_proof(0, 0), "index"),
    (lambda t: t.consistency_proof(0, 8), "old_size"),
    (lambda t: t.consistency_proof(5, 4), "old_size"),
    (lambda t: t.consistency_proof(1, 9), "new_size"),
])
def test_the_tree_refuses_a_proof_request_outside_it_naming_the_parameter(tree, call, field):
    with pytest.raises(BadParameter) as raised:
        call(tree)
    assert raised.value.field == field


def test_a_leaf_hash_of_the_wrong_length_is_a_bug_not_a_leaf():
    with pytest.raises(ValueError):
        MerkleTree().append(b"short")
    with pytest.raises(ValueError):
        MerkleTree.from_leaf_hashes([LEAF_HASHES[0], b""])


# Properties, against an oracle written from the RFC's recursive definitions.

def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if whole else [_mth(leaves)]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


MAX = 300
HASHES = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX)]
BIG = MerkleTree.from_leaf_hashes(HASHES)
PROPERTY = settings(max_examples=200, deadline=None)


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX))
    return size, draw(st.integers(0, size - 1))


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(1, MAX))
    return draw(st.integers(1, new)), new


def _tampered(size: int, at: int) -> MerkleTree:
    hashes = list(HASHES[:size])
    hashes[at] = leaf_hash(b"altered")
    return MerkleTree.from_leaf_hashes(hashes)


@PROPERTY
@given(st.integers(0, MAX))
def test_the_root_of_any_earlier_size_is_the_rfc_tree_hash(size):
    assert BIG.root(size) == _mth(HASHES[:size])


@PROPERTY
@given(st.integers(0, MAX))
def test_appending_one_by_one_builds_the_tree_built_at_once(size):
    tree = MerkleTree()
    indexes = [tree.append(h) for h in HASHES[:size]]
    assert indexes == list(range(size)) and tree.size == size and tree.root() == BIG.root(size)


@PROPERTY
@given(size_and_index())
def test_every_inclusion_proof_is_the_rfc_path_and_verifies(case):
    size, index = case
    proof = BIG.inclusion_proof(index, size)
    assert proof == _path(index, HASHES[:size])
    assert verify_inclusion(HASHES[index], index, size, proof, BIG.root(size))


@PROPERTY
@given(size_and_index(), st.data())
def test_an_inclusion_proof_fails_for_a_tampered_leaf_another_index_or_another_size(case, data):
    size, index = case
    proof, root = BIG.inclusion_proof(index, size), BIG.root(size)
    assert not verify_inclusion(leaf_hash(b"altered"), index, size, proof, root)
    other_index = data.draw(st.integers(0, size).filter(lambda i: i != index), label="other index")
    assert not verify_inclusion(HASHES[index], other_index, size, proof, root)
    other_size = data.draw(st.integers(1, MAX).filter(lambda s: s != size), label="other size")
    assert not verify_inclusion(HASHES[index], index, other_size, proof, BIG.root(other_size))


@PROPERTY
@given(two_sizes())
def test_every_consistency_proof_is_the_rfc_subproof_and_verifies(sizes):
    old, new = sizes
    proof = BIG.consistency_proof(old, new)
    assert proof == _subproof(old, HASHES[:new], True)
    assert verify_consistency(old, new, BIG.root(old), BIG.root(new), proof)


@PROPERTY
@given(two_sizes(), st.data())
def test_a_consistency_proof_fails_against_a_tree_with_one_leaf_altered(sizes, data):
    old, new = sizes
    at = data.draw(st.integers(0, new - 1), label="altered leaf")
    forged = _tampered(new, at)
    proof = BIG.consistency_proof(old, new)
    assert not verify_consistency(old, new, BIG.root(old), forged.root(new), proof)
    if at < old:  # history rewritten: not even the forger's own proof links it to the old root
        assert not verify_consistency(old, new, BIG.root(old), forged.root(new), forged.consistency_proof(old, new))
        assert not verify_consistency(old, new, forged.root(old), BIG.root(new), proof)


# Checkpoint bodies (c2sp.org/tlog-checkpoint).

def test_a_checkpoint_body_is_origin_size_and_base64_root_on_three_lines():
    checkpoint = Checkpoint("lotline.example/log", 8, ROOTS[8])
    assert checkpoint.body() == "lotline.example/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    assert parse_checkpoint_body(checkpoint.body()) == checkpoint


@pytest.mark.parametrize("body", [
    # c2sp.org/tlog-checkpoint's example and golang.org/x/mod sumdb/tlog note_test.go's golden tree.
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    "x\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
])
def test_a_published_checkpoint_body_reads_back_to_the_same_text(body):
    assert parse_checkpoint_body(body).body() == body


GOOD_ROOT = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="


@pytest.mark.parametrize("body", [
    f"log\n8\n{GOOD_ROOT}",  # no final newline
    f"log\n8\n{GOOD_ROOT}\n\n",
    f"log\n8\n{GOOD_ROOT}\nextension line\n",
    "log\n8\n",
    f"\n8\n{GOOD_ROOT}\n",
    f"lo\tg\n8\n{GOOD_ROOT}\n",
    f"log\n08\n{GOOD_ROOT}\n",
    f"log\n+8\n{GOOD_ROOT}\n",
    f"log\n 8\n{GOOD_ROOT}\n",
    f"log\n8 \n{GOOD_ROOT}\n",
    f"log\n-1\n{GOOD_ROOT}\n",
    f"log\n\u0668\n{GOOD_ROOT}\n",  # an Arabic-Indic eight: int() would take it
    f"log\n1_000\n{GOOD_ROOT}\n",
    f"log\n18446744073709551616\n{GOOD_ROOT}\n",  # 2**64
    f"log\n{'9' * 5000}\n{GOOD_ROOT}\n",
    "log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n",  # unpadded
    "log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n",  # URL-safe alphabet
    "log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n",  # non-zero padding bits
    "log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n",  # 31 bytes
    "log\n8\n\n",
])
def test_a_malformed_checkpoint_body_is_an_invalid_event(body):
    with pytest.raises(InvalidEvent):
        parse_checkpoint_body(body)


@pytest.mark.parametrize(("origin", "size", "root"), [
    ("", 1, ROOTS[1]), ("a\nb", 1, ROOTS[1]), ("log", -1, ROOTS[1]), ("log", 2**64, ROOTS[1]),
    ("log", 1, ROOTS[1][:31]), ("log", True, ROOTS[1]),
])
def test_a_checkpoint_that_could_not_be_written_is_refused_on_construction(origin, size, root):
    with pytest.raises(InvalidEvent):
        Checkpoint(origin, size, root)


def test_the_log_core_imports_only_the_standard_library_and_the_core():
    # import-linter's list names frameworks; this holds the stricter line for the log's core:
    # cryptography, which the signed notes use, stays out of it too.
    tree = ast.parse(Path(transparency.__file__).read_text())
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    outside = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names | {"__future__", "traceability"}}
    assert outside == set()
