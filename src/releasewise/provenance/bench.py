"""Robustness harness: attacks, baselines and the results table behind `releasewise bench watermark`.

Baselines (``invisible-watermark``: dwtDct, dwtDctSvd, rivaGan) are imported
lazily from the ``bench`` extra; missing baselines are reported, not faked.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from .audio import AudioMark
from .coding import Payload, WatermarkKey, payload_bits
from .image import ImageMark

Progress = Callable[[str], None]
BENCH_KEY = WatermarkKey(bytes(range(7, 39)), key_id="bench")
BENCH_PAYLOAD = Payload(release_id=0xA5C3E1, grant_id=0x1234)
BASELINE_BITS = 32
# Baselines carry 32 raw bits and no checksum: "detected" means at least 30 of
# 32 bits right, which a random image does with probability 529/2**32 ≈ 1.2e-7.
BASELINE_MIN_CORRECT = 30


# -- attacks ------------------------------------------------------------------
def _pil(a: np.ndarray):  # noqa: ANN202
    from PIL import Image

    return Image.fromarray(a)


def jpeg(a: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    _pil(a).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB" if a.ndim == 3 else "L"))


def resize(a: np.ndarray, factor: float) -> np.ndarray:
    from PIL import Image

    im = _pil(a)
    w, h = im.size
    return np.asarray(im.resize((max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.BICUBIC))


def centre_crop(a: np.ndarray, area: float = 0.7) -> np.ndarray:
    h, w = a.shape[:2]
    s = area**0.5
    ch, cw = round(h * s), round(w * s)
    y, x = (h - ch) // 2, (w - cw) // 2
    return a[y : y + ch, x : x + cw]


def enhance(a: np.ndarray, kind: str, factor: float) -> np.ndarray:
    from PIL import ImageEnhance

    cls = {"brightness": ImageEnhance.Brightness, "contrast": ImageEnhance.Contrast}[kind]
    return np.asarray(cls(_pil(a)).enhance(factor))


def gaussian_noise(a: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    noisy = a.astype(np.float64) + np.random.default_rng(seed).normal(0.0, sigma, a.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


IMAGE_ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda a: a,
    "jpeg50": lambda a: jpeg(a, 50),
    "jpeg75": lambda a: jpeg(a, 75),
    "resize0.5": lambda a: resize(a, 0.5),
    "resize1.5": lambda a: resize(a, 1.5),
    "crop70%": centre_crop,
    "bright+20%": lambda a: enhance(a, "brightness", 1.2),
    "bright-20%": lambda a: enhance(a, "brightness", 0.8),
    "contrast+20%": lambda a: enhance(a, "contrast", 1.2),
    "contrast-20%": lambda a: enhance(a, "contrast", 0.8),
    "noise σ5": lambda a: gaussian_noise(a, 5.0),
    "resize0.8+jpeg70": lambda a: jpeg(resize(a, 0.8), 70),
}


def _ffmpeg_roundtrip(x: np.ndarray, rate: int, codec: str) -> np.ndarray:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise RuntimeError("ffmpeg is not installed (apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.f32")
        with open(src, "wb") as fh:
            fh.write(x.astype(np.float32).tobytes())
        enc = os.path.join(tmp, "out.mp3" if codec == "libmp3lame" else "out.ogg")
        subprocess.run(
            [exe, "-v", "error", "-y", "-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", src,
             "-c:a", codec, "-b:a", "64k", enc],
            check=True, timeout=120,
        )
        out = subprocess.run(
            [exe, "-v", "error", "-i", enc, "-f", "f32le", "-ar", str(rate), "-ac", "1", "-"],
            check=True, capture_output=True, timeout=120,
        ).stdout
    return np.frombuffer(out, dtype=np.float32).astype(np.float64)


def _resample_8k(x: np.ndarray, rate: int) -> np.ndarray:
    from math import gcd

    from scipy import signal

    g = gcd(rate, 8000)
    down = signal.resample_poly(x, 8000 // g, rate // g)
    return signal.resample_poly(down, rate // g, 8000 // g)[: len(x)]


def _noise_snr(x: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    power = float(np.mean(x**2))
    return x + np.random.default_rng(seed).normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), x.shape)


AUDIO_ATTACKS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "none": lambda x, r: x,
    "mp3 64k": lambda x, r: _ffmpeg_roundtrip(x, r, "libmp3lame"),
    "opus 64k": lambda x, r: _ffmpeg_roundtrip(x, r, "libopus"),
    "resample 8k": _resample_8k,
    "noise 20dB": lambda x, r: _noise_snr(x, 20.0),
    "gain +6dB": lambda x, r: np.clip(x * 10 ** (6 / 20), -1.0, 1.0),
    "gain -6dB": lambda x, r: x * 10 ** (-6 / 20),
    "cut 20% start": lambda x, r: x[int(0.2 * len(x)) :],
}


# -- methods ------------------------------------------------------------------
@dataclass
class ImageMethod:
    name: str
    embed: Callable[[np.ndarray], np.ndarray]
    # returns (bit accuracy, detected)
    detect: Callable[[np.ndarray], tuple[float, bool]]


def releasewise_image_method() -> ImageMethod:
    mark = ImageMark(BENCH_KEY)
    truth = payload_bits(BENCH_PAYLOAD)

    def detect(a: np.ndarray) -> tuple[float, bool]:
        res = mark.detect(a)
        bits = res.raw_bits if res.raw_bits is not None else np.zeros_like(truth)
        return float(np.mean(bits == truth)), res.detected and res.payload == BENCH_PAYLOAD

    return ImageMethod("releasewise", lambda a: mark.embed(a, BENCH_PAYLOAD), detect)


def baseline_image_methods(names: Iterable[str] = ("dwtDct", "dwtDctSvd", "rivaGan")) -> tuple[list[ImageMethod], str]:
    """invisible-watermark baselines, or an explanation of why they are unavailable."""
    try:
        from imwatermark import WatermarkDecoder, WatermarkEncoder
    except Exception as exc:  # noqa: BLE001 - any import failure means "not installed"
        return [], f"invisible-watermark is not installed ({exc}); install releasewise[bench]"
    bits = list(np.random.default_rng(1).integers(0, 2, BASELINE_BITS))
    truth = np.array(bits, dtype=np.uint8)
    methods: list[ImageMethod] = []
    for name in names:
        if name == "rivaGan":
            WatermarkEncoder.loadModel()

        def embed(a: np.ndarray, name: str = name) -> np.ndarray:
            enc = WatermarkEncoder()
            enc.set_watermark("bits", bits)
            bgr = np.ascontiguousarray(_rgb(a)[..., ::-1])
            return np.ascontiguousarray(enc.encode(bgr, name)[..., ::-1])

        def detect(a: np.ndarray, name: str = name) -> tuple[float, bool]:
            try:
                dec = WatermarkDecoder("bits", BASELINE_BITS)
                got = np.array(dec.decode(np.ascontiguousarray(_rgb(a)[..., ::-1]), name), dtype=np.uint8)
            except Exception:  # noqa: BLE001 - e.g. "image too small": counts as a miss
                return 0.5, False
            correct = int(np.sum(got == truth))
            return correct / BASELINE_BITS, correct >= BASELINE_MIN_CORRECT

        methods.append(ImageMethod(name, embed, detect))
    return methods, ""


def _rgb(a: np.ndarray) -> np.ndarray:
    return np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a[..., :3]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def snr(x: np.ndarray, y: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(x**2) / max(np.sum((y - x) ** 2), 1e-20)))


@dataclass
class Cell:
    bit_acc: list[float] = field(default_factory=list)
    detected: list[bool] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def misses(self) -> list[str]:
        return [n for n, ok in zip(self.names, self.detected) if not ok]


@dataclass
class MethodResult:
    name: str
    quality: list[float] = field(default_factory=list)  # PSNR (images) or SNR (audio), dB
    embed_s: list[float] = field(default_factory=list)
    detect_s: list[float] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)
    note: str = ""


def run_image_suite(
    images: list[tuple[str, np.ndarray]], methods: list[ImageMethod], progress: Progress | None = None
) -> list[MethodResult]:
    results = []
    for method in methods:
        res = MethodResult(method.name, cells={a: Cell() for a in IMAGE_ATTACKS})
        for name, img in images:
            img = _rgb(img)
            t0 = time.perf_counter()
            marked = method.embed(img)
            res.embed_s.append(time.perf_counter() - t0)
            res.quality.append(psnr(img, marked))
            for attack, fn in IMAGE_ATTACKS.items():
                attacked = fn(marked)
                t0 = time.perf_counter()
                acc, ok = method.detect(attacked)
                res.detect_s.append(time.perf_counter() - t0)
                res.cells[attack].bit_acc.append(acc)
                res.cells[attack].detected.append(ok)
                res.cells[attack].names.append(name)
            if progress:
                progress(f"{method.name}: {name}")
        results.append(res)
    return results


def time_at_1024(methods: list[ImageMethod], runs: int = 3, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Median embed and detect seconds on a 1024×1024 photo-like image, per method."""
    from PIL import Image
    from skimage import data

    img = np.asarray(Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.BICUBIC))
    out: dict[str, tuple[float, float]] = {}
    for m in methods:
        emb, det = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            marked = m.embed(img)
            emb.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            m.detect(marked)
            det.append(time.perf_counter() - t0)
        out[m.name] = (statistics.median(emb), statistics.median(det))
    return out


