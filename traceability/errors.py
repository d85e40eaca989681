"""Lotline's exception hierarchy: every error Lotline raises on purpose is one of these.

::

    LotlineError
    ├── InvalidEvent            poison input: dead-lettered with its reason, never retried
    │   └── UndecodableEvent    bytes that are not a message of any known schema
    ├── BadParameter            a malformed request parameter, named (CLI exit 2, HTTP 422)
    ├── Unauthenticated         a credential that is not valid: unknown, revoked, expired (HTTP 401)
    ├── Forbidden               a write as somebody else, refused with the reason (HTTP 403)
    ├── NotFound                nothing is known of what was asked for (CLI exit 4, HTTP 404)
    │   ├── UnknownBatch
    │   ├── UnknownReport
    │   ├── UnknownLab
    │   └── UnknownRegulator
    ├── Unavailable             transient I/O: a service cannot be reached now (CLI exit 3, HTTP 503)
    │   ├── ClickHouseUnavailable
    │   ├── BrokerUnavailable
    │   └── DeliveryError       a write or send kept failing after bounded retries
    ├── SetupError              the deployment is not set up: no stack, a program or a topic missing,
    │   │                       a server that does not start (CLI exit 3, saying what to do)
    │   ├── StackNotRunning
    │   ├── MissingDependency
    │   ├── ServerDidNotStart
    │   └── BrokerRefused       the broker refused this client's credentials or its ACLs refused the request
    └── NotSynced               the workers are still behind after the wait (``lotline sync``: exit 1)

Who catches what: an agent dead-letters ``InvalidEvent`` and retries ``Unavailable``; the CLI and
the API map the branches to exit codes and statuses and catch nothing else, so a bug (a
``KeyError``, a ``TypeError``) stays a traceback or a 500 with a log line, never a 404. Driver
exceptions (clickhouse-driver, kafka-python, aiokafka) become ``Unavailable`` in one place,
``sinks.drivers``.
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


class BadParameter(LotlineError):
    """A request parameter is malformed.

    Attributes:
        field: The parameter, as the caller named it (``batch_id``, ``--as-of``).
        reason: What is wrong with it.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Unauthenticated(LotlineError):
    """The request's credential is not valid: an unknown or revoked key, a token expired, wrongly
    signed or from another issuer. No credential at all is not this: it is the public view."""


class Forbidden(LotlineError):
    """A write the caller may not make (publishing as another lab or organisation).

    Reads are never refused with this: what a caller may not see answers exactly like the unknown
    (``NotFound``), so a refusal cannot reveal that the object exists.
    """


class NotFound(LotlineError):
    """Nothing is known of the object asked for (as of the moment asked about)."""


class UnknownBatch(NotFound):
    """No record of the batch."""


class UnknownReport(NotFound):
    """No record of the report."""


class UnknownLab(NotFound):
    """No registry entry of the lab."""


class UnknownRegulator(NotFound):
    """No regulator of the jurisdiction (or by the id) asked about is in the registry."""


class Unavailable(LotlineError):
    """A service cannot be reached or cannot take the request now; the same request may succeed later.

    Attributes:
        service: What cannot be reached, as a user would name it (``ClickHouse``, ``the broker``).
        detail: What the driver said.
    """

    service = "a service"

    def __init__(self, detail: str, service: str | None = None) -> None:
        self.service = service or type(self).service
        self.detail = detail
        super().__init__(f"cannot reach {self.service}: {detail}")


class ClickHouseUnavailable(Unavailable):
    """ClickHouse is down, restarting, overloaded or briefly read-only."""

    service = "ClickHouse"


class BrokerUnavailable(Unavailable):
    """The Kafka-protocol broker cannot be reached or does not answer in time."""

    service = "the broker"


class DeliveryError(Unavailable):
    """A write or send kept failing after bounded retries (a worker stops rather than drop data)."""

    def __str__(self) -> str:
        return self.detail


class SetupError(LotlineError):
    """The deployment is not set up for the command: the message says what to run or install."""


class StackNotRunning(SetupError):
    """No endpoint is configured and no local stack is there to find one in."""


class MissingDependency(SetupError):
    """A program the local stack needs is not installed; the message says how to install it."""


class ServerDidNotStart(SetupError):
    """A server of the local stack exited or did not answer during start-up; its log says why."""


class BrokerRefused(SetupError):
    """The broker refused this client: its SASL credentials, or an ACL on a topic, group or the cluster."""


class NotSynced(LotlineError):
    """The workers have not stored everything published yet after the time allowed."""
