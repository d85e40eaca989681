"""``lotline publish``: JSON lines in, Avro messages out, bad lines to the dead-letter topic.

Every line is parsed, checked against the schema and the semantic rules, and encoded before
anything is sent. By default the good lines are published and the bad ones reported; with
``strict`` a file with any bad line publishes nothing. Either way each bad line goes to the
dead-letter topic with its reason, so the rejects table shows what was refused.

With a ``signer`` (``credential_signer``: a lab's Ed25519 key), every lab result is signed before
it is encoded and carries its credential, the compact JWS of exactly that version; events of
other kinds pass unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeAlias

from schemas.codec import AvroCodec
from streams.topics import TopicNames, partition_key
from traceability.dead_letter import DeadLetter
from traceability.errors import InvalidEvent
from traceability.events import REGISTRY_KINDS, Event, LabResult
from traceability.json_form import parse_event
from traceability.validation import validate

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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


#: The credential (a compact JWS) of a lab result; raises ``InvalidEvent`` if it cannot be signed.
Signer: TypeAlias = Callable[[LabResult], str]


def credential_signer(key: Ed25519PrivateKey, *, kid: str = "", accreditation: str = "") -> Signer:
    """Signs lab results with a lab's key (``schemas.credential.sign``).

    Args:
        key: The lab's Ed25519 private key.
        kid: The key's id in the lab's registry entry; default ``<lab_id>-<fingerprint prefix>``
            (``credential.default_kid``, what ``lotline keys new`` names it) for each result's lab.
        accreditation: The accreditation number the credential claims, e.g. ``CNAS L1234`` (its
            first word names the body); "" claims none.
    """
    from schemas import credential  # lazy: start-up time (joserfc, cryptography), only signing needs them

    body = accreditation.split(" ", 1)[0] if " " in accreditation.strip() else ""
    claimed = credential.ClaimedAccreditation(body, accreditation.strip() if body else "")

    def sign(result: LabResult) -> str:
        return credential.sign(result, key, kid=kid or credential.default_kid(result.lab_id, key),
                               accreditation=claimed)

    return sign


def signed(event: Event, signer: Signer | None) -> Event:
    """``event`` carrying its credential, if it is a lab result and there is a signer."""
    if signer is None or not isinstance(event, LabResult):
        return event
    return dataclasses.replace(event, credential=signer(event))


def registry_entries_only(event: Event) -> None:
    """An ``accept`` for ``prepare`` that refuses every event but a registry entry (``registry load``).

    Raises:
        InvalidEvent: ``event`` is a lab result or lineage.
    """
    if event.kind not in REGISTRY_KINDS:
        raise InvalidEvent(f"type: {event.kind} is not a registry entry (expected one of "
                           f"{', '.join(REGISTRY_KINDS)}); publish it with `lotline publish`")


@dataclass(frozen=True)
class Prepared:
    line: int
    topic: str
    key: bytes
    value: bytes


def prepare(lines: Iterable[bytes], codec: AvroCodec, topics: TopicNames, now: datetime,
            signer: Signer | None = None, accept: Callable[[Event], None] = lambda event: None,
            ) -> Iterator[Prepared | tuple[int, bytes, InvalidEvent]]:
    """Encode each non-blank line, or yield (line number, original, error) for a bad one.

    ``signer`` signs lab results (module docstring); ``accept`` may refuse a valid event by raising
    ``InvalidEvent`` (``lotline registry load`` takes registry entries only).
    """
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            event = validate(parse_event(text), now)
            accept(event)
            event = validate(signed(event, signer), now)
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
    signer: Signer | None = None,
    accept: Callable[[Event], None] = lambda event: None,
) -> PublishReport:
    """Publish JSON lines; see the module docstring for what happens to bad lines (``prepare``
    for ``signer`` and ``accept``)."""
    report = PublishReport()
    held: list[Prepared] = []
    for item in prepare(lines, codec, topics, now, signer, accept):
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
