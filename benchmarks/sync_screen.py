"""Would a sync-score pre-screen be safe? Right-key vs wrong-key sync peaks across the robustness attacks.

Usage:  python benchmarks/sync_screen.py [--images DIR] [--wrong-keys 20] [--no-extra]

The idea under test: skip the Viterbi decode of a (key, period) candidate whose
sync-correlation peak looks like noise.  The score is the peak z-score of the
folded tile's circular correlation with the key's sync pattern,
(max − mean) / std over the 64×64 surface, one per candidate period.

Every image in ``--images`` (default: the robustness suite's, written by
``benchmarks/watermark.py`` into benchmarks/results/data/images) is marked with
the bench key, attacked with each of ``bench.IMAGE_ATTACKS`` (plus harsher
extras unless ``--no-extra``), and for the bench key and ``--wrong-keys`` other
keys every candidate period is scored and decoded.  The report gives, per
attack, the lowest z at which the right key decoded, the wrong keys' z
distribution, and for a range of thresholds how many wrong-key decodes a
screen would save and how many right-key detections it would lose — both for
"skip every period under the threshold" and for "always decode each key's
best period, skip its others under the threshold".
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import scipy.fft as sfft

ROOT = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, default=ROOT / "results" / "data" / "images")
    parser.add_argument("--wrong-keys", type=int, default=20)
    parser.add_argument("--no-extra", action="store_true", help="only the suite's own attacks")
    args = parser.parse_args()

    from releasewise.provenance import (
        ImageMark,
        WatermarkKey,
        bench,
        coding,
        load_image,
    )
    from releasewise.provenance import image as im

    extra = {
        "jpeg30": lambda a: bench.jpeg(a, 30),
        "jpeg20": lambda a: bench.jpeg(a, 20),
        "resize0.4": lambda a: bench.resize(a, 0.4),
        "resize2.0": lambda a: bench.resize(a, 2.0),
        "resize0.6+jpeg60": lambda a: bench.jpeg(bench.resize(a, 0.6), 60),
        "crop40%": lambda a: bench.centre_crop(a, 0.4),
        "crop20%": lambda a: bench.centre_crop(a, 0.2),
        "noise σ10": lambda a: bench.gaussian_noise(a, 10.0),
        "noise σ15": lambda a: bench.gaussian_noise(a, 15.0),
        "crop50%+resize0.7+jpeg60": lambda a: bench.jpeg(bench.resize(bench.centre_crop(a, 0.5), 0.7), 60),
    }
    attacks = dict(bench.IMAGE_ATTACKS) | ({} if args.no_extra else extra)
    files = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if not files:
        sys.exit(f"{args.images}: no images (run benchmarks/watermark.py once to generate them)")
    right = ImageMark(bench.BENCH_KEY)
    wrong = [ImageMark(WatermarkKey(bytes([i + 1] * 32), key_id=f"wrong-{i}")) for i in range(args.wrong_keys)]
    marks = [right, *wrong]

    # (attack, image) -> right key's (z, decoded) per period; wrong keys' z per period, pooled.
    right_rows: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    wrong_z: list[np.ndarray] = []
    wrong_hits = 0
    for path in files:
        img = bench._rgb(np.asarray(load_image(path)))
        marked = right.embed(img, bench.BENCH_PAYLOAD)
        for name, attack in attacks.items():
            attacked = attack(marked)
            if min(attacked.shape[:2]) < im.MIN_SIDE:
                continue
            periods, folded = im._analyse(attacked)
            if not periods:
                continue
            soft = im._soft_symbols(folded, marks)
            decoded = coding.decode_keys([(m.key, s) for m, s in zip(marks, soft)])
            for m, dec in zip(marks, decoded):
                corr = sfft.irfft2(folded.rspec * m._sync_rfft[None], s=(im.FOLD, im.FOLD)).reshape(len(periods), -1)
                z = (corr.max(axis=1) - corr.mean(axis=1)) / corr.std(axis=1)
                ok = np.array([d.payload is not None for d in dec])
                if m is right:
                    right_rows[(name, path.stem)] = (z, ok)
                else:
                    wrong_z.append(z)
                    wrong_hits += int(ok.sum())

    print(f"{len(files)} images × {len(attacks)} attacks, right key + {len(wrong)} wrong keys\n")
    print("| attack | right key detected | lowest z of a decoding period | lowest best-decoding z per image |")
    print("|---|---|---|---|")
    by_attack: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    for (name, _), row in right_rows.items():
        by_attack[name].append(row)
    for name, rows in by_attack.items():
        hits = [(z, ok) for z, ok in rows if ok.any()]
        low = min((float(z[ok].min()) for z, ok in hits), default=float("nan"))
        best = min((float(z[ok].max()) for z, ok in hits), default=float("nan"))
        print(f"| {name} | {len(hits)}/{len(rows)} | {low:.2f} | {best:.2f} |")
    pooled = np.concatenate(wrong_z)
    per_key = np.array([z.max() for z in wrong_z])
    print(f"\nwrong keys: {wrong_hits} verified payloads in {pooled.size} decodes; z per period "
          f"median {np.median(pooled):.2f}, 99th pct {np.percentile(pooled, 99):.2f}, max {pooled.max():.2f}; "
          f"best period per key: median {np.median(per_key):.2f}, max {per_key.max():.2f}\n")
    print("| threshold | mode | wrong-key periods still decoded | right-key detections lost (suite attacks / all) |")
    print("|---|---|---|---|")
    suite = set(bench.IMAGE_ATTACKS)
    for keep_best in (False, True):
        for t in (3.0, 3.5, 3.8, 4.0, 4.5, 5.0, 6.0, 7.0):
            def kept(z: np.ndarray, t: float = t, keep_best: bool = keep_best) -> np.ndarray:
                k = z >= t
                if keep_best:
                    k[int(np.argmax(z))] = True
                return k
            decoded_share = sum(int(kept(z).sum()) for z in wrong_z) / pooled.size
            lost = [(n, i) for (n, i), (z, ok) in right_rows.items() if ok.any() and not (ok & kept(z)).any()]
            lost_suite = sum(1 for n, _ in lost if n in suite)
            mode = "keep best period" if keep_best else "skip below"
            print(f"| {t:.1f} | {mode} | {decoded_share:.1%} | {lost_suite} / {len(lost)} |")


if __name__ == "__main__":
    main()
