from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from releasewise.app import create_app
from releasewise.services import tokens
from releasewise.services.runtime import Actor
from tests.conftest import World


@pytest.fixture
def api(sqlite_world: World) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=sqlite_world.rt)) as client:
        yield client


def bearer(world: World, actor: Actor, scopes: str = "read,write") -> dict[str, str]:
    _, raw = tokens.create_token(world.rt, actor, name="test", scopes=scopes)
    return {"Authorization": f"Bearer {raw}"}
