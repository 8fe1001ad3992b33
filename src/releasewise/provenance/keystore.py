"""A local keystore: watermark keys per organisation and model, in one JSON file.

The file lives in the releasewise data directory (``$RELEASEWISE_DATA_DIR``,
default ``./releasewise-data``) as ``provenance-keys.json``, written
atomically with mode 0600.  Rotating a key retires the old one — it is kept,
so media marked earlier is still detected — and makes a new active key.
Key material is stored only here, never in marked files.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, List

from .coding import FIELD_BITS, WatermarkKey
from .errors import InvalidKeyError, KeyNotFoundError, KeystoreError

KEYSTORE_FILENAME = "provenance-keys.json"
FORMAT_VERSION = 1


def default_keystore_path() -> Path:
    return Path(os.environ.get("RELEASEWISE_DATA_DIR") or "releasewise-data") / KEYSTORE_FILENAME


@dataclass(frozen=True)
class KeyRecord:
    """One key in the store. ``generation`` counts rotations and is the default grant id in payloads."""

    key_id: str
    organisation: str
    model: str
    release_id: int
    generation: int
    status: str  # "active" or "retired"
    created: str
    secret: str

    @property
    def key(self) -> WatermarkKey:
        return WatermarkKey.from_hex(self.secret, key_id=self.key_id)

    def public(self) -> dict[str, Any]:
        """Everything but the secret (for listings and reports)."""
        data = asdict(self)
        data.pop("secret")
        data["fingerprint"] = self.key.fingerprint()
        return data


class Keystore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_keystore_path()

    # -- persistence --------------------------------------------------------
    def _read(self) -> List[KeyRecord]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text())
            if data.get("version") != FORMAT_VERSION:
                raise KeystoreError(f"{self.path}: unknown keystore version {data.get('version')!r}")
            return [KeyRecord(**item) for item in data["keys"]]
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise KeystoreError(
                f"{self.path}: the keystore cannot be read ({exc}); restore it from a backup"
            ) from None

    def _write(self, records: List[KeyRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"version": FORMAT_VERSION, "keys": [asdict(r) for r in records]}, indent=2)
        fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(body)
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise KeystoreError(f"{self.path}: cannot write the keystore ({exc})") from None

    # -- queries ------------------------------------------------------------
    def list(self) -> "List[KeyRecord]":
        return self._read()

    def active(self, organisation: str, model: str) -> KeyRecord:
        for record in self._read():
            if record.organisation == organisation and record.model == model and record.status == "active":
                return record
        raise KeyNotFoundError(
            f"no active key for organisation {organisation!r}, model {model!r} in {self.path}; "
            f"create one with `releasewise keys create --org {organisation} --model {model}`"
        )

    def detection_keys(self) -> List[KeyRecord]:
        """Every key, active and retired: a retired key still detects what it marked."""
        return self._read()

    # -- changes ------------------------------------------------------------
    def create(self, organisation: str, model: str, *, release_id: int | None = None) -> KeyRecord:
        if not organisation.strip() or not model.strip():
            raise InvalidKeyError("organisation and model must be non-empty names")
        records = self._read()
        if any(r.organisation == organisation and r.model == model for r in records):
            raise InvalidKeyError(
                f"a key for {organisation}/{model} already exists; use `releasewise keys rotate` to replace it"
            )
        if release_id is None:
            release_id = max((r.release_id for r in records), default=0) + 1
        if not 0 <= release_id < 2**FIELD_BITS:
            raise InvalidKeyError(f"release id must be between 0 and {2**FIELD_BITS - 1}")
        record = self._new(organisation, model, release_id, generation=0)
        self._write(records + [record])
        return record

    def rotate(self, organisation: str, model: str) -> KeyRecord:
        records = self._read()
        current = self.active(organisation, model)
        retired = [
            KeyRecord(**{**asdict(r), "status": "retired"}) if r.key_id == current.key_id else r for r in records
        ]
        record = self._new(organisation, model, current.release_id, generation=current.generation + 1)
        self._write(retired + [record])
        return record

    @staticmethod
    def _new(organisation: str, model: str, release_id: int, generation: int) -> KeyRecord:
        key = WatermarkKey.generate()
        return KeyRecord(
            key_id="k_" + secrets.token_hex(6),
            organisation=organisation,
            model=model,
            release_id=int(release_id),
            generation=int(generation),
            status="active",
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            secret=key.hex(),
        )
