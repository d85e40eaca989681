"""``lotline sync``: wait until the workers' consumer group has committed every offset.

Workers commit only after ClickHouse acknowledged the rows, so "committed == end" on every
topic the workers read means everything published so far is visible to queries.

Tansu quirk (measured): its ListOffsets(LATEST) answers the base offset of the last record batch
plus one, not the true end. So the true end is found by reading the tail: seek to the reported
end minus one and take the highest offset fetched. On Apache Kafka this costs one small fetch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from sinks.drivers import driver_errors
from streams.security import PLAINTEXT, KafkaSecurity
from traceability.errors import BrokerUnavailable, NotSynced


@dataclass(frozen=True)
class Lag:
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def behind(self) -> int:
        return max(self.end - self.committed, 0)


class OffsetReader:
    """Reads end offsets and a group's committed offsets (no group join: works on Tansu).

    Raises:
        BrokerUnavailable: the broker cannot be reached (on creation or a read).
    """

    def __init__(self, bootstrap: str, group: str, *, security: KafkaSecurity = PLAINTEXT) -> None:
        auth = security.kafka_python()
        with driver_errors(BrokerUnavailable):
            self._tail = KafkaConsumer(
                bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=1_000_000, **auth
            )
            self._group = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, **auth)

    def close(self) -> None:
        self._tail.close()
        self._group.close()

    def partitions(self, topics: Sequence[str]) -> list[TopicPartition]:
        tps = []
        for topic in topics:
            for p in sorted(self._tail.partitions_for_topic(topic) or ()):
                tps.append(TopicPartition(topic, p))
        return tps

    def lags(self, topics: Sequence[str], *, exact: bool = True) -> list[Lag]:
        """Committed offsets first, then ends: a message committed before the ends are read had
        its effects (closure messages, dead letters) produced before its commit, so the ends
        include them, and a clean pass means nothing is in flight anywhere.

        With ``exact=False`` a partition whose reported end already passes the committed offset
        keeps that end, a lower bound (it proves the lag; the tail read would cost more CPU under
        load than the work being waited for). The others are always read exactly.
        """
        with driver_errors(BrokerUnavailable):
            tps = self.partitions(topics)
            committed = {tp: self._group.committed(tp) or 0 for tp in tps}
            reported = self._tail.end_offsets(tps)
            ends = {} if exact else {tp: end for tp, end in reported.items() if end > committed[tp]}
            ends |= self.true_ends([tp for tp in tps if tp not in ends], reported)
        return [Lag(tp.topic, tp.partition, committed[tp], ends[tp]) for tp in tps]

    def true_ends(self, tps: list[TopicPartition], reported: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        """The true end of each partition: the reported one, or past the last record read."""
        tails = [tp for tp in tps if reported[tp] > 0]
        ends = {tp: reported[tp] for tp in tps}
        if not tails:
            return ends
        self._tail.assign(tails)
        for tp in tails:
            self._tail.seek(tp, reported[tp] - 1)
        pending = set(tails)
        deadline = time.monotonic() + 5
        while pending and time.monotonic() < deadline:
            for tp, records in self._tail.poll(timeout_ms=200).items():
                ends[tp] = max(ends[tp], records[-1].offset + 1)
                pending.discard(tp)
        return ends


def wait_for_sync(
    reader: OffsetReader,
    topics: Sequence[str],
    timeout: float,
    on_progress: Callable[[int], None] = lambda behind: None,
    poll_seconds: float = 0.2,
) -> list[Lag]:
    """Block until no topic lags, checking topics in pipeline order; return the last lags.

    Two clean passes in a row are required, so messages produced while processing (dead
    letters) are counted before the answer is "synced".

    Raises:
        NotSynced: still behind after ``timeout`` seconds (the message says where).
    """
    deadline = time.monotonic() + timeout
    clean = 0
    while True:
        lags = reader.lags(topics, exact=False)
        behind = sum(lag.behind for lag in lags)
        on_progress(behind)
        clean = clean + 1 if behind == 0 else 0
        if clean >= 2:
            return lags
        if time.monotonic() > deadline:
            worst = [f"{lag.topic}[{lag.partition}] {lag.behind} behind" for lag in lags if lag.behind]
            raise NotSynced(f"not synced after {timeout:.0f} s: {', '.join(worst[:5])}")
        time.sleep(poll_seconds)
