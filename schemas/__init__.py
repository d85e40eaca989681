"""Avro schemas (``<kind>/v<N>.avsc``, the source of truth) and the wire codec."""

from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent
