"""Blobs on a local (or network-mounted) file system.

Layout under the root::

    sha256/ab/cd/<64 hex digits>      one file per distinct content
    staging/<upload key>/<file id>.part  bytes of an upload in progress

Chunk integrity: each chunk carries the SHA-256 of the file *from its first byte
through the end of that chunk* (the "running" digest). The server keeps the hash
state of every upload in progress, so it hashes each byte once, and the digest of
the last chunk is the file's SHA-256. A chunk whose running digest does not
match is refused before anything is written; the upload continues from the same
offset. After a restart (or on another worker) the state is rebuilt from the
staged bytes.

Staged bytes are written with ``O_DIRECT`` where the file system allows it (see
``_StagedWriter``); durability is unchanged: a staged file is fsynced before it is
moved into the store.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import mmap
import os
import queue
import shutil
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

from releasewise.errors import Conflict, InvalidInput

_READ_BLOCK = 4 * 1024 * 1024
_MAX_CACHED_HASHES = 256
_DIRECT_ALIGN = 4096  # O_DIRECT wants buffer addresses, lengths and file offsets on this boundary
_DIRECT_BLOCK = 4 * 1024 * 1024  # bytes gathered before each direct write
_O_DIRECT = getattr(os, "O_DIRECT", 0)  # 0 where the platform has none (macOS): page cache only


class ChunkRejected(InvalidInput):
    """The chunk's bytes do not match the digest sent with them (corrupted in transit)."""

    code = "chunk_rejected"
    title = "Chunk rejected"


@dataclass(frozen=True)
class RunningHash:
    """Where an upload stands after a chunk: bytes stored so far and their SHA-256."""

    offset: int
    sha256: str


class BlobStore(Protocol):
    def path(self, sha256: str) -> Path: ...
    def relative_path(self, sha256: str) -> str: ...
    def exists(self, sha256: str) -> bool: ...
    def append(self, upload_key: str, file_id: int, offset: int, data: bytes, running_sha256: str) -> RunningHash: ...
    def append_stream(self, upload_key: str, file_id: int, offset: int, pieces: Iterable[bytes],
                      running_sha256: str, length: int) -> RunningHash: ...
    def commit(self, upload_key: str, file_id: int, sha256: str) -> bool: ...
    def discard(self, upload_key: str) -> None: ...


def _check_digest(value: str, what: str) -> str:
    value = (value or "").strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidInput(f"{what} must be a SHA-256 digest: 64 hexadecimal characters.", field="sha256")
    return value