def unmarked_false_positives(
    images: list[tuple[str, np.ndarray]], n: int = 2000, seed: int = 0, progress: Progress | None = None
) -> tuple[int, int]:
    """Detect (with the bench key) on ``n`` random crops of unmarked images; return (false positives, n)."""
    mark = ImageMark(BENCH_KEY)
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(n):
        _, img = images[i % len(images)]
        h, w = img.shape[:2]
        side = int(rng.integers(96, max(97, min(h, w, 384))))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        hits += mark.detect(img[y : y + side, x : x + side]).detected
        if progress and i % 100 == 99:
            progress(f"unmarked crops: {i + 1}/{n}")
    return hits, n


def run_audio_suite(clips: list[tuple[str, np.ndarray, int]], progress: Progress | None = None) -> MethodResult:
    mark = AudioMark(BENCH_KEY)
    truth = payload_bits(BENCH_PAYLOAD)
    res = MethodResult("releasewise", cells={a: Cell() for a in AUDIO_ATTACKS})
    seconds = 0.0
    for name, x, rate in clips:
        seconds += len(x) / rate
        t0 = time.perf_counter()
        y = mark.embed(x, rate, BENCH_PAYLOAD)
        res.embed_s.append(time.perf_counter() - t0)
        res.quality.append(snr(x, y))
        for attack, fn in AUDIO_ATTACKS.items():
            z = fn(y, rate)
            t0 = time.perf_counter()
            d = mark.detect(z, rate)
            if attack == "none":
                res.detect_s.append(time.perf_counter() - t0)
            bits = d.raw_bits if d.raw_bits is not None else np.zeros_like(truth)
            res.cells[attack].bit_acc.append(float(np.mean(bits == truth)))
            res.cells[attack].detected.append(d.detected and d.payload == BENCH_PAYLOAD)
            res.cells[attack].names.append(name)
        if progress:
            progress(f"audio: {name}")
    res.note = f"{seconds:.1f} s of speech"
    return res


