from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from releasewise.app import create_app
from tests.conftest import PASSWORD, World

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    if match is None:
        raise AssertionError("page has no CSRF field")
    return match.group(1)


@pytest.fixture
def browser_client(sqlite_world: World) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=sqlite_world.rt), follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, username: str) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"login": username, "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert r.status_code == 303, r.text