class _BufferPool:
    """Page-aligned write buffers, reused so their pages stay mapped (a fresh mapping faults in again)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free: queue.SimpleQueue[mmap.mmap] = queue.SimpleQueue()

    def take(self) -> mmap.mmap:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            return mmap.mmap(-1, self.size)  # anonymous mappings are page-aligned

    def give_back(self, buffer: mmap.mmap) -> None:
        self._free.put(buffer)


_buffers = _BufferPool(_DIRECT_BLOCK)


def _write_all(fd: int, data: memoryview, position: int) -> None:
    """``pwrite`` until everything is written (a regular file may accept less than asked)."""
    while data:
        written = os.pwrite(fd, data, position)
        if written <= 0:
            raise OSError(errno.EIO, "The staged file accepted no bytes.")
        data, position = data[written:], position + written


class _StagedWriter:
    """Hashes a chunk and writes it at ``offset`` of a staged file, in one pass over the bytes.

    Why ``O_DIRECT``: writing an upload through the page cache costs the kernel a fresh page per
    4 KiB (allocate, zero, copy, mark dirty, write back later). On the VMs measured that, not hashing,
    was the largest cost of an upload (1.5–3 s of system time per GiB, growing as the cache filled; see
    docs/performance.md). So whole page-aligned blocks go straight to the disk from one reused,
    page-aligned buffer: no page-cache pages and almost no CPU, and a multi-GiB upload no longer evicts
    what downloads are reading. The bytes before the first 4 KiB boundary and after the last go through
    the page cache, so any offset and chunk length work; so does everything where the file system
    refuses ``O_DIRECT`` (tmpfs, some network file systems) or the operator turned it off. Durability
    is the same either way: nothing counts as stored until ``commit`` fsyncs the file.
    """

    def __init__(self, path: Path, fd: int, offset: int, hasher: Any, direct: bool) -> None:
        self.hasher = hasher
        self.received = 0
        self._fd = fd
        self._direct_fd = self._open_direct(path) if direct else None
        self._buffer = _buffers.take()
        self._view = memoryview(self._buffer)
        self._base = offset - offset % _DIRECT_ALIGN  # file offset of buffer index 0 (page-aligned)
        self._start = offset - self._base  # first buffer index holding bytes of this chunk
        self._fill = self._start

    @staticmethod
    def _open_direct(path: Path) -> int | None:
        if not _O_DIRECT:
            return None
        try:
            return os.open(path, os.O_WRONLY | _O_DIRECT)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # this file system does not do direct I/O
                return None
            raise

    def write(self, piece: bytes | memoryview) -> None:
        """Hash ``piece`` while it is hot in the CPU cache (hashlib releases the GIL), then buffer it."""
        self.hasher.update(piece)
        self.received += len(piece)
        data = memoryview(piece)
        while data:
            taken = data[:len(self._buffer) - self._fill]
            self._view[self._fill:self._fill + len(taken)] = taken
            self._fill += len(taken)
            data = data[len(taken):]
            if self._fill == len(self._buffer):
                self._flush(final=False)

    def finish(self) -> None:
        """Write what is still buffered."""
        self._flush(final=True)

    def _flush(self, final: bool) -> None:
        low, high = self._start, self._fill
        direct_low = min(low + -low % _DIRECT_ALIGN, high)  # the first page boundary at or after ``low``
        direct_high = high - high % _DIRECT_ALIGN if final else high  # a full buffer ends on a boundary
        if self._direct_fd is None or direct_high <= direct_low:
            direct_low = direct_high = high  # nothing aligned, or no direct I/O: the page cache takes it all
        self._buffered(low, direct_low)
        self._direct(direct_low, direct_high)
        self._buffered(direct_high, high)
        self._base += high
        self._start = self._fill = 0

    def _buffered(self, low: int, high: int) -> None:
        if high > low:
            _write_all(self._fd, self._view[low:high], self._base + low)

    def _direct(self, low: int, high: int) -> None:
        if high <= low or self._direct_fd is None:
            return
        try:
            written = os.pwrite(self._direct_fd, self._view[low:high], self._base + low)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            self._stop_direct()  # opened, but this file system refuses the write itself
            written = 0
        self._buffered(low + written, high)  # what a short (or refused) direct write left

    def _stop_direct(self) -> None:
        if self._direct_fd is not None:
            os.close(self._direct_fd)
            self._direct_fd = None

    def close(self) -> None:
        """Close the direct descriptor and return the buffer to the pool."""
        self._stop_direct()
        self._view.release()
        _buffers.give_back(self._buffer)


class LocalBlobStore:
    def __init__(self, root: Path, *, direct_io: bool = True) -> None:
        self.root = root
        self.direct_io = direct_io  # write staged uploads with O_DIRECT where possible (_StagedWriter)
        self._hashes: OrderedDict[tuple[str, int], tuple[int, Any]] = OrderedDict()
        self._lock = Lock()

    # Reading ------------------------------------------------------------

    def relative_path(self, sha256: str) -> str:
        sha256 = _check_digest(sha256, "Blob name")
        return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path(self, sha256: str) -> Path:
        return self.root / self.relative_path(sha256)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    # Writing ------------------------------------------------------------

    def _staging(self, upload_key: str, file_id: int) -> Path:
        if not upload_key.isalnum():
            raise InvalidInput("Malformed upload key.")
        return self.root / "staging" / upload_key / f"{int(file_id)}.part"

    @contextmanager
    def _locked(self, path: Path) -> Iterator[Any]:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b", buffering=0) as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _hash_state(self, key: tuple[str, int], fh: Any, offset: int) -> Any:
        with self._lock:
            cached = self._hashes.get(key)
        if cached is not None and cached[0] == offset:
            return cached[1].copy()
        hasher = hashlib.sha256()
        fh.seek(0)
        remaining = offset
        while remaining:
            block = fh.read(min(_READ_BLOCK, remaining))
            if not block:
                raise Conflict("The staged upload is shorter than recorded; abort this upload and start again.")
            hasher.update(block)
            remaining -= len(block)
        return hasher

    def append(self, upload_key: str, file_id: int, offset: int, data: bytes, running_sha256: str) -> RunningHash:
        """Add ``data`` at ``offset`` if the running digest matches; otherwise raise ChunkRejected."""
        return self.append_stream(upload_key, file_id, offset, [data], running_sha256, len(data))

    def append_stream(self, upload_key: str, file_id: int, offset: int, pieces: Iterable[bytes],
                      running_sha256: str, length: int) -> RunningHash:
        """Like ``append``, but hashes and writes the chunk while it arrives (``pieces``).

        A chunk that turns out corrupted or short is cut off again (the file is truncated back to
        ``offset``), so a refused chunk leaves exactly what was there before.
        """
        expected = _check_digest(running_sha256, "The chunk's running digest")
        key = (upload_key, int(file_id))
        path = self._staging(upload_key, file_id)
        with self._locked(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < offset:
                raise Conflict(f"The server holds only {size} bytes of this file; resume from there.")
            hasher = self._hash_state(key, fh, offset)
            fh.truncate(offset)  # bytes of a chunk whose commit was lost are dropped
            writer = _StagedWriter(path, fh.fileno(), offset, hasher, self.direct_io)
            try:
                for piece in pieces:
                    writer.write(piece)
                writer.finish()
            except BaseException:
                fh.truncate(offset)  # a failed write (disk full, …) leaves what was there before
                raise
            finally:
                writer.close()
            received = writer.received
            digest = hasher.hexdigest()
            if digest != expected or received != length:
                fh.truncate(offset)
                raise ChunkRejected(
                    f"Chunk at offset {offset} is corrupted or incomplete ({received} of {length} bytes arrived, "
                    "and they do not match the digest sent with them). Nothing was stored; send the chunk again "
                    f"from offset {offset}."
                )
            end = offset + received
            with self._lock:
                self._hashes[key] = (end, hasher)
                self._hashes.move_to_end(key)
                while len(self._hashes) > _MAX_CACHED_HASHES:
                    self._hashes.popitem(last=False)
            return RunningHash(end, digest)

    def commit(self, upload_key: str, file_id: int, sha256: str) -> bool:
        """Move a finished staged file into place; False when that content was already stored."""
        staged = self._staging(upload_key, file_id)
        target = self.path(sha256)
        with self._lock:
            self._hashes.pop((upload_key, int(file_id)), None)
        if target.is_file():
            staged.unlink(missing_ok=True)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(staged, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(staged, target)
        return True

    def put_empty(self) -> str:
        digest = hashlib.sha256(b"").hexdigest()
        target = self.path(digest)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        return digest

    def discard(self, upload_key: str) -> None:
        if upload_key.isalnum():
            with self._lock:
                for key in [k for k in self._hashes if k[0] == upload_key]:
                    del self._hashes[key]
            shutil.rmtree(self.root / "staging" / upload_key, ignore_errors=True)