def run_text_suite(n: int = 100, tokens: int = 200, seed: int = 0) -> dict[str, float]:
    """Watermarked vs unwatermarked generations of a tiny random model with a locally built tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from .text import TextMark

    vocab = {"<eos>": 0, "<unk>": 1, **{f"w{i}": i + 2 for i in range(1000)}}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<eos>", unk_token="<unk>", pad_token="<eos>")
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=len(vocab), n_positions=512, n_embd=64, n_layer=2, n_head=2,
                     bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(cfg).eval()
    mark = TextMark(BENCH_KEY, tokenizer=tok)
    prompts = tok([f"w{i} w{i + 1} w{i + 2}" for i in range(n)], return_tensors="pt")
    plen = prompts["input_ids"].shape[1]
    kw = dict(do_sample=True, max_new_tokens=tokens, min_new_tokens=tokens, pad_token_id=0)
    t0 = time.perf_counter()
    marked = model.generate(**prompts, watermarking_config=mark.watermarking_config(), **kw)
    gen_s = time.perf_counter() - t0
    plain = model.generate(**prompts, **kw)
    pm = [mark.detect(row[plen:]).p_value for row in marked]
    pu = [mark.detect(row[plen:]).p_value for row in plain]
    return {
        "n": n,
        "tokens": tokens,
        "tpr_at_1pct": float(np.mean(np.array(pm) <= 0.01)),
        "fpr_at_1pct": float(np.mean(np.array(pu) <= 0.01)),
        "tpr_at_default": float(np.mean(np.array(pm) <= mark.alpha)),
        "fpr_at_default": float(np.mean(np.array(pu) <= mark.alpha)),
        "median_p_marked": float(np.median(pm)),
        "generate_s": gen_s,
    }


# -- report -------------------------------------------------------------------
def _fmt_ms(values: list[float]) -> str:
    return f"{1000 * statistics.median(values):.0f}" if values else "–"


def markdown_report(
    image_results: list[MethodResult],
    timing: dict[str, tuple[float, float]],
    fpr: tuple[int, int] | None,
    audio: MethodResult | None,
    text: dict[str, float] | None,
    notes: list[str],
    command: str,
    timing_runs: int = 5,
    cores: str = "one core",
) -> str:
    lines = ["## Provenance", ""]
    lines.append(
        "Generated media carries a keyed, blind watermark (releasewise.provenance). Measured with "
        f"`{command}`; cells are *bit accuracy / detection rate* (detection at the operating "
        "false-positive rate: keyed 32-bit tag for releasewise, ≥30/32 correct bits for the baselines)."
    )
    lines.append("")
    if image_results:
        attacks = list(IMAGE_ATTACKS)
        lines.append(
            f"Images: {len(image_results[0].quality)} (embed/detect ms: median per image at native size)."
        )
        lines.append("")
        lines.append("### Images")
        lines.append("")
        lines.append(
            "| method | PSNR dB (min / median) | " + " | ".join(attacks)
            + " | embed ms | detect ms |"
        )
        lines.append("|---|---|" + "---|" * len(attacks) + "---|---|")
        for r in image_results:
            cells = [
                f"{np.mean(r.cells[a].bit_acc):.3f} / {np.mean(r.cells[a].detected):.2f}" for a in attacks
            ]
            q = f"{min(r.quality):.1f} / {statistics.median(r.quality):.1f}"
            lines.append(
                f"| {r.name} | {q} | " + " | ".join(cells) + f" | {_fmt_ms(r.embed_s)} | {_fmt_ms(r.detect_s)} |"
            )
        lines.append("")
        for r in image_results:
            missed = [f"{a}: {', '.join(r.cells[a].misses())}" for a in attacks if r.cells[a].misses()]
            if missed and r.name == "releasewise":
                lines.append("releasewise misses (image not detected): " + "; ".join(missed) + ".")
                lines.append("")
        if timing:
            ref = timing.get("dwtDct")
            lines.append(f"Time on a 1024×1024 photo (median of {timing_runs} runs each, {cores}):")
            lines.append("")
            lines.append("| method | embed ms | detect ms | embed+detect ms | dwtDct time ÷ this method's time |")
            lines.append("|---|---|---|---|---|")
            for name, (e, d) in timing.items():
                ratio = f"{(ref[0] + ref[1]) / (e + d):.2f}×" if ref else "–"
                lines.append(f"| {name} | {1000 * e:.0f} | {1000 * d:.0f} | {1000 * (e + d):.0f} | {ratio} |")
            lines.append("")
        if fpr:
            lines.append(
                f"False positives on unmarked images: {fpr[0]} of {fpr[1]:,} random crops "
                "(analytic bound per key: ≤ 11 decoding attempts × 2⁻³² ≈ 2.6e-9)."
            )
            lines.append("")
    if audio:
        attacks = list(AUDIO_ATTACKS)
        rt = sum(audio.embed_s) + sum(audio.detect_s)
        secs = float(audio.note.split()[0]) if audio.note else 0.0
        lines.append("### Speech")
        lines.append("")
        lines.append("| method | SNR dB (min / median) | " + " | ".join(attacks) + f" | real-time factor (embed+detect, {cores}) |")
        lines.append("|---|---|" + "---|" * len(attacks) + "---|")
        cells = [f"{np.mean(audio.cells[a].bit_acc):.3f} / {np.mean(audio.cells[a].detected):.2f}" for a in attacks]
        q = f"{min(audio.quality):.1f} / {statistics.median(audio.quality):.1f}"
        lines.append(f"| releasewise | {q} | " + " | ".join(cells) + f" | {secs / rt:.0f}× ({audio.note}) |")
        lines.append("")
    if text:
        lines.append("### Text (SynthID Text via transformers, analytic binomial detector)")
        lines.append("")
        lines.append(
            f"{int(text['n'])} watermarked and {int(text['n'])} unwatermarked generations of {int(text['tokens'])} "
            f"tokens from a tiny randomly initialised GPT-2: detection {text['tpr_at_1pct']:.2f} at p ≤ 0.01 "
            f"(false positives {text['fpr_at_1pct']:.2f}); at the default p ≤ 1e-3: "
            f"{text['tpr_at_default']:.2f} (false positives {text['fpr_at_default']:.2f}); "
            f"median p-value of marked text {text['median_p_marked']:.1e}."
        )
        lines.append("")
    for note in notes:
        lines.append(f"- {note}")
    return "\n".join(lines).rstrip() + "\n"
