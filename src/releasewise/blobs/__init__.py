"""Content-addressed storage of uploaded files (the blob port and its local implementation).

A blob is named by the SHA-256 of its bytes, so identical files are stored once.
Uploads are written to a staging file first and moved into place only after the
server has checked their digest: a reader never sees a partial blob.
"""

from __future__ import annotations

from pathlib import Path

from releasewise.blobs.local import BlobStore, LocalBlobStore, RunningHash

__all__ = ["BlobStore", "LocalBlobStore", "RunningHash", "blob_store_for"]

_stores: dict[Path, LocalBlobStore] = {}


def blob_store_for(blob_dir: Path, *, direct_io: bool = True) -> LocalBlobStore:
    """One store object per folder per process (it caches running upload hashes)."""
    key = blob_dir.resolve()
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = LocalBlobStore(key, direct_io=direct_io)
    store.direct_io = direct_io
    return store
