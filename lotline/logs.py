"""Logging set-up, done once by the entrypoint (never at import)."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: str) -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("kafka", "aiokafka"):  # client chatter drowns what the user asked for
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    # The driver logs a traceback per failed connect; the sink writer says the same in one line.
    logging.getLogger("clickhouse_driver").setLevel(max(numeric, logging.ERROR))
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )
