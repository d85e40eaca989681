"""Schemathesis over the API's OpenAPI document, with each role's credentials and all its checks.

Every operation is called with generated requests as an admin, an organisation, a regulator, a
lab and the public, on the access tests' world. No request may cause a server error or a response
the document does not declare (status, content type, headers, body schema), and no request the
document calls valid may be refused as malformed: the document states every constraint the server
enforces. One exception, stated: ``POST /v1/verify`` takes any string shaped like a compact JWS,
and what is inside one (a JSON header, a credential of a report) cannot be said in JSON Schema;
such a token is refused with a 422 naming ``credential``, which this test checks instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.access_world import World, build_world

pytestmark = pytest.mark.integration

ROLES = ("admin", "toy maker", "DE regulator", "toy lab", "public")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, infra: Any) -> Iterator[World]:
    built = build_world(infra, tmp_path_factory.mktemp("fuzz"))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def api_schema(world: World) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", world.app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_of_any_role_breaks_the_document_or_the_server(case: Any, world: World) -> None:
    for role in ROLES:
        key = world.keys.get(role)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if case.operation.path == "/v1/verify" and case.method.upper() == "POST":
            response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
            assert response.status_code in (200, 422), response.text
            if response.status_code == 422:
                assert response.json()["detail"][0]["loc"][-1] == "credential"
        else:
            case.call_and_validate(headers=headers)
