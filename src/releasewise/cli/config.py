"""Where the CLI keeps its server URL and token: the user's config dir, mode 0600."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import typer


def config_dir() -> Path:
    override = os.environ.get("RELEASEWISE_CLI_CONFIG_DIR")
    return Path(override) if override else Path(typer.get_app_dir("releasewise"))


def config_path() -> Path:
    return config_dir() / "credentials.json"


@dataclass(frozen=True)
class CliCredentials:
    url: str
    token: str


def load() -> CliCredentials | None:
    """Environment (RELEASEWISE_URL + RELEASEWISE_TOKEN) first, then the saved login."""
    env_token = os.environ.get("RELEASEWISE_TOKEN")
    if env_token:
        return CliCredentials(os.environ.get("RELEASEWISE_URL", "http://127.0.0.1:8000"), env_token)
    path = config_path()
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return CliCredentials(data["url"], data["token"])


def save(credentials: CliCredentials) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": credentials.url, "token": credentials.token}, fh)
    os.chmod(path, 0o600)
    return path


def forget() -> bool:
    path = config_path()
    if path.exists():
        path.unlink()
        return True
    return False
