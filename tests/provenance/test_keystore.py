from __future__ import annotations

import json
import stat

import pytest

from releasewise.provenance import (
    ImageMark,
    InvalidKeyError,
    KeyNotFoundError,
    Keystore,
    KeystoreError,
    Payload,
    default_keystore_path,
    load_image,
    save_image,
)


def test_create_rotate_list(tmp_path):
    store = Keystore(tmp_path / "keys.json")
    first = store.create("acme", "voice-1")
    assert first.status == "active" and first.generation == 0 and first.release_id == 1
    with pytest.raises(InvalidKeyError, match="rotate"):
        store.create("acme", "voice-1")
    second = store.rotate("acme", "voice-1")
    assert second.release_id == first.release_id and second.generation == 1
    records = {r.key_id: r for r in store.list()}
    assert records[first.key_id].status == "retired" and records[second.key_id].status == "active"
    assert store.active("acme", "voice-1").key_id == second.key_id
    assert len(store.detection_keys()) == 2
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
    assert "secret" not in first.public()
    with pytest.raises(KeyNotFoundError, match="keys create"):
        store.active("acme", "other")


def test_retired_key_still_detects_and_no_key_material_in_files(tmp_path, photo):
    store = Keystore(tmp_path / "keys.json")
    old = store.create("acme", "img")
    marked_path = tmp_path / "m.png"
    save_image(marked_path, ImageMark(old.key).embed(photo, Payload(old.release_id, old.generation)))
    store.rotate("acme", "img")
    blob = marked_path.read_bytes()
    assert old.key.secret not in blob and old.secret.encode() not in blob
    pixels = load_image(marked_path)
    hits = [r for r in store.detection_keys() if ImageMark(r.key).detect(pixels).detected]
    assert [h.key_id for h in hits] == [old.key_id]


def test_corrupt_keystore_is_a_clear_error(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("{not json")
    with pytest.raises(KeystoreError, match="cannot be read"):
        Keystore(path).list()
    path.write_text(json.dumps({"version": 99, "keys": []}))
    with pytest.raises(KeystoreError):
        Keystore(path).list()


def test_default_path_follows_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("RELEASEWISE_DATA_DIR", str(tmp_path))
    assert default_keystore_path() == tmp_path / "provenance-keys.json"
    monkeypatch.delenv("RELEASEWISE_DATA_DIR")
    assert str(default_keystore_path()) == "releasewise-data/provenance-keys.json"
