"""Signed releases end to end: publish, pull, `releasewise verify`, tampering, key rotation."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from releasewise.services import signing, tokens
from releasewise.cli.signing import compare_folder
from tests.cli.conftest import rw
from tests.conftest import World
from tests.hfapi.support import publish
from tests.support.live import LiveServer

FILES = {"config.json": b'{"d_model": 512}', "weights/model.bin": b"\x01\x02" * 40000}


def test_pull_then_verify_catches_changed_missing_and_extra_files(server: tuple[LiveServer, World], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    live, w = server
    publish(w.rt, w.researcher, FILES)
    _, raw = tokens.create_token(w.rt, w.lead, name="cli", scopes=["read"])
    monkeypatch.setenv("RELEASEWISE_URL", live.url)
    monkeypatch.setenv("RELEASEWISE_TOKEN", raw)
    dest = tmp_path / "echo"
    code, out, err = rw("pull", "lab-a/echo/weights-1b", str(dest))
    assert code == 0, err
    assert "releasewise verify" in out and (dest / ".releasewise" / "manifest.json").is_file()

    code, out, err = rw("verify", str(dest))
    assert code == 0 and "2 files match lab-a/echo/weights-1b v1" in out, err

    (dest / "weights" / "model.bin").write_bytes(b"\x01\x03" * 40000)
    (dest / "config.json").unlink()
    (dest / "backdoor.py").write_text("print('hi')")
    code, _, err = rw("verify", str(dest))
    assert code == 2
    assert "changed: weights/model.bin" in err and "missing: config.json" in err and "extra: backdoor.py" in err

    # A manifest edited to match tampered files no longer matches its signature.
    manifest_file = dest / ".releasewise" / "manifest.json"
    data = json.loads(manifest_file.read_text())
    data["manifest"]["files"] = [f for f in data["manifest"]["files"] if f["path"] != "config.json"]
    manifest_file.write_text(json.dumps(data))
    code, _, err = rw("verify", str(dest))
    assert code == 1 and "does not match its content" in err


def test_rotation_keeps_old_signatures_verifiable_and_foreign_keys_are_untrusted(
        server: tuple[LiveServer, World], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live, w = server
    publish(w.rt, w.researcher, FILES)
    _, raw = tokens.create_token(w.rt, w.lead, name="cli", scopes=["read"])
    monkeypatch.setenv("RELEASEWISE_URL", live.url)
    monkeypatch.setenv("RELEASEWISE_TOKEN", raw)
    dest = tmp_path / "echo"
    assert rw("pull", "lab-a/echo/weights-1b", str(dest))[0] == 0
    old_keys = signing.public_keys(w.rt, "lab-a")
    signing.rotate_key(w.rt, w.owner, "lab-a")
    keys = httpx.get(f"{live.url}/api/v1/orgs/lab-a/signing-keys").json()  # public: no token
    assert len(keys) == 2 and keys[0]["retired_at"] is not None and keys[1]["retired_at"] is None
    assert keys[0]["key_id"] == old_keys[0].key_id
    assert rw("verify", str(dest))[0] == 0  # signed by the retired key, still verifiable

    stranger = [{"key_id": keys[1]["key_id"], "public_key": keys[1]["public_key"]}]
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(stranger))
    code, _, err = rw("verify", str(dest), "--keys", str(keys_file))
    assert code == 1 and "untrusted" in err


def test_manifest_follows_the_download_rules(server: tuple[LiveServer, World]) -> None:
    live, w = server
    publish(w.rt, w.researcher, FILES)
    url = f"{live.url}/api/v1/orgs/lab-a/projects/echo/assets/weights-1b/manifest"
    _, outsider = tokens.create_token(w.rt, w.outsider, name="x", scopes=["read"])
    refused = httpx.get(url, headers={"Authorization": f"Bearer {outsider}"})
    assert refused.status_code in (403, 404) and "model.bin" not in refused.text
    assert httpx.get(url).status_code in (401, 403, 404)
    _, member = tokens.create_token(w.rt, w.viewer, name="x", scopes=["read"])
    ok = httpx.get(url, headers={"Authorization": f"Bearer {member}"}).json()
    assert {f["path"] for f in ok["manifest"]["files"]} == set(FILES) and ok["signature"]
    with w.rt.db.unit_of_work(write=False) as s:
        from releasewise.store.models_signing import OrgSigningKey

        stored = s.query(OrgSigningKey).one()
    assert "PRIVATE" not in stored.private_key_encrypted and len(stored.private_key_encrypted) > 60


def test_compare_folder_names_changed_missing_and_extra_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "config.json").write_bytes(b"{}")
    (tmp_path / "b.bin").write_bytes(b"abc")
    (tmp_path / ".releasewise").mkdir()
    (tmp_path / ".releasewise" / "manifest.json").write_text("{}")
    assert compare_folder(small_manifest(), tmp_path).intact
    (tmp_path / "b.bin").write_bytes(b"abd")
    (tmp_path / "a" / "config.json").unlink()
    (tmp_path / "notes.txt").write_text("mine")
    report = compare_folder(small_manifest(), tmp_path)
    assert (report.changed, report.missing, report.extra) == (("b.bin",), ("a/config.json",), ("notes.txt",))


def small_manifest() -> dict[str, object]:
    import hashlib

    from releasewise.domain import signing as rules

    return rules.manifest_document(org="lab", project="echo", asset="weights", version=2, commit="c0ffee",
                                   files=[("b.bin", 3, hashlib.sha256(b"abc").hexdigest()),
                                          ("a/config.json", 2, hashlib.sha256(b"{}").hexdigest())])
