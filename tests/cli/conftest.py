"""Fixtures for CLI tests: a real server on loopback and a private CLI config dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releasewise.cli.main import app
from releasewise.services.runtime import Runtime
from tests.conftest import PASSWORD, World, build_world
from tests.support.live import LiveServer, serving

runner = CliRunner()


@pytest.fixture
def server(sqlite_rt: Runtime) -> Iterator[tuple[LiveServer, World]]:
    world = build_world(sqlite_rt)
    with serving(sqlite_rt) as live:
        yield live, world


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RELEASEWISE_CLI_CONFIG_DIR", str(tmp_path / "cli"))
    monkeypatch.delenv("RELEASEWISE_TOKEN", raising=False)
    return tmp_path / "cli"


def rw(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def login(url: str, username: str) -> None:
    code, out, err = rw("login", "--url", url, "-u", username, "--password-stdin", input=PASSWORD + "\n")
    assert code == 0, err
    assert f"as {username}" in out


