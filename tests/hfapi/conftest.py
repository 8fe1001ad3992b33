from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from releasewise.services import tokens
from releasewise.services.runtime import Actor
from tests.conftest import World, build_world
from tests.support.live import LiveServer, serving


@pytest.fixture
def hub(sqlite_rt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, World]]:  # type: ignore[no-untyped-def]
    """A real uvicorn server with the two-organisation world; huggingface_hub caches under tmp_path."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    world = build_world(sqlite_rt)
    with serving(sqlite_rt) as live:
        yield live, world


def token_for(world: World, actor: Actor, scopes: str = "read") -> str:
    _, raw = tokens.create_token(world.rt, actor, name="hf", scopes=scopes)
    return raw
