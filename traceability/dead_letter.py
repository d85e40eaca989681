"""A rejected event on its way to the dead-letter topic: the reason and the original bytes.

The reason and provenance travel as Kafka headers (``lotline-*``), the original bytes as the
message value, untouched, so a publisher can see exactly what was refused and why (only an
original too large for a Kafka message is cut, and the reason says so: `DeadLetter.fitted`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

HEADER_PREFIX = "lotline-"
MAX_REASON_LENGTH = 2_000
#: The most original bytes a dead letter carries: with its headers (a few KB at most) it stays
#: under the smallest message limit on the way (Faust's producer: 1,000,000 bytes; Kafka's
#: broker default: 1 MiB). A bigger message can still arrive (a producer and broker configured
#: for more, or Tansu, which takes any size), and it must not stop the worker that refuses it.
MAX_ORIGINAL_BYTES = 960_000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why an event was refused, and where it came from.

    Attributes:
        original: The exact bytes that were refused (a JSON line, an Avro message, garbage).
        reason: One line naming the field and the rule.
        source: Who refused it: ``worker``, ``cli`` or ``api``.
        topic, partition, offset: Where the worker read it (empty / -1 for CLI and API).
        event_kind, event_id: When they could be read from the original.
    """

    original: bytes
    reason: str
    source: str
    rejected_at: datetime
    topic: str = ""
    partition: int = -1
    offset: int = -1
    event_kind: str = ""
    event_id: str = ""

    @property
    def reject_id(self) -> str:
        """Same bytes, same reject: publishing a bad file twice does not double its rejects."""
        return hashlib.sha256(self.original).hexdigest()

    def fitted(self) -> DeadLetter:
        """This letter, or one that keeps the first `MAX_ORIGINAL_BYTES` of a longer original and
        gives its full size and sha256 in the reason, so that it fits in a Kafka message."""
        if len(self.original) <= MAX_ORIGINAL_BYTES:
            return self
        note = (f" [original is {len(self.original):,} bytes, sha256 {self.reject_id}; "
                f"the first {MAX_ORIGINAL_BYTES:,} are kept]")
        reason = self.reason[: MAX_REASON_LENGTH - len(note)] + note
        return replace(self, original=self.original[:MAX_ORIGINAL_BYTES], reason=reason)

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers carrying everything but the original bytes."""
        fields = {
            "reason": self.reason[:MAX_REASON_LENGTH],
            "source": self.source,
            "rejected-at": self.rejected_at.isoformat(),
            "topic": self.topic,
            "partition": str(self.partition),
            "offset": str(self.offset),
            "event-kind": self.event_kind,
            "event-id": self.event_id,
        }
        # backslashreplace: an event id read from a refused line may hold a lone surrogate
        return [(HEADER_PREFIX + k, v.encode("utf-8", "backslashreplace")) for k, v in fields.items()]


def from_headers(original: bytes, headers: Iterable[tuple[str, bytes]], now: datetime) -> DeadLetter:
    """Rebuild a dead letter from a dead-letter message; never fails (it is the last stop).

    Missing or unreadable headers are named in the reason instead of raising.
    """
    found: Mapping[str, str] = {
        k[len(HEADER_PREFIX):]: v.decode("utf-8", "replace")
        for k, v in headers
        if k.startswith(HEADER_PREFIX) and v is not None
    }
    letter = DeadLetter(
        original=original,
        reason=found.get("reason") or "dead letter without a lotline-reason header",
        source=found.get("source", "unknown"),
        rejected_at=_time_or(found.get("rejected-at"), now),
        topic=found.get("topic", ""),
        event_kind=found.get("event-kind", ""),
        event_id=found.get("event-id", ""),
    )
    return replace(letter, partition=_int_or(found.get("partition")), offset=_int_or(found.get("offset")))


def _time_or(text: str | None, default: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(text or "")
    except ValueError:
        return default
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int_or(text: str | None) -> int:
    try:
        return int(text or "-1")
    except ValueError:
        return -1
