"""Watermark robustness benchmark: releasewise vs invisible-watermark, in one run.

    pip install -e ".[provenance,bench]"; apt-get install -y ffmpeg espeak-ng
    python benchmarks/watermark.py                      # table on stdout
    python benchmarks/watermark.py --markdown docs/provenance-bench.md

Test data is generated at run time into ``benchmarks/results/data`` (ignored
by git): real photographs shipped with scikit-image, three procedurally
generated images standing in for model outputs, and speech synthesised with
espeak-ng.  The run then calls the same code as ``releasewise bench watermark
--images DIR --audio DIR``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
PHOTOS = [
    "astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "hubble_deep_field",
    "immunohistochemistry", "retina", "stereo_motorcycle", "moon", "brick", "grass", "page",
]
SPEECH = [
    ("en-us", "The quick brown fox jumps over the lazy dog, while the committee reviews the staged release plan."),
    ("en-gb", "Detection researchers asked for early access to the generator so that they could train classifiers."),
    ("en-us+f3", "Please verify every voice recording against the consent registry before it is shared outside the team."),
    ("en-gb+m3", "Our laboratory will publish the smaller model first and wait three months before the larger ones."),
    ("en-us+f4", "Synthetic media can be used for fraud and disinformation, so careful release practices matter."),
    ("en-us", "Hello. Thank you for calling. Your appointment is confirmed for Tuesday at four."),
    ("en-gb+f2", "The weights stay on our servers; researchers reach the model through a rate limited interface."),
    ("en-us+m1", "Numbers like three hundred and forty two, and dates like the ninth of May, are hard to say."),
]


def generated_images(seed: int = 0) -> dict[str, np.ndarray]:
    """Procedural stand-ins for generator outputs: smooth shading, 1/f texture, flat illustration."""
    rng = np.random.default_rng(seed)
    h = w = 768
    yy, xx = np.mgrid[0:h, 0:w] / float(h)
    shaded = np.stack([
        140 + 90 * np.sin(6 * xx) * np.cos(4 * yy),
        120 + 80 * np.cos(5 * xx * yy + 1),
        100 + 100 * yy,
    ], axis=2)
    spec = np.fft.fft2(rng.standard_normal((h, w)))
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(w), np.fft.fftfreq(h))) + 1e-3
    tex = np.real(np.fft.ifft2(spec / f))
    tex = (tex - tex.mean()) / tex.std()
    texture = np.stack([128 + 40 * tex, 110 + 35 * tex, 90 + 30 * tex], axis=2)
    flat = np.full((h, w, 3), 235.0)
    for _ in range(12):
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(40, 180)
        flat[(yy * h - cy) ** 2 + (xx * w - cx) ** 2 < r**2] = rng.integers(30, 230, 3)
    return {name: np.clip(img, 0, 255).astype(np.uint8)
            for name, img in (("gen-shaded", shaded), ("gen-texture", texture), ("gen-flat", flat))}


def make_data(folder: Path) -> tuple[Path, Path]:
    from skimage import data

    from releasewise.provenance import save_audio, save_image

    images, audio = folder / "images", folder / "audio"
    for d in (images, audio):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    for name in PHOTOS:
        img = getattr(data, name)()
        if isinstance(img, tuple):  # stereo_motorcycle: (left, right, disparity)
            img = img[0]
        save_image(images / f"{name}.png", img[..., :3] if img.ndim == 3 else img)
    for name, img in generated_images().items():
        save_image(images / f"{name}.png", img)
    exe = shutil.which("espeak-ng")
    if exe is None:
        sys.exit("espeak-ng is needed for the speech benchmark: apt-get install -y espeak-ng")
    for i, (voice, text) in enumerate(SPEECH):
        raw = subprocess.run([exe, "-v", voice, "-s", "160", "--stdout", text], capture_output=True, check=True).stdout
        with wave.open(io.BytesIO(raw)) as w:
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64) / 32768.0
        save_audio(audio / f"speech{i}.wav", x, rate)
    return images, audio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "results" / "data")
    parser.add_argument("--markdown", type=Path, default=None)
    parser.add_argument("--timing-runs", type=int, default=5)
    parser.add_argument("--fpr-crops", type=int, default=2000)
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()
    images, audio = make_data(args.data)

    import typer

    from releasewise.cli.provenance import bench_app

    app = typer.Typer()
    app.add_typer(bench_app, name="bench")
    argv = ["bench", "watermark", "--images", str(images), "--audio", str(audio),
            "--timing-runs", str(args.timing_runs), "--fpr-crops", str(args.fpr_crops)]
    if args.markdown:
        argv += ["--markdown", str(args.markdown)]
    if args.no_baselines:
        argv.append("--no-baselines")
    sys.argv = ["releasewise", *argv]
    os.environ.setdefault("RELEASEWISE_BENCH_COMMAND", "python benchmarks/watermark.py")
    app(argv, standalone_mode=True)


if __name__ == "__main__":
    main()
