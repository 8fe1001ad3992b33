"""Operator commands: migrations, serve with the demo, configuration."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from releasewise.cli.main import app
from releasewise.config import Settings
from releasewise.errors import InvalidInput
from releasewise.services.demo import DEMO_PASSWORD
from releasewise.store import migrate
from releasewise.store.db import Database
from releasewise.store.schema import metadata

runner = CliRunner()


def test_migrations_match_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(db.engine)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_db_upgrade_and_current_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASEWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RELEASEWISE_DATABASE_URL", raising=False)
    heads = ", ".join(sorted(migrate.head_revisions(Database("sqlite://").engine)))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and f"revision {heads}" in result.stdout and "was empty" in result.stdout
    assert (tmp_path / "data" / "releasewise.db").exists()
    result = runner.invoke(app, ["db", "current"])
    assert "up to date" in result.stdout
    assert f"was {heads}" in runner.invoke(app, ["db", "upgrade"]).stdout  # idempotent


def test_db_upgrade_on_postgresql(postgres_url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    from tests.conftest import unavailable

    if postgres_url is None:
        unavailable("PostgreSQL unavailable")
    admin = Database(str(postgres_url))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DROP DATABASE IF EXISTS rw_upgrade_test"))
        conn.execute(text("CREATE DATABASE rw_upgrade_test"))
    admin.dispose()
    url = str(postgres_url).rsplit("/", 1)[0] + "/rw_upgrade_test"
    monkeypatch.setenv("RELEASEWISE_DATABASE_URL", url)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "revision " + ", ".join(sorted(migrate.head_revisions(admin.engine))) in result.stdout
    assert "up to date" in runner.invoke(app, ["db", "current"]).stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_demo_starts_a_working_instance(tmp_path: Path) -> None:
    """What the README's first command does, minus the install."""
    port = free_port()
    env = {**os.environ, "RELEASEWISE_DATA_DIR": str(tmp_path / "data"), "RELEASEWISE_PORT": str(port)}
    env.pop("RELEASEWISE_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "releasewise", "serve", "--demo"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(base + "/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise AssertionError("server did not start: " + (proc.stdout.read() if proc.poll() is not None else ""))
            time.sleep(0.2)
        token = httpx.post(base + "/api/v1/auth/token", json={"login": "jonas", "password": DEMO_PASSWORD}).json()
        projects = httpx.get(base + "/api/v1/projects", headers={"Authorization": f"Bearer {token['token']}"}).json()
        assert {p["slug"] for p in projects} == {"echo-2", "prosody-data"}
        assert next(p for p in projects if p["slug"] == "echo-2")["asset_count"] == 10
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=20)
    assert "Demo logins" in output and "maya" in output and base in output


def test_settings_from_env_and_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "rw.toml"
    config.write_text('port = 9001\nbase_url = "https://rw.example"\nworkers = 3\n')
    monkeypatch.setenv("RELEASEWISE_CONFIG", str(config))
    monkeypatch.setenv("RELEASEWISE_WORKERS", "2")
    settings = Settings()
    assert settings.port == 9001 and settings.workers == 2  # the environment beats the file
    assert settings.secure_cookies


def test_bad_config_files_say_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "rw.toml"
    config.write_text("prot = 9001\n")
    monkeypatch.setenv("RELEASEWISE_CONFIG", str(config))
    with pytest.raises(InvalidInput, match="unknown settings: prot"):
        Settings()
    config.write_text("port = \n")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        Settings()
    monkeypatch.setenv("RELEASEWISE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(InvalidInput, match="not a file"):
        Settings()


def test_postgres_url_needs_no_other_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASEWISE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/x")
    settings = Settings()
    assert not settings.is_sqlite and settings.effective_database_url.startswith("postgresql+psycopg")


def test_secret_key_is_created_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    key = settings.effective_secret_key()
    assert key == Settings(data_dir=tmp_path).effective_secret_key()
    assert oct(os.stat(tmp_path / "secret_key").st_mode)[-3:] == "600"
