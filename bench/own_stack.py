"""A benchmark's own local stack, in a temporary state directory so it never touches yours."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from deploy.local_stack import Endpoints, resolve_endpoints
from lotline.settings import Settings
from schemas.codec import AvroCodec
from streams.offsets import OffsetReader, wait_for_sync
from streams.producer import CheckedProducer
from streams.topics import TopicNames, partition_key
from traceability.events import Event, LabResult, Measurement


@dataclass(frozen=True)
class OwnStack:
    state: Path
    env: dict[str, str]  # the environment that points `lotline` commands at this stack
    endpoints: Endpoints


def lotline(env: dict[str, str], *args: str) -> None:
    """Run a `lotline` command against the stack ``env`` points at; fail if it fails."""
    subprocess.run([sys.executable, "-m", "lotline", *args], env=env, check=True, stdout=subprocess.DEVNULL)


@contextmanager
def own_stack(workers: int) -> Iterator[OwnStack]:
    """`lotline stack up` with ``workers`` workers in a temporary directory; `stack down` on exit."""
    with tempfile.TemporaryDirectory(prefix="lotline-bench-") as state:
        env = {**os.environ, "LOTLINE_STATE_DIR": state, "LOTLINE_WORKERS": str(workers)}
        lotline(env, "stack", "up")
        try:
            yield OwnStack(Path(state), env, resolve_endpoints(Settings(state_dir=Path(state)).stack()))
        finally:
            lotline(env, "stack", "down")


_PASSING = (Measurement("Pb (soluble)", 12.5, "mg/kg", 90.0, "pass"),
            Measurement("DEHP+DBP+BBP", 0.02, "%", 0.1, "pass"))


def passing_report(tag: str, batch: str, at: datetime) -> LabResult:
    """A signed-off lab report with two passing measurements (the benchmarks' unit of load)."""
    return LabResult(f"bench-res-{tag}", f"BENCH-RPT-{tag}", 1, "LAB-BENCH", batch, f"S-{tag}", "GB 6675.4-2014",
                     "pass", at, at, _PASSING)


def send(events: Iterable[Event], bootstrap: str, prefix: str | None = None) -> int:
    """Publish events as `lotline publish` would (Avro, keyed as the worker expects); returns the count."""
    codec, topics, sent = AvroCodec(), TopicNames(prefix or Settings().topic_prefix), 0
    with CheckedProducer(bootstrap) as producer:
        for event in events:
            producer.send(topics.for_kind(event.kind), codec.encode(event), key=partition_key(event))
            sent += 1
        producer.flush()
    return sent


def sync(stack: OwnStack, timeout: float = 900) -> None:
    """Return once the stack's workers have committed everything published (`lotline sync`, in process)."""
    reader = OffsetReader(stack.endpoints.kafka_bootstrap, Settings().app_id)
    try:
        wait_for_sync(reader, TopicNames(Settings().topic_prefix).consumed, timeout)
    finally:
        reader.close()
