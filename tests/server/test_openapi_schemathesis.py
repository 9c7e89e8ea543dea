"""schemathesis against the server's OpenAPI document: generated requests (bounded examples) sent to
a live ``hotcrm-ai serve`` never get a 5xx, and every response matches the documented status codes,
content types and schemas."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from support.server import ServerProcess

from hotcrm_ai_server.openapi import openapi_document

schema = schemathesis.openapi.from_dict(openapi_document())


def test_the_served_document_is_the_one_tested(server: ServerProcess, acme_key: str) -> None:
    served = httpx.get(f"http://{server.url}/openapi.json", headers={"X-API-Key": acme_key}).json()
    assert served == openapi_document()


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_responses_match_the_schema(case, server: ServerProcess, acme_key: str) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        base_url=f"http://{server.url}",
        headers={"Authorization": f"Bearer {acme_key}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        timeout=60,
    )
