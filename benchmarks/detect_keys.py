"""How image detection time grows with the number of keys tried (``ImageMark.detect_many``).

Usage:  python benchmarks/detect_keys.py [--rounds 7] [--keys 1,4,16,64] [--all-cores]

One 1024×1024 photo (scikit-image's astronaut, bicubic upscale) is marked with
one key, saved as JPEG q90 and decoded once; each round then times, for every
key count N, ``ImageMark.detect_many(pixels, marks)`` with the right key last
among N − 1 wrong ones (so every key is tried, as in the detection service,
which stops only after the loop).  The ``ImageMark`` objects are built outside
the timed region; their construction (what the service does per request) is
reported on its own line.  The process is pinned to one CPU core unless
``--all-cores`` is given, so runs compare like for like on a shared machine.

Reports, per N: median and range over the rounds of ms per image, and the
marginal cost per extra key (slope of the medians from the smallest to the
largest N).  To compare two versions, run this script once per source tree in
the same session (e.g. ``PYTHONPATH=old/src`` then ``PYTHONPATH=src``),
alternating, and compare the medians.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if "releasewise" not in sys.modules and not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keys", default="1,4,16,64", help="comma-separated key counts")
    parser.add_argument("--all-cores", action="store_true", help="do not pin the process to one CPU core")
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.keys.split(",")})
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    from PIL import Image
    from skimage import data

    import releasewise.provenance as pv
    from releasewise.provenance import ImageMark, Payload, WatermarkKey

    photo = np.asarray(Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.BICUBIC))
    right = WatermarkKey(bytes(range(32)), key_id="right")
    buf = io.BytesIO()
    Image.fromarray(ImageMark(right).embed(photo, Payload(release_id=4242, grant_id=7))).save(buf, "JPEG", quality=90)
    pixels = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    wrong = [WatermarkKey(bytes([(i * 7 + j) % 256 for j in range(32)]), key_id=f"wrong-{i}") for i in range(1, max(counts))]

    def marks_for(n: int) -> list[ImageMark]:
        return [ImageMark(k) for k in wrong[: n - 1]] + [ImageMark(right)]

    prepared = {n: marks_for(n) for n in counts}
    for n, marks in prepared.items():  # warm-up, and check the right key is found among the wrong ones
        found = [r.detected for r in ImageMark.detect_many(pixels, marks)]
        if found != [False] * (n - 1) + [True]:
            sys.exit(f"unexpected detections with {n} keys: {found}")
    times: dict[int, list[float]] = {n: [] for n in counts}
    build: list[float] = []
    for _ in range(args.rounds):
        for n in counts:
            t0 = time.perf_counter()
            ImageMark.detect_many(pixels, prepared[n])
            times[n].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        marks_for(max(counts))
        build.append((time.perf_counter() - t0) / max(counts))

    where = Path(pv.__file__).resolve().parents[2]
    cores = "all cores" if args.all_cores else "one core"
    print(f"detect_many on a 1024×1024 JPEG q90, {args.rounds} rounds, {cores}, source {where}")
    print("| keys | ms per image (median) | range | images/s |")
    print("|---|---|---|---|")
    med = {n: 1000 * statistics.median(times[n]) for n in counts}
    for n in counts:
        lo, hi = 1000 * min(times[n]), 1000 * max(times[n])
        print(f"| {n} | {med[n]:.1f} | {lo:.1f}–{hi:.1f} | {1000 / med[n]:.1f} |")
    if len(counts) > 1:
        lo_n, hi_n = counts[0], counts[-1]
        print(f"marginal cost per extra key ({lo_n}→{hi_n} keys): {(med[hi_n] - med[lo_n]) / (hi_n - lo_n):.2f} ms")
    print(f"ImageMark(key) construction: {1000 * statistics.median(build):.3f} ms per key (median)")


if __name__ == "__main__":
    main()
