"""What the drivers' exceptions mean: the one translator into Lotline's error tree.

clickhouse-driver, kafka-python and aiokafka each raise their own exceptions for the same few
facts (the server is down, restarting or busy; the broker does not answer). ``driver_errors``
turns those into ``Unavailable`` branches, so the stream's sink, the CLI and the API agree on what
is worth retrying and what the user is told; a broker that refuses the client's credentials or
ACLs is a ``BrokerRefused`` setup error, named. Anything else a driver raises (a wrong column, a
missing table, a bad request) is a bug or a setup error that no retry fixes: it passes through
unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from clickhouse_driver.errors import Error as ClickHouseDriverError
from clickhouse_driver.errors import ErrorCodes
from kafka import errors as kafka_errors

from traceability.errors import BrokerRefused, BrokerUnavailable, ClickHouseUnavailable, LotlineError, Unavailable

#: ClickHouse errors that pass with time: the server is down, restarting, overloaded or briefly
#: read-only. A wrong column or a missing table is not among them.
_PASSING = frozenset({
    ErrorCodes.NETWORK_ERROR, ErrorCodes.SOCKET_TIMEOUT, ErrorCodes.TIMEOUT_EXCEEDED,
    ErrorCodes.TOO_MANY_SIMULTANEOUS_QUERIES, ErrorCodes.MEMORY_LIMIT_EXCEEDED, ErrorCodes.TOO_MANY_PARTS,
    ErrorCodes.TABLE_IS_READ_ONLY, ErrorCodes.NO_ZOOKEEPER, ErrorCodes.KEEPER_EXCEPTION,
    ErrorCodes.UNKNOWN_STATUS_OF_INSERT,
})
_KAFKA_PASSING: tuple[type[BaseException], ...] = (
    kafka_errors.KafkaConnectionError, kafka_errors.KafkaTimeoutError, kafka_errors.RequestTimedOutError,
    kafka_errors.NodeNotReadyError, kafka_errors.BrokerNotAvailableError,
)
#: The broker refusing this client: no retry helps, the settings or the ACLs must change.
_KAFKA_REFUSED: tuple[type[BaseException], ...] = (
    kafka_errors.AuthorizationError, kafka_errors.SaslAuthenticationFailedError,
)
#: Raw socket failures, which clients let through mid-request; only meaningful with a service named.
_SOCKET = (OSError, EOFError, TimeoutError)


def translate(exc: BaseException, service: type[Unavailable] | None = None) -> LotlineError | None:
    """The Lotline error that ``exc`` means, or ``None`` if it means a bug (let it propagate).

    Args:
        exc: What a driver raised.
        service: The service being talked to, when known (``ClickHouseUnavailable`` or
            ``BrokerUnavailable``): then a raw socket error, ``EOFError`` or timeout means that
            service cannot be reached. Without it, those stay what they are (a file not found is an
            ``OSError`` too).
    """
    if isinstance(exc, LotlineError):
        return exc
    if isinstance(exc, ClickHouseDriverError):
        return ClickHouseUnavailable(str(exc).strip()) if exc.code in _PASSING else None
    if isinstance(exc, _KAFKA_PASSING) or _is_aiokafka_unreachable(exc):
        return BrokerUnavailable(str(exc) or type(exc).__name__)
    if isinstance(exc, _KAFKA_REFUSED) or _is_aiokafka_refused(exc):
        return BrokerRefused(f"the broker refused this client ({type(exc).__name__}: {exc}); check "
                             "LOTLINE_KAFKA_SECURITY_PROTOCOL, the SASL user and password, and its ACLs")
    if service is not None and isinstance(exc, _SOCKET):
        return service(str(exc) or type(exc).__name__)
    return None


@contextmanager
def driver_errors(service: type[Unavailable] | None = None) -> Iterator[None]:
    """Raise what a driver raises inside the block as the Lotline error it means (see ``translate``)."""
    try:
        yield
    except LotlineError:
        raise
    except Exception as exc:
        translated = translate(exc, service)
        if translated is None:
            raise
        raise translated from exc


def _is_aiokafka_refused(exc: BaseException) -> bool:
    errors = sys.modules.get("aiokafka.errors")
    if errors is None:
        return False
    refused = (errors.AuthenticationFailedError, errors.TopicAuthorizationFailedError,
               errors.GroupAuthorizationFailedError, errors.ClusterAuthorizationFailedError)
    return isinstance(exc, refused)


def _is_aiokafka_unreachable(exc: BaseException) -> bool:
    # aiokafka is only loaded in workers; a CLI that never imported it has none of its errors to map.
    errors = sys.modules.get("aiokafka.errors")
    if errors is None:
        return False
    passing = (errors.KafkaConnectionError, errors.KafkaTimeoutError, errors.RequestTimedOutError,
               errors.NodeNotReadyError, errors.NoBrokersAvailable)
    return isinstance(exc, passing)
