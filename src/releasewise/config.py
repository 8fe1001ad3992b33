"""Settings, read from ``RELEASEWISE_*`` environment variables and a config file.

Precedence, highest first: explicit keyword arguments (tests), environment
variables, the TOML file named by ``RELEASEWISE_CONFIG`` (or
``<data_dir>/releasewise.toml`` when present), then defaults. The defaults give
the embedded mode: SQLite and files under one data folder.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from releasewise.errors import InvalidInput


class Settings(BaseSettings):
    """Every knob an operator can turn. Each field is documented in docs/operations.md."""

    model_config = SettingsConfigDict(env_prefix="RELEASEWISE_", extra="forbid")

    data_dir: Path = Field(default=Path("releasewise-data"))
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "releasewise <releasewise@localhost>"

    session_days: int = 14
    invitation_days: int = 7
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_window_minutes: int = 15
    outbox_interval_seconds: float = 10.0
    migrate_on_start: bool = True

    # access / registry
    blob_dir: Path | None = None
    upload_direct_io: bool = True
    max_upload_bytes: int = 100 * 1024**3
    accel_redirect_prefix: str = ""
    download_recheck_mib: int = 64
    grant_default_days: int = 365

    # disclosure
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 5
    disclosure_max_attachment_bytes: int = 20 * 1024**2

    # incidents (misuse reports)
    report_max_evidence_bytes: int = 10 * 1024**2
    report_max_per_ip_per_hour: int = 5
    report_pow_bits: int = 16
    report_followup_days: int = 180

    # provenance: content credentials and the detection service
    detection_max_bytes: int = 25 * 1024**2
    detection_checks_per_minute: int = 60
    c2pa_trust_anchors: Path | None = None

    @field_validator("workers")
    @classmethod
    def _positive_workers(cls, v: int) -> int:
        if v < 1:
            raise ValueError("workers must be at least 1")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))

    # Derived values -----------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'releasewise.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def effective_secret_key(self) -> str:
        """The signing key; in embedded mode it is created once in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads ``[releasewise]``-less flat keys from a TOML config file."""

    def _path(self) -> Path | None:
        explicit = os.environ.get("RELEASEWISE_CONFIG")
        if explicit:
            path = Path(explicit)
            if not path.is_file():
                raise InvalidInput(
                    f"RELEASEWISE_CONFIG points to {path}, which is not a file. "
                    "Fix the path or unset the variable."
                )
            return path
        data_dir = Path(os.environ.get("RELEASEWISE_DATA_DIR", "releasewise-data"))
        candidate = data_dir / "releasewise.toml"
        return candidate if candidate.is_file() else None

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = self._path()
        if path is None:
            return {}
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"Config file {path} is not valid TOML: {exc}") from exc
        unknown = sorted(set(data) - set(Settings.model_fields))
        if unknown:
            raise InvalidInput(
                f"Config file {path} has unknown settings: {', '.join(unknown)}. "
                "See docs/operations.md for the list."
            )
        return data
