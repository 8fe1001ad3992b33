"""Documentation must keep up with the code: settings, CLI commands, permission actions."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.main import get_command

from releasewise.cli.main import app
from releasewise.config import Settings
from releasewise.domain.roles import Action

DOCS = Path(__file__).resolve().parents[1] / "docs"


def cli_commands(group: typer.Typer) -> list[str]:
    paths: list[str] = []

    def walk(command: object, prefix: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, [*prefix, name])
        else:
            paths.append(" ".join(prefix))

    walk(get_command(group), [])
    return paths


def test_every_setting_is_documented() -> None:
    text = (DOCS / "operations.md").read_text()
    missing = [f"RELEASEWISE_{name.upper()}" for name in Settings.model_fields
               if f"`RELEASEWISE_{name.upper()}`" not in text]
    assert missing == []


def test_every_cli_command_is_documented() -> None:
    text = "".join(p.read_text() for p in (DOCS / "cli.md", DOCS / "provenance.md") if p.exists())
    commands = cli_commands(app)
    assert len(commands) > 20
    missing = [c for c in commands if f"releasewise {c}" not in text]
    assert missing == []


def test_every_permission_action_is_documented() -> None:
    text = (DOCS / "permissions.md").read_text()
    assert [a.value for a in Action if f"`{a.value}`" not in text] == []
