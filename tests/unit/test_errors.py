"""One error tree, documented as drawn, and one translator from driver errors into it."""

from __future__ import annotations

import inspect
import re

import pytest
from clickhouse_driver.errors import ErrorCodes, NetworkError, ServerException
from kafka import errors as kafka_errors

from sinks.drivers import driver_errors, translate
from traceability import errors
from traceability.errors import (
    BadParameter,
    BrokerRefused,
    BrokerUnavailable,
    ClickHouseUnavailable,
    InvalidEvent,
    LotlineError,
    NotFound,
    SetupError,
    Unavailable,
)

pytestmark = pytest.mark.unit


def defined_errors() -> dict[str, type]:
    return {name: cls for name, cls in vars(errors).items()
            if inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__ == errors.__name__}


def test_every_lotline_error_derives_from_the_one_base():
    assert all(issubclass(cls, LotlineError) for cls in defined_errors().values())


def test_the_tree_in_the_docstring_is_the_class_tree():
    drawn: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        found = re.match(r"^(    [│├└─ ]*)([A-Z]\w+)", line)
        if not found:
            continue
        depth, name = len(found.group(1)), found.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            drawn[name] = stack[-1][1]
        stack.append((depth, name))
    actual = {name: cls.__bases__[0].__name__ for name, cls in defined_errors().items() if cls is not LotlineError}
    assert drawn == actual


def test_the_four_branches_a_caller_maps_are_separate():
    branches = (InvalidEvent, BadParameter, NotFound, Unavailable, SetupError)
    for branch in branches:
        assert [other for other in branches if issubclass(branch, other)] == [branch]
    assert not issubclass(NotFound, LookupError), "a KeyError bug must never be answered as not found"


@pytest.mark.parametrize("code", [ErrorCodes.NETWORK_ERROR, ErrorCodes.TOO_MANY_SIMULTANEOUS_QUERIES,
                                  ErrorCodes.MEMORY_LIMIT_EXCEEDED, ErrorCodes.TABLE_IS_READ_ONLY])
def test_clickhouse_errors_that_pass_with_time_mean_clickhouse_is_unavailable(code):
    error = ServerException("busy", code=code)
    assert isinstance(translate(error), ClickHouseUnavailable)


def test_a_clickhouse_error_no_retry_fixes_is_left_alone():
    assert translate(ServerException("Missing columns: 'x'", code=ErrorCodes.UNKNOWN_IDENTIFIER)) is None


@pytest.mark.parametrize("error", [kafka_errors.KafkaTimeoutError("Unable to bootstrap"),
                                   kafka_errors.KafkaConnectionError("refused"), kafka_errors.NodeNotReadyError()])
def test_a_broker_that_does_not_answer_is_unavailable(error):
    translated = translate(error)
    assert isinstance(translated, BrokerUnavailable) and str(translated).startswith("cannot reach the broker: ")


@pytest.mark.parametrize("error", [kafka_errors.TopicAuthorizationFailedError("lotline.lineage"),
                                   kafka_errors.GroupAuthorizationFailedError(),
                                   kafka_errors.SaslAuthenticationFailedError()])
def test_a_broker_refusing_the_client_is_a_setup_error_naming_the_settings(error):
    translated = translate(error)
    assert isinstance(translated, BrokerRefused) and isinstance(translated, SetupError)
    assert type(error).__name__ in str(translated) and "LOTLINE_KAFKA_SECURITY_PROTOCOL" in str(translated)
    from aiokafka import errors as aiokafka_errors

    assert isinstance(translate(aiokafka_errors.TopicAuthorizationFailedError()), BrokerRefused)


def test_aiokafka_errors_are_translated_once_aiokafka_is_loaded():
    from aiokafka import errors as aiokafka_errors

    assert isinstance(translate(aiokafka_errors.KafkaConnectionError("gone")), BrokerUnavailable)


def test_a_raw_socket_error_means_the_service_being_talked_to_and_nothing_without_one():
    assert translate(ConnectionResetError("reset")) is None
    assert translate(FileNotFoundError("stack.json")) is None
    assert isinstance(translate(EOFError(), ClickHouseUnavailable), ClickHouseUnavailable)
    assert isinstance(translate(ConnectionRefusedError(), BrokerUnavailable), BrokerUnavailable)


def test_driver_errors_raises_the_translation_from_the_original_and_lets_bugs_through():
    with pytest.raises(ClickHouseUnavailable) as caught, driver_errors(ClickHouseUnavailable):
        raise NetworkError("Code: 210. Connection refused")
    assert isinstance(caught.value.__cause__, NetworkError) and "Connection refused" in caught.value.detail
    with pytest.raises(KeyError), driver_errors(ClickHouseUnavailable):
        raise KeyError("a bug")
