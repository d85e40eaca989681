"""The closure topic's wire format: records of lineage messages survive the trip, and bad bytes are refused."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from schemas.closure_codec import MAX_RECORD_BYTES, ClosureCodec
from schemas.codec import HEADER_SIZE, MAGIC
from traceability.errors import UndecodableEvent
from traceability.lineage import AncestryUpdate, Edge, Message, ResultSeen, RiskRegister

pytestmark = pytest.mark.unit
CODEC = ClosureCodec()
HEADER = CODEC.encode([])[:HEADER_SIZE]
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUICK = settings(FAST, max_examples=50)

IDS = st.text(max_size=12) | st.sampled_from(["", "lot-01", "ЛОТ-☃", "批次-7", "😀\x00x"])
LONGS = st.integers(-(2**63), 2**63 - 1)
INTS = st.integers(-(2**31), 2**31 - 1)
VERDICTS = st.sampled_from(["pass", "fail", "withdrawn"])
REGISTERS = st.builds(RiskRegister, IDS, LONGS, st.booleans())
EDGES = st.builds(Edge, IDS, IDS, IDS, st.binary(max_size=64))
RESULTS = st.builds(ResultSeen, IDS, IDS, st.integers(0, 2**63 - 1), VERDICTS)
UPDATES = st.builds(
    AncestryUpdate,
    IDS,
    st.dictionaries(IDS, INTS, max_size=6),
    st.lists(REGISTERS, max_size=6).map(lambda registers: {r.source: r for r in registers}),
)
MESSAGES: st.SearchStrategy[Message] = st.one_of(EDGES, RESULTS, UPDATES)
MESSAGE_LISTS = st.lists(MESSAGES, max_size=8)


def origins(messages: list[Message]) -> list[bytes | None]:
    """Edge origins are not part of equality, so they are compared on their own."""
    return [m.origin if isinstance(m, Edge) else None for m in messages]


# --- round trips ---------------------------------------------------------------------------------


@FAST
@given(MESSAGE_LISTS)
def test_every_list_of_messages_survives_encode_and_decode(messages: list[Message]) -> None:
    data = CODEC.encode(messages)
    assert data[:2] == MAGIC and data[:HEADER_SIZE] == HEADER
    decoded = CODEC.decode(data)
    assert [type(m) for m in decoded] == [type(m) for m in messages]
    assert decoded == messages
    assert origins(decoded) == origins(messages)
    assert CODEC.encode(decoded) == data


def test_an_empty_record_is_a_header_and_an_empty_array():
    assert CODEC.encode([]) == HEADER + b"\x00"
    assert CODEC.decode(HEADER + b"\x00") == []


def test_one_record_keeps_its_messages_in_order_even_for_the_same_batch():
    messages: list[Message] = [
        ResultSeen("lot", "r", 1, "fail"),
        Edge("a", "lot", "e", b"bytes"),
        ResultSeen("lot", "r", 2, "pass"),
        ResultSeen("lot", "r", 1, "fail"),  # duplicates are kept: the record is a log, not a set
    ]
    assert CODEC.decode(CODEC.encode(messages)) == messages


def test_edge_origin_bytes_are_kept_exactly_even_though_equality_ignores_them():
    origin = bytes(range(256)) + b"\xc3\x01"
    [decoded] = CODEC.decode(CODEC.encode([Edge("a", "b", "prd-1", origin)]))
    assert isinstance(decoded, Edge)
    assert decoded.origin == origin
    assert decoded == Edge("a", "b", "prd-1", b"something else")  # equality ignores origin


def test_a_second_codec_reads_what_the_first_wrote():
    messages: list[Message] = [AncestryUpdate("t", {"a": 1, "b": 3}, {"a": RiskRegister("a", 7, True)}),
                               ResultSeen("t", "r", 0, "withdrawn")]
    assert ClosureCodec().decode(CODEC.encode(messages)) == messages


# --- splitting into records ----------------------------------------------------------------------

#: Bytes of a record that are not its messages: header, array block count (at most 5 bytes below
#: 2**31 messages) and the terminating empty block.
FRAMING = HEADER_SIZE + 5 + 1
#: The size estimate counts an id's characters; UTF-8 takes up to 4 bytes for one, and no other part
#: of a message (varint prefixes, numbers, framing) takes more than 4 times its estimate.
UTF8_WORST = 4
ASCII_IDS = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=40)
#: ASCII ids (lot numbers usually are), depths and versions within the varint widths the estimate covers.
ASCII_MESSAGES: st.SearchStrategy[Message] = st.one_of(
    st.builds(Edge, ASCII_IDS, ASCII_IDS, ASCII_IDS, st.binary(max_size=120)),
    st.builds(ResultSeen, ASCII_IDS, ASCII_IDS, st.integers(0, 2**31), VERDICTS),
    st.builds(
        AncestryUpdate,
        ASCII_IDS,
        st.dictionaries(ASCII_IDS, st.integers(1, 10_000), max_size=8),
        st.lists(st.builds(RiskRegister, ASCII_IDS, st.integers(0, 2**31), st.booleans()), max_size=4).map(
            lambda registers: {r.source: r for r in registers}
        ),
    ),
)
MAX_BYTES = st.integers(0, 600)


def unsplit(records: list[bytes]) -> list[Message]:
    return [m for record in records for m in CODEC.decode(record)]


def alone(message: Message) -> int:
    """A message's encoded size on its own, without the framing of its record."""
    return len(CODEC.encode([message])) - HEADER_SIZE - 2


