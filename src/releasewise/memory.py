"""Process-wide allocator tuning for processes that stream large uploads (the server, `releasewise push`).

Why: CPython allocates every received or read block of bytes with ``malloc``, and glibc gives the
top of its heap back to the kernel as soon as more than 128 KiB there are free, then takes it back on
the next allocation. An upload arrives as a stream of ~64–256 KiB ``bytes`` objects, so the server
got a fresh, zeroed page from the kernel for almost every 4 KiB it received: about 350,000 page faults
and 0.8 s of CPU per GiB on the 2-core VM measured, as much as hashing the GiB (docs/performance.md).
Keeping some slack at the heap top ends that churn; the cost is that much memory held by the process
instead of returned while it idles.
"""

from __future__ import annotations

import ctypes
import sys

HEAP_SLACK_BYTES = 16 * 1024 * 1024
# Setting any of glibc's heap parameters turns off its *dynamic* mmap threshold, under which large blocks
# freed once are served from the heap afterwards. Without it every allocation over 128 KiB would be a
# fresh mmap, faulting in zeroed pages on each use: the detection service's numpy arrays (8 MiB for a
# 1024² float image) ran 30% slower that way (69 → 90 ms per image, measured). So the thresholds that the
# dynamic mode reaches by itself are set explicitly: blocks up to 32 MiB come from the heap, and up to
# 64 MiB free at its top is kept rather than trimmed.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2  # bytes to keep (and to add) at the top of the heap
_M_MMAP_THRESHOLD = -3


def keep_heap_slack(nbytes: int = HEAP_SLACK_BYTES) -> bool:
    """Ask the C library to keep ``nbytes`` free at the top of the heap; False where it cannot (not glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    # musl's mallopt does nothing and answers 0.
    return all(bool(mallopt(param, value)) for param, value in (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES), (_M_TOP_PAD, nbytes)))
