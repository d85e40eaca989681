"""Shared fixtures. Integration fixtures start one broker and one ClickHouse per session."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from traceability.events import Event
from traceability.json_form import event_to_json

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def jsonl(events: list[Event]) -> bytes:
    return b"".join(json.dumps(event_to_json(e)).encode() + b"\n" for e in events)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def tmp_file(tmp_path: Path):
    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write
