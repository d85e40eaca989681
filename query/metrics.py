"""Prometheus metrics of the API process: its own counters, and the pipeline's read at scrape time.

The API counts what passes through it (queries and their latency, events published or rejected
over HTTP). The pipeline's figures (messages in each topic, the workers' lag, events stored and
rejected) are read from the broker and ClickHouse when Prometheus scrapes, so they are true for
every worker and publisher, not only for this process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from query.serving import ASKED, KeptFigures
from streams.offsets import Lag

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """The API's own metrics, in a registry of their own (two apps in one process do not clash)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.query_seconds = Histogram(
            "lotline_query_seconds", "Time to answer a query (trace, recall, report), export included",
            ["query"], registry=self.registry, buckets=_LATENCY_BUCKETS,
        )
        self.events = Counter(
            "lotline_api_events", "Events received by POST /v1/events, by outcome", ["outcome"],
            registry=self.registry,
        )
        self.auth_failures = Counter(
            "lotline_api_auth_failures", "Requests whose credential was not valid (unknown, revoked, expired, forged)",
            registry=self.registry,
        )
        self.auth_throttled = Counter(
            "lotline_api_auth_throttled", "Requests slowed after repeated failed authentications from their client",
            registry=self.registry,
        )

    def render(self) -> str:
        return generate_latest(self.registry).decode()


@dataclass(frozen=True)
class PipelineReading:
    """What the broker and ClickHouse said at scrape time (None: that part could not be read)."""

    lags: Sequence[Lag] | None
    stored: Mapping[str, int] | None  # table -> rows
    rejected: int | None
    kept: KeptFigures | None = None  # this process's kept answers (None: answers come from ClickHouse)


def pipeline_text(reading: PipelineReading) -> str:
    """The reading in Prometheus text format (gauges; ``lotline_up`` says what answered)."""
    lines = [
        "# HELP lotline_up Whether a component answered this scrape (1) or not (0).",
        "# TYPE lotline_up gauge",
        f'lotline_up{{component="kafka"}} {int(reading.lags is not None)}',
        f'lotline_up{{component="clickhouse"}} {int(reading.stored is not None)}',
    ]
    if reading.lags is not None:
        lines += _gauge("lotline_topic_messages", "Messages in a topic (events in, for the raw topics)",
                        _per_topic(reading.lags, lambda lag: lag.end))
        lines += _gauge("lotline_consumer_lag", "Messages the workers have not committed yet, per topic",
                        _per_topic(reading.lags, lambda lag: lag.behind))
    if reading.stored is not None:
        lines += _gauge("lotline_stored_rows", "Rows stored per ClickHouse table (events out; may repeat)",
                        {f'table="{t}"': n for t, n in sorted(reading.stored.items())})
    if reading.rejected is not None:
        lines += _gauge("lotline_rejected_events", "Distinct events refused to the dead-letter topic",
                        {"": reading.rejected})
    if (kept := reading.kept) is not None:
        lines += ["# HELP lotline_kept_answer_asks_total Asks of a large current answer by this process, "
                  "by how they went: served kept, kept but outdated by a write since, not kept",
                  "# TYPE lotline_kept_answer_asks_total counter",
                  *(f'lotline_kept_answer_asks_total{{outcome="{outcome}"}} {kept.asked[outcome]}'
                    for outcome in ASKED)]
        lines += _gauge("lotline_kept_answers", "Answers this process keeps between asks", {"": kept.answers})
        lines += _gauge("lotline_kept_answer_batches", "Batches the kept answers cover in all", {"": kept.batches})
    return "\n".join(lines) + "\n"


def _per_topic(lags: Sequence[Lag], value: Callable[[Lag], int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for lag in lags:
        key = f'topic="{lag.topic}"'
        totals[key] = totals.get(key, 0) + value(lag)
    return totals


def _gauge(name: str, help_text: str, values: Mapping[str, int]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f"{name}{{{labels}}} {v}" if labels else f"{name} {v}" for labels, v in values.items()]
    return lines