@FAST
@given(st.lists(MESSAGES, max_size=30), MAX_BYTES)
@example([], 0)
def test_records_hold_the_messages_in_order_and_a_record_of_several_stays_under_four_times_max_bytes(
    messages: list[Message], max_bytes: int
) -> None:
    records = CODEC.records(messages, max_bytes)
    assert unsplit(records) == messages
    assert origins(unsplit(records)) == origins(messages)
    for record in records:
        decoded = CODEC.decode(record)
        assert decoded  # no empty records
        assert record == CODEC.encode(decoded)
        if len(decoded) > 1:
            assert len(record) <= UTF8_WORST * max_bytes + FRAMING


@FAST
@given(st.lists(ASCII_MESSAGES, max_size=30), MAX_BYTES)
def test_with_ascii_ids_a_record_of_several_messages_stays_under_max_bytes(
    messages: list[Message], max_bytes: int
) -> None:
    records = CODEC.records(messages, max_bytes)
    assert unsplit(records) == messages
    for record in records:
        decoded = CODEC.decode(record)
        if len(decoded) > 1:
            assert len(record) <= max_bytes + FRAMING, (len(record), [alone(m) for m in decoded])


#: The estimate is never more than 6 times a message's encoded size (worst: a risk register with an
#: empty source, 16 estimated for 3 bytes), so a record closes only once it is a fair part of max_bytes.
OVERESTIMATE = 6


@FAST
@given(st.lists(MESSAGES, min_size=2, max_size=30), MAX_BYTES)
def test_a_record_is_closed_only_when_the_next_message_would_not_fit(messages: list[Message], max_bytes: int) -> None:
    records = CODEC.records(messages, max_bytes)
    for record, following in zip(records, records[1:], strict=False):
        messages_bytes = len(record) - HEADER_SIZE - 2
        assert OVERESTIMATE * (messages_bytes + alone(CODEC.decode(following)[0])) > max_bytes


@QUICK
@given(MESSAGES, st.integers(1, 40), MAX_BYTES)
def test_copies_of_one_message_are_split_into_equal_records_but_the_last(
    message: Message, copies: int, max_bytes: int
) -> None:
    counts = [len(CODEC.decode(record)) for record in CODEC.records([message] * copies, max_bytes)]
    assert sum(counts) == copies
    assert len(set(counts[:-1])) <= 1 and counts[-1] <= counts[0]


def test_a_huge_max_bytes_makes_one_record_and_zero_one_record_per_message():
    messages: list[Message] = [Edge("a", "b", "e", b"x" * 100), ResultSeen("b", "r", 1, "fail"),
                               AncestryUpdate("b", {"a": 1}, {})]
    assert CODEC.records(messages, 10**9) == [CODEC.encode(messages)]
    assert CODEC.records(messages) == [CODEC.encode(messages)]
    assert CODEC.records(messages, 0) == [CODEC.encode([m]) for m in messages]
    assert CODEC.records([], 0) == CODEC.records([]) == []


def test_a_message_larger_than_max_bytes_gets_a_record_of_its_own():
    big = Edge("a", "b", "e", b"x" * 1000)
    small = ResultSeen("a", "r", 0, "pass")
    assert CODEC.records([small, big, small], 200) == [CODEC.encode([small]), CODEC.encode([big]),
                                                      CODEC.encode([small])]


def test_the_default_record_size_leaves_room_under_kafkas_one_megabyte_limit_even_for_4_byte_characters():
    assert UTF8_WORST * MAX_RECORD_BYTES + FRAMING < 1_000_000
    wide = [Edge("😀" * 500, "😀" * 500, "😀" * 20, b"") for _ in range(600)]
    records = CODEC.records(wide)
    assert len(records) > 1 and unsplit(records) == wide
    assert all(len(record) < 1_000_000 for record in records)


# --- refusals ------------------------------------------------------------------------------------


def refused(data: bytes) -> None:
    with pytest.raises(UndecodableEvent) as raised:
        CODEC.decode(data)
    assert raised.value.reason.startswith("closure topic:")


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_are_undecodable(data: bytes) -> None:
    refused(data)


@FAST
@given(MESSAGE_LISTS, st.data())
def test_every_truncation_of_a_valid_record_is_undecodable(messages: list[Message], data: st.DataObject) -> None:
    encoded = CODEC.encode(messages)
    refused(encoded[: data.draw(st.integers(0, len(encoded) - 1))])


