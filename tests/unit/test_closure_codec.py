"""The closure topic's wire format: every lineage message survives the trip, and bad bytes are refused."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from schemas.closure_codec import ClosureCodec
from schemas.codec import HEADER_SIZE, MAGIC
from traceability.errors import UndecodableEvent
from traceability.lineage import AncestryUpdate, Edge, Message, ResultSeen, RiskRegister

pytestmark = pytest.mark.unit
CODEC = ClosureCodec()
HEADER = CODEC.encode(Edge("p", "c", "e"))[:HEADER_SIZE]
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

IDS = st.text(max_size=12) | st.sampled_from(["", "lot-01", "ЛОТ-☃", "批次-7", "😀\x00x"])
LONGS = st.integers(-(2**63), 2**63 - 1)
INTS = st.integers(-(2**31), 2**31 - 1)
REGISTERS = st.builds(RiskRegister, IDS, LONGS, st.booleans())
EDGES = st.builds(Edge, IDS, IDS, IDS, st.binary(max_size=64))
RESULTS = st.builds(
    ResultSeen, IDS, IDS, st.integers(0, 2**63 - 1), st.sampled_from(["pass", "fail", "withdrawn"])
)
UPDATES = st.builds(
    AncestryUpdate,
    IDS,
    st.dictionaries(IDS, INTS, max_size=6),
    st.lists(REGISTERS, max_size=6).map(lambda registers: {r.source: r for r in registers}),
)
MESSAGES: st.SearchStrategy[Message] = st.one_of(EDGES, RESULTS, UPDATES)


@FAST
@given(MESSAGES)
def test_every_message_kind_survives_encode_and_decode(message: Message) -> None:
    data = CODEC.encode(message)
    assert data[:2] == MAGIC and data[:HEADER_SIZE] == HEADER
    decoded = CODEC.decode(data)
    assert type(decoded) is type(message)
    assert decoded == message
    if isinstance(message, Edge):
        assert isinstance(decoded, Edge)
        assert decoded.origin == message.origin  # not part of equality, so checked on its own
    assert CODEC.encode(decoded) == data


def test_edge_origin_bytes_are_kept_exactly_even_though_equality_ignores_them():
    origin = bytes(range(256)) + b"\xc3\x01"
    decoded = CODEC.decode(CODEC.encode(Edge("a", "b", "prd-1", origin)))
    assert isinstance(decoded, Edge)
    assert decoded.origin == origin
    assert decoded == Edge("a", "b", "prd-1", b"something else")  # equality ignores origin


def test_a_second_codec_reads_what_the_first_wrote():
    message = AncestryUpdate("t", {"a": 1, "b": 3}, {"a": RiskRegister("a", 7, True)})
    assert ClosureCodec().decode(CODEC.encode(message)) == message


def refused(data: bytes) -> None:
    with pytest.raises(UndecodableEvent) as raised:
        CODEC.decode(data)
    assert raised.value.reason.startswith("closure topic:")


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_are_undecodable(data: bytes) -> None:
    refused(data)


@FAST
@given(MESSAGES, st.data())
def test_every_truncation_of_a_valid_message_is_undecodable(message: Message, data: st.DataObject) -> None:
    encoded = CODEC.encode(message)
    refused(encoded[: data.draw(st.integers(0, len(encoded) - 1))])


def test_every_truncation_of_one_message_of_each_kind_is_undecodable():
    for message in (
        Edge("a", "b", "e", b"origin"),
        ResultSeen("a", "r", 3, "fail"),
        AncestryUpdate("t", {"a": 1}, {"a": RiskRegister("a", 2, False)}),
    ):
        encoded = CODEC.encode(message)
        for cut in range(len(encoded)):
            refused(encoded[:cut])


@FAST
@given(MESSAGES, st.integers(0, HEADER_SIZE - 1), st.integers(1, 255))
def test_a_valid_body_behind_a_wrong_header_is_undecodable(message: Message, position: int, flip: int) -> None:
    encoded = bytearray(CODEC.encode(message))
    encoded[position] ^= flip
    refused(bytes(encoded))


def test_an_event_of_the_public_schemas_is_not_a_closure_message():
    # Same C3 01 magic, another fingerprint.
    refused(MAGIC + b"\x00" * 8 + CODEC.encode(Edge("a", "b", "e"))[HEADER_SIZE:])


def test_a_huge_length_prefix_behind_a_valid_header_is_refused_quickly():
    refused(HEADER + b"\x00" + b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f")


def test_an_unknown_union_branch_is_undecodable():
    refused(HEADER + b"\x06")  # branch 3 of a 3-branch union


BAD_VERDICT = b"\x02" + b"\x00\x00" + b"\x00" + b"\x06bad"  # ResultSeen("", "", 0, "bad")
NEGATIVE_VERSION = b"\x02" + b"\x00\x00" + b"\x01" + b"\x08pass"  # ResultSeen("", "", -1, "pass")


@pytest.mark.parametrize("body", [BAD_VERDICT, NEGATIVE_VERSION], ids=["unknown-verdict", "negative-version"])
def test_a_well_framed_result_with_an_impossible_value_is_undecodable(body: bytes) -> None:
    refused(HEADER + body)


def mutated(message: Message, changes: list[tuple[int, int]]) -> bytes:
    body = bytearray(CODEC.encode(message)[HEADER_SIZE:])
    for position, value in changes:
        body[position % len(body)] = value
    return bytes(body)


BODIES = st.binary(max_size=80) | st.builds(
    mutated, MESSAGES, st.lists(st.tuples(st.integers(0), st.integers(0, 255)), min_size=1, max_size=4)
)


@FAST
@given(BODIES)
@example(BAD_VERDICT)
def test_any_body_behind_a_valid_header_decodes_or_is_refused_as_undecodable(body: bytes) -> None:
    try:
        decoded = CODEC.decode(HEADER + body)
    except UndecodableEvent:
        return
    assert isinstance(decoded, Edge | ResultSeen | AncestryUpdate)
