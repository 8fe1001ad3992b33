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
"""

from __future__ import annotations

import fcntl
import hashlib
import os
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


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
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
        with self._locked(self._staging(upload_key, file_id)) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < offset:
                raise Conflict(f"The server holds only {size} bytes of this file; resume from there.")
            hasher = self._hash_state(key, fh, offset)
            fh.seek(offset)
            fh.truncate(offset)  # bytes of a chunk whose commit was lost are dropped
            received = 0
            for piece in pieces:
                hasher.update(piece)
                fh.write(piece)
                received += len(piece)
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