def test_every_truncation_of_a_record_of_each_kind_is_undecodable():
    messages: list[Message] = [
        Edge("a", "b", "e", b"origin"),
        ResultSeen("a", "r", 3, "fail"),
        AncestryUpdate("t", {"a": 1}, {"a": RiskRegister("a", 2, False)}),
    ]
    for record in [[], *([m] for m in messages), messages]:
        encoded = CODEC.encode(record)
        for cut in range(len(encoded)):
            refused(encoded[:cut])


@QUICK
@given(MESSAGE_LISTS, st.binary(min_size=1, max_size=20))
def test_trailing_bytes_after_a_valid_record_are_undecodable(messages: list[Message], trailer: bytes) -> None:
    with pytest.raises(UndecodableEvent, match="trailing bytes"):
        CODEC.decode(CODEC.encode(messages) + trailer)


def test_two_records_back_to_back_are_not_one_record():
    first = CODEC.encode([ResultSeen("a", "r", 0, "pass")])
    with pytest.raises(UndecodableEvent, match=f"{len(first)} trailing bytes"):
        CODEC.decode(first + first)


@QUICK
@given(MESSAGE_LISTS, st.integers(0, HEADER_SIZE - 1), st.integers(1, 255))
def test_a_valid_body_behind_a_wrong_header_is_undecodable(messages: list[Message], position: int, flip: int) -> None:
    encoded = bytearray(CODEC.encode(messages))
    encoded[position] ^= flip
    refused(bytes(encoded))


def test_an_event_of_the_public_schemas_is_not_a_closure_record():
    # Same C3 01 magic, another fingerprint.
    refused(MAGIC + b"\x00" * 8 + CODEC.encode([Edge("a", "b", "e")])[HEADER_SIZE:])


HUGE = b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f"  # zig-zag varint of 2**63 - 1


def test_a_huge_length_prefix_behind_a_valid_header_is_refused_quickly():
    refused(HEADER + b"\x02" + b"\x00" + HUGE)  # one item, an Edge, whose parent is 2**63 - 1 bytes long


def test_a_huge_block_count_behind_a_valid_header_is_refused_quickly():
    refused(HEADER + HUGE)
    refused(HEADER + HUGE + CODEC.encode([ResultSeen("a", "r", 0, "pass")])[HEADER_SIZE + 1:])


def test_an_unknown_union_branch_is_undecodable():
    refused(HEADER + b"\x02" + b"\x06" + b"\x00")  # one item, branch 3 of a 3-branch union
    refused(HEADER + b"\x02" + b"\x01" + b"\x00")  # branch -1


# A record of one ResultSeen: block count 1 (zig-zag 2), branch 1 (zig-zag 2), two empty ids,
# report_version, verdict, then the empty block that ends the array.
def one_result(version: bytes, verdict: bytes) -> bytes:
    return b"\x02" + b"\x02" + b"\x00\x00" + version + bytes([2 * len(verdict)]) + verdict + b"\x00"


GOOD_RESULT = one_result(b"\x00", b"pass")  # ResultSeen("", "", 0, "pass")
BAD_VERDICT = one_result(b"\x00", b"bad")  # ResultSeen("", "", 0, "bad")
NEGATIVE_VERSION = one_result(b"\x01", b"pass")  # ResultSeen("", "", -1, "pass")


def test_the_hand_written_result_record_is_what_the_codec_writes():
    assert CODEC.encode([ResultSeen("", "", 0, "pass")]) == HEADER + GOOD_RESULT
    assert CODEC.decode(HEADER + GOOD_RESULT) == [ResultSeen("", "", 0, "pass")]


@pytest.mark.parametrize("body", [BAD_VERDICT, NEGATIVE_VERSION], ids=["unknown-verdict", "negative-version"])
def test_a_well_framed_result_with_an_impossible_value_is_undecodable(body: bytes) -> None:
    refused(HEADER + body)
    # Behind a valid message, in the same record, it still spoils the whole record.
    valid = CODEC.encode([Edge("a", "b", "e")])[HEADER_SIZE + 1: -1]
    refused(HEADER + b"\x04" + valid + body[1:])


def mutated(messages: list[Message], changes: list[tuple[int, int]]) -> bytes:
    body = bytearray(CODEC.encode(messages)[HEADER_SIZE:])
    for position, value in changes:
        body[position % len(body)] = value
    return bytes(body)


BODIES = st.binary(max_size=80) | st.builds(
    mutated, MESSAGE_LISTS, st.lists(st.tuples(st.integers(0), st.integers(0, 255)), min_size=1, max_size=4)
)


@FAST
@given(BODIES)
@example(BAD_VERDICT)
@example(NEGATIVE_VERSION)
@example(b"\x01\x02" + GOOD_RESULT[1:])  # a negative block count (-1) with its byte size: valid Avro
def test_any_body_behind_a_valid_header_decodes_to_messages_or_is_refused_as_undecodable(body: bytes) -> None:
    try:
        decoded = CODEC.decode(HEADER + body)
    except UndecodableEvent:
        return
    assert isinstance(decoded, list)
    assert all(isinstance(m, Edge | ResultSeen | AncestryUpdate) for m in decoded)
