"""Property-based API testing from our own OpenAPI document (schemathesis): no request the schema
allows may produce a server error, and every error is a problem document."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from releasewise.app import create_app
from releasewise.services import tokens
from releasewise.services.runtime import Runtime
from tests.conftest import build_world
from tests.support.live import LiveServer


@pytest.mark.slow
def test_no_operation_produces_a_server_error(sqlite_rt: Runtime) -> None:
    world = build_world(sqlite_rt)
    _, raw = tokens.create_token(sqlite_rt, world.owner, name="fuzz", scopes=["read", "write"])
    server = LiveServer(create_app(runtime=sqlite_rt)).start()
    failures: list[str] = []
    checked = 0
    try:
        schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(operation.as_strategy())
            @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def check(case: Any) -> None:
                response = case.call(base_url=server.url, headers={"Authorization": f"Bearer {raw}"})
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} → {response.status_code}")
                elif response.status_code >= 400 and "application/problem+json" not in str(
                        response.headers.get("content-type", "")):
                    failures.append(f"{case.method} {case.formatted_path} → {response.status_code} not a problem")

            check()
            checked += 1
    finally:
        server.stop()
    assert checked > 40
    assert failures == [], "\n".join(sorted(set(failures))[:20])
