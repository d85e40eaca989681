"""Lotline's exception hierarchy.

::

    LotlineError
    ├── InvalidEvent          poison input: dead-lettered with its reason, never retried
    │   └── UndecodableEvent  bytes that are not a message of any known schema
    └── DeliveryError         transient I/O that was retried and gave up (the worker stops)
"""

from __future__ import annotations


class LotlineError(Exception):
    """Base class of every error Lotline raises on purpose."""


class InvalidEvent(LotlineError):
    """An event that can never be accepted, whatever is retried.

    Attributes:
        reason: One line a human can act on, e.g. ``"outputs[0].quantity: must be > 0"``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UndecodableEvent(InvalidEvent):
    """Bytes that do not decode as any known writer schema."""


class DeliveryError(LotlineError):
    """A write or send kept failing after bounded retries."""
