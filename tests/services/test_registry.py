"""Uploads into asset versions: chunks, digests, dedup, visibility, bad input (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib

import pytest

from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services import audit, registry
from releasewise.services.registry import RevisionNotFound
from tests.conftest import World
from tests.hfapi.support import publish

ASSET = ("lab-a", "echo", "weights-1b")


def versions(w: World) -> list[registry.VersionView]:
    return registry.list_versions(w.rt, w.lead, *ASSET)


def test_version_is_visible_only_when_every_file_is_complete(world: World) -> None:
    w = world
    up = registry.start_upload(w.rt, w.researcher, *ASSET, files=[{"path": "a.bin", "size": 6},
                                                                   {"path": "b.bin", "size": 3}])
    a, b = up.files
    registry.upload_chunk(w.rt, w.researcher, up.upload_key, a.id, offset=0, data=b"abcdef",
                          running_sha256=hashlib.sha256(b"abcdef").hexdigest())
    with pytest.raises(RevisionNotFound):
        registry.snapshot(w.rt, w.researcher, "lab-a", "echo-weights-1b", "main")
    assert versions(w)[0].status == "uploading"
    registry.upload_chunk(w.rt, w.researcher, up.upload_key, b.id, offset=0, data=b"xyz",
                          running_sha256=hashlib.sha256(b"xyz").hexdigest())
    snap = registry.snapshot(w.rt, w.researcher, "lab-a", "echo-weights-1b", "main")
    assert [(f.path, f.sha256) for f in snap.files] == [("a.bin", hashlib.sha256(b"abcdef").hexdigest()),
                                                        ("b.bin", hashlib.sha256(b"xyz").hexdigest())]
    assert len(snap.commit_sha) == 40
    actions = [e.action for e in audit.list_events(w.rt, w.lead, "lab-a", limit=5)]
    assert actions[:2] == ["version.published", "upload.started"]


def test_corrupted_chunk_is_rejected_audited_and_the_upload_continues(world: World) -> None:
    w = world
    data = b"0123456789" * 10
    up = registry.start_upload(w.rt, w.researcher, *ASSET, files=[{"path": "w.bin", "size": len(data)}])
    f = up.files[0]
    h = hashlib.sha256(data[:50])
    registry.upload_chunk(w.rt, w.researcher, up.upload_key, f.id, offset=0, data=data[:50], running_sha256=h.hexdigest())
    good = h.copy()
    good.update(data[50:])
    corrupted = data[50:70] + b"X" + data[71:]
    with pytest.raises(InvalidInput, match="corrupted"):
        registry.upload_chunk(w.rt, w.researcher, up.upload_key, f.id, offset=50, data=corrupted,
                              running_sha256=good.hexdigest())
    state = registry.get_upload(w.rt, w.researcher, up.upload_key)
    assert state.files[0].received_bytes == 50 and state.status == "uploading"
    assert audit.list_events(w.rt, w.lead, "lab-a", limit=1)[0].action == "upload.chunk_rejected"
    registry.upload_chunk(w.rt, w.researcher, up.upload_key, f.id, offset=50, data=data[50:],
                          running_sha256=good.hexdigest())
    ticket = registry.resolve_file(w.rt, w.researcher, "lab-a", "echo-weights-1b", "v1", "w.bin")
    assert ticket.blob_path.read_bytes() == data and ticket.sha256 == hashlib.sha256(data).hexdigest()


def test_identical_files_are_stored_once_and_declared_known_content_needs_no_bytes(world: World) -> None:
    w = world
    v1 = publish(w.rt, w.researcher, {"a.bin": b"same bytes", "b.bin": b"same bytes", "c.bin": b"other"})
    blob_root = w.rt.settings.data_dir / "blobs" / "sha256"
    assert len([p for p in blob_root.rglob("*") if p.is_file()]) == 2
    known = hashlib.sha256(b"same bytes").hexdigest()
    v2 = registry.start_upload(w.rt, w.researcher, *ASSET, files=[{"path": "a.bin", "size": 10, "sha256": known}])
    assert v2.status == "complete" and v2.commit_sha != v1.commit_sha
    assert len([p for p in blob_root.rglob("*") if p.is_file()]) == 2


@pytest.mark.parametrize("name", ["../etc/passwd", "/abs.bin", "a/../../b", "a//b", "./a", "a\\b", "a\x00b", "",
                                  "x" * 501, "dir/"])
def test_path_traversal_and_bad_names_are_refused_and_change_nothing(world: World, name: str) -> None:
    w = world
    with pytest.raises(InvalidInput):
        registry.start_upload(w.rt, w.researcher, *ASSET, files=[{"path": name, "size": 1}])
    assert versions(w) == []


@pytest.mark.parametrize("files,message", [
    ([], "at least one file"),
    ([{"path": "a", "size": -1}], "whole number"),
    ([{"path": "a", "size": "5"}], "whole number"),
    ([{"path": "a", "size": 1}, {"path": "a", "size": 2}], "listed twice"),
    ([{"path": "a", "size": 1, "sha256": "xyz"}], "64 hexadecimal"),
    ([{"path": "a", "size": 10**15}], "largest file"),
])
def test_bad_manifests_get_clear_errors_and_change_nothing(world: World, files: list[dict[str, object]],
                                                            message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        registry.start_upload(world.rt, world.researcher, *ASSET, files=files)
    assert versions(world) == []


def test_wrong_offset_oversized_chunk_and_wrong_declared_digest_change_nothing(world: World) -> None:
    w = world
    up = registry.start_upload(w.rt, w.researcher, *ASSET, files=[
        {"path": "a", "size": 4, "sha256": hashlib.sha256(b"good").hexdigest()}])
    key, fid = up.upload_key, up.files[0].id
    with pytest.raises(Conflict, match="resume from 0"):
        registry.upload_chunk(w.rt, w.researcher, key, fid, offset=2, data=b"od",
                              running_sha256=hashlib.sha256(b"od").hexdigest())
    with pytest.raises(InvalidInput, match="declared as 4 bytes"):
        registry.upload_chunk(w.rt, w.researcher, key, fid, offset=0, data=b"toolong",
                              running_sha256=hashlib.sha256(b"toolong").hexdigest())
    with pytest.raises(InvalidInput, match="does not match the SHA-256 declared"):
        registry.upload_chunk(w.rt, w.researcher, key, fid, offset=0, data=b"bad!",
                              running_sha256=hashlib.sha256(b"bad!").hexdigest())
    with pytest.raises(InvalidInput, match="SHA-256 digest"):
        registry.upload_chunk(w.rt, w.researcher, key, fid, offset=0, data=b"good", running_sha256="nope")
    assert registry.get_upload(w.rt, w.researcher, key).files[0].received_bytes == 0


def test_only_uploaders_of_the_organisation_may_upload(world: World) -> None:
    w = world
    with pytest.raises(PermissionDenied, match="asset.upload"):
        registry.start_upload(w.rt, w.viewer, *ASSET, files=[{"path": "a", "size": 1}])
    with pytest.raises(NotFound):
        registry.start_upload(w.rt, w.outsider, *ASSET, files=[{"path": "a", "size": 1}])
    up = registry.start_upload(w.rt, w.researcher, *ASSET, files=[{"path": "a", "size": 1}])
    with pytest.raises(NotFound):  # someone else's upload key from another organisation
        registry.upload_chunk(w.rt, w.outsider, up.upload_key, up.files[0].id, offset=0, data=b"x",
                              running_sha256=hashlib.sha256(b"x").hexdigest())
    assert registry.get_upload(w.rt, w.researcher, up.upload_key).files[0].received_bytes == 0


def test_aborted_upload_leaves_the_previous_version_intact(world: World) -> None:
    w = world
    publish(w.rt, w.researcher, {"w.bin": b"v1 bytes"})
    up = registry.start_upload(w.rt, w.researcher, *ASSET, files=[{"path": "w.bin", "size": 100}])
    registry.upload_chunk(w.rt, w.researcher, up.upload_key, up.files[0].id, offset=0, data=b"x" * 10,
                          running_sha256=hashlib.sha256(b"x" * 10).hexdigest())
    registry.abort_upload(w.rt, w.researcher, up.upload_key)
    ticket = registry.resolve_file(w.rt, w.researcher, "lab-a", "echo-weights-1b", "main", "w.bin")
    assert ticket.blob_path.read_bytes() == b"v1 bytes"
    assert [v.status for v in versions(w)] == ["aborted", "complete"]
    with pytest.raises(Conflict):
        registry.upload_chunk(w.rt, w.researcher, up.upload_key, up.files[0].id, offset=10, data=b"x",
                              running_sha256=hashlib.sha256(b"x" * 11).hexdigest())


def test_a_chunk_cut_short_in_transit_is_refused_and_leaves_the_staged_bytes_as_they_were(world: World) -> None:
    w = world
    data = bytes(range(256)) * 16
    up = registry.start_upload(w.rt, w.researcher, *ASSET, files=[{"path": "w.bin", "size": len(data)}])
    fid = up.files[0].id
    digest = hashlib.sha256(data).hexdigest()
    with pytest.raises(InvalidInput, match="incomplete"):  # the client vanished after 1000 of 4096 bytes
        registry.upload_chunk_stream(w.rt, w.researcher, up.upload_key, fid, offset=0, length=len(data),
                                     pieces=iter([data[:1000]]), running_sha256=digest)
    staged = w.rt.settings.data_dir / "blobs" / "staging" / up.upload_key / f"{fid}.part"
    assert staged.stat().st_size == 0
    assert registry.get_upload(w.rt, w.researcher, up.upload_key).files[0].received_bytes == 0
    registry.upload_chunk_stream(w.rt, w.researcher, up.upload_key, fid, offset=0, length=len(data),
                                 pieces=iter([data[:1000], data[1000:]]), running_sha256=digest)
    assert registry.get_upload(w.rt, w.researcher, up.upload_key).status == "complete"
