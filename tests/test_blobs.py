"""The local blob store's staged writes: direct I/O for aligned blocks, the page cache for the rest."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from releasewise.blobs import local
from releasewise.blobs.local import ChunkRejected, LocalBlobStore

# Chunk lengths that start and end off the 4 KiB boundary, cross the writer's 4 MiB buffer, or fit in one page.
LENGTHS = [1000, 3096, 4096, 5 * 1024 * 1024 + 7, 1, 8191, 4 * 1024 * 1024]


def _push(store: LocalBlobStore, data: bytes, lengths: list[int]) -> str:
    hasher = hashlib.sha256()
    offset = 0
    for length in lengths:
        chunk = data[offset:offset + length]
        hasher.update(chunk)
        pieces = [chunk[i:i + 70_000] for i in range(0, len(chunk), 70_000)]  # like an HTTP body arriving
        state = store.append_stream("up", 1, offset, pieces, hasher.hexdigest(), len(chunk))
        offset = state.offset
    return hasher.hexdigest()


@pytest.mark.parametrize("direct_io", [True, False])
def test_any_offsets_and_lengths_store_the_exact_bytes(tmp_path: Path, direct_io: bool) -> None:
    data = os.urandom(sum(LENGTHS))
    store = LocalBlobStore(tmp_path, direct_io=direct_io)
    digest = _push(store, data, LENGTHS)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.commit("up", 1, digest)
    assert store.path(digest).read_bytes() == data


def test_a_restarted_server_rebuilds_the_hash_from_directly_written_bytes(tmp_path: Path) -> None:
    data = os.urandom(9 * 1024 * 1024 + 123)
    first = 5 * 1024 * 1024 + 17
    _push(LocalBlobStore(tmp_path), data[:first], [first])
    fresh = LocalBlobStore(tmp_path)  # no cached hash state: it reads the staged bytes back
    state = fresh.append_stream("up", 1, first, [data[first:]], hashlib.sha256(data).hexdigest(),
                                len(data) - first)
    assert state.offset == len(data)
    assert fresh.commit("up", 1, state.sha256)
    assert fresh.path(state.sha256).read_bytes() == data


def test_a_corrupted_chunk_is_cut_off_after_being_written_directly(tmp_path: Path) -> None:
    data = os.urandom(6 * 1024 * 1024 + 5)
    store = LocalBlobStore(tmp_path)
    _push(store, data[:4096 + 3], [4096 + 3])
    bad = bytearray(data[4099:])
    bad[-1] ^= 1
    with pytest.raises(ChunkRejected):
        store.append_stream("up", 1, 4099, [bytes(bad)], hashlib.sha256(data).hexdigest(), len(bad))
    staged = tmp_path / "staging" / "up" / "1.part"
    assert staged.read_bytes() == data[:4099]
    state = store.append_stream("up", 1, 4099, [data[4099:]], hashlib.sha256(data).hexdigest(), len(data) - 4099)
    assert state.sha256 == hashlib.sha256(data).hexdigest()


def test_a_file_system_that_refuses_direct_writes_gets_them_through_the_page_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_pwrite = os.pwrite
    direct_fds: set[int] = set()
    real_open = os.open

    def tracking_open(path: object, flags: int, *args: int) -> int:
        fd = real_open(path, flags, *args)  # type: ignore[arg-type]
        if flags & local._O_DIRECT:
            direct_fds.add(fd)
        return fd

    def refusing_pwrite(fd: int, data: memoryview, position: int) -> int:
        if fd in direct_fds:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, position)

    monkeypatch.setattr(os, "open", tracking_open)
    monkeypatch.setattr(os, "pwrite", refusing_pwrite)
    data = os.urandom(sum(LENGTHS))
    store = LocalBlobStore(tmp_path)
    digest = _push(store, data, LENGTHS)
    assert store.commit("up", 1, digest)
    assert store.path(digest).read_bytes() == data
    assert direct_fds or not local._O_DIRECT, "the direct path was not tried"


def test_a_failed_write_leaves_the_staged_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(3 * 1024 * 1024)
    store = LocalBlobStore(tmp_path)
    _push(store, data[:5000], [5000])

    def disk_full(fd: int, data: memoryview, position: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", disk_full)
    with pytest.raises(OSError):
        store.append_stream("up", 1, 5000, [data[5000:]], hashlib.sha256(data).hexdigest(), len(data) - 5000)
    assert (tmp_path / "staging" / "up" / "1.part").read_bytes() == data[:5000]


def test_server_heap_tuning_applies_on_glibc() -> None:
    """The server's allocator settings take effect here (CI runs Linux with glibc); see releasewise.memory."""
    import sys

    from releasewise.memory import keep_heap_slack

    assert keep_heap_slack() is sys.platform.startswith("linux")
