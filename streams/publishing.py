"""``lotline publish``: JSON lines in, Avro messages out, bad lines to the dead-letter topic.

Every line is parsed, checked against the schema and the semantic rules, and encoded before
anything is sent. By default the good lines are published and the bad ones reported; with
``strict`` a file with any bad line publishes nothing. Either way each bad line goes to the
dead-letter topic with its reason, so the rejects table shows what was refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from schemas.codec import AvroCodec
from streams.topics import TopicNames, partition_key
from traceability.dead_letter import DeadLetter
from traceability.errors import InvalidEvent
from traceability.json_form import parse_event
from traceability.validation import validate

#: The largest encoded event sent: kafka-python's producer refuses a message over 1 MiB
#: (``max_request_size``) and so does a Kafka broker by default (``message.max.bytes``).
MAX_MESSAGE_BYTES = 1_000_000


class Producer(Protocol):
    def send(self, topic: str, value: bytes, key: bytes | None = None,
             headers: list[tuple[str, bytes]] | None = None) -> object: ...

    def flush(self, timeout: float | None = None) -> None: ...


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass
class PublishReport:
    published: int = 0
    rejected: list[LineError] = field(default_factory=list)
    held_back: int = 0  # valid lines not sent because of --strict


@dataclass(frozen=True)
class Prepared:
    line: int
    topic: str
    key: bytes
    value: bytes


def prepare(lines: Iterable[bytes], codec: AvroCodec, topics: TopicNames, now: datetime
            ) -> Iterator[Prepared | tuple[int, bytes, InvalidEvent]]:
    """Encode each non-blank line, or yield (line number, original, error) for a bad one."""
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            event = validate(parse_event(text), now)
            value = codec.encode(event)
            if len(value) > MAX_MESSAGE_BYTES:
                raise InvalidEvent(f"{event.kind}: {len(value):,} bytes as Avro, more than a message takes "
                                   f"({MAX_MESSAGE_BYTES:,}); split it into several events")
        except InvalidEvent as exc:
            yield number, text, exc
            continue
        yield Prepared(number, topics.for_kind(event.kind), partition_key(event), value)


def _identity(line: bytes) -> tuple[str, str]:
    """The ``type`` and ``event_id`` of a refused line, where it has them (for the rejects table)."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return "", ""
    if not isinstance(obj, dict):
        return "", ""
    return str(obj.get("type", ""))[:40], str(obj.get("event_id", ""))[:128]


def publish(
    lines: Iterable[bytes],
    producer: Producer,
    *,
    codec: AvroCodec,
    topics: TopicNames,
    now: datetime,
    strict: bool = False,
    source: str = "cli",
    on_line: Callable[[PublishReport], None] = lambda report: None,
) -> PublishReport:
    """Publish JSON lines; see the module docstring for what happens to bad lines."""
    report = PublishReport()
    held: list[Prepared] = []
    for item in prepare(lines, codec, topics, now):
        if isinstance(item, Prepared):
            if strict:
                held.append(item)
            else:
                producer.send(item.topic, item.value, key=item.key)
                report.published += 1
        else:
            number, original, exc = item
            report.rejected.append(LineError(number, exc.reason))
            kind, event_id = _identity(original)
            letter = DeadLetter(original=original, reason=exc.reason, source=source, rejected_at=now,
                                event_kind=kind, event_id=event_id).fitted()
            producer.send(topics.dead_letter, letter.original, headers=letter.headers())
        on_line(report)
    if strict and not report.rejected:
        for item in held:
            producer.send(item.topic, item.value, key=item.key)
        report.published = len(held)
    elif strict:
        report.held_back = len(held)
    producer.flush()
    return report
