"""Blind, keyed image watermark that survives JPEG, rescaling, cropping and noise.

How it works (see docs/provenance.md for the measurements):

* A keyed 32×32 tile of ±1 "chips" is built from the payload: a quarter of
  the chips are a known synchronisation pattern, the rest carry the 258
  convolutionally coded bits (each bit spread over several chips with a
  keyed sign).  The tile is band-limited (Fourier-interpolated) to a period
  of ``p`` pixels and repeated over the whole image, in luminance only, with
  a mild texture mask, at a strength that keeps PSNR ≥ 40 dB.
* Detection is blind.  The image's spectrum is whitened; the repetition
  period is found from the peaks of the whitened autocorrelation (so any
  uniform rescaling is undone), the image is folded modulo the period into
  one tile (so any crop or translation only shifts the tile cyclically), the
  shift is found by correlating with the keyed sync pattern, and the soft
  chip values are decoded by the Viterbi decoder and checked against the
  32-bit keyed tag.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.fft as sfft
from scipy import ndimage

from . import coding
from .coding import Payload, WatermarkKey
from .errors import InvalidMediaError, MediaTooLargeError, MediaTooSmallError, UnsupportedFormatError

TILE_CHIPS = 32
FOLD = 64  # samples per period in the folded tile (2 per chip)
SYNC_FRACTION = 0.125
MAX_PIXELS = 64_000_000
MAX_FILE_BYTES = 200 * 1024 * 1024
MIN_SIDE = 64
PERIOD = 80
MAX_PERIOD = 320  # longest period searched: survives up to ×4 upscaling of the default period
HOST_CANCEL = 0.5  # fraction of host interference removed at embed time (improved spread spectrum)
# Per-channel weights that maximise the luma change for a given RGB mean squared error.
RGB_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32) / np.sqrt(np.mean(np.array([0.299, 0.587, 0.114]) ** 2))
TARGET_PSNR = 41.0
MAX_PERIOD_CANDIDATES = 3
SCALE_REFINEMENTS = (0.0, -0.004, 0.004)


@dataclass(frozen=True)
class ImageDetection:
    """The outcome of :meth:`ImageMark.detect`.

    ``detected`` is true only when the decoded bits verified against the key's
    tag; then ``payload`` is the embedded :class:`Payload` and ``p_value`` the
    probability that an unmarked image would produce a verified payload under
    this key in as many attempts (``attempts * 2**-32``).
    """

    detected: bool
    payload: Payload | None
    p_value: float
    confidence: float
    attempts: int
    period: float | None = None
    key_id: str = ""
    raw_bits: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def bits(self) -> np.ndarray | None:
        return self.raw_bits


def _tile_layout(key: WatermarkKey) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keyed chip layout: sign pattern, sync mask, and coded-bit index of each data chip."""
    rng = key.rng("image/layout")
    n = TILE_CHIPS * TILE_CHIPS
    pn = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), n)
    order = rng.permutation(n)
    n_sync = int(n * SYNC_FRACTION)
    sync = np.zeros(n, dtype=bool)
    sync[order[:n_sync]] = True
    bit_of = np.full(n, -1, dtype=np.int64)
    data_chips = order[n_sync:]
    bit_of[data_chips] = np.arange(len(data_chips)) % coding.CODED_BITS
    return pn, sync, bit_of


def _chip_tile(key: WatermarkKey, payload: Payload) -> np.ndarray:
    pn, sync, bit_of = _tile_layout(key)
    symbols = coding.codeword(key, payload)
    values = np.where(sync, 1.0, symbols[np.maximum(bit_of, 0)]) * pn
    return values.reshape(TILE_CHIPS, TILE_CHIPS).astype(np.float64)


def _fourier_resize(tile: np.ndarray, size: int) -> np.ndarray:
    """Band-limited periodic interpolation of a square tile to ``size`` samples per side."""
    n = tile.shape[0]
    spec = np.fft.fftshift(np.fft.fft2(tile))
    out = np.zeros((size, size), dtype=complex)
    if size >= n:
        o = (size - n) // 2
        out[o : o + n, o : o + n] = spec
    else:
        o = (n - size) // 2
        out = spec[o : o + size, o : o + size]
    res = np.real(np.fft.ifft2(np.fft.ifftshift(out))) * (size * size) / (n * n)
    return res


def choose_period(height: int, width: int) -> int:
    """Tile period in pixels.

    80 px (2.5 px per chip) measured best on the scikit-image photos: long
    enough that the pattern survives ×0.5 downscaling and JPEG 50, short
    enough that even a 300 px image holds several periods after a crop.
    """
    return PERIOD if min(height, width) >= 2 * PERIOD else 64


def _luma(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim == 2:
        return rgb.astype(np.float32)
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32)


def _as_array(image: Any) -> tuple[np.ndarray, str]:
    """Return (float32 array in 0..255 with shape H×W or H×W×C, kind) for PIL or numpy input."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency of the extra
        Image = None  # type: ignore[assignment]
    if Image is not None and isinstance(image, Image.Image):
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        return np.asarray(image, dtype=np.float32), "pil:" + image.mode
    if not isinstance(image, np.ndarray):
        raise InvalidMediaError(
            f"expected a numpy array or PIL image, got {type(image).__name__}; "
            "load files with releasewise.provenance.load_image()"
        )
    arr = image
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise InvalidMediaError(
            f"image array must be H×W, H×W×3 or H×W×4, got shape {image.shape}"
        )
    if arr.size == 0:
        raise MediaTooSmallError("the image is empty (zero pixels)")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32), "uint8"
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise InvalidMediaError("the image contains NaN or infinite values")
        return arr.astype(np.float32) * 255.0, "float:" + arr.dtype.str
    raise InvalidMediaError(
        f"unsupported image dtype {arr.dtype}; pass uint8 (0..255) or float (0..1) pixels"
    )


def _check_size(h: int, w: int) -> None:
    if h * w > MAX_PIXELS:
        raise MediaTooLargeError(
            f"the image has {h * w:,} pixels, more than the {MAX_PIXELS:,} this tool accepts; "
            "downscale it first (it may be a decompression bomb)"
        )
    if min(h, w) < MIN_SIDE:
        raise MediaTooSmallError(
            f"the image is {w}×{h} pixels; at least {MIN_SIDE}×{MIN_SIDE} is needed to carry a watermark"
        )


def _from_array(out: np.ndarray, kind: str) -> Any:
    if kind.startswith("pil:"):
        from PIL import Image

        return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), kind[4:])
    if kind == "uint8":
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return np.clip(out / 255.0, 0.0, 1.0).astype(np.dtype(kind[6:]))


def _whitening(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The image-dependent linear map of :func:`_residual`: spectral gain and per-pixel gain."""
    spec = sfft.rfft2(y - y.mean(), workers=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    gain = 1.0 / np.sqrt(ndimage.uniform_filter(power, 7, mode="wrap") + 1e-6)
    h, w = y.shape
    fy = np.abs(np.fft.fftfreq(h))[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    gain[(fy > 0.4) | (fx > 0.4)] = 0.0
    gain[(fy < 0.01) & (fx < 0.01)] = 0.0
    r = sfft.irfft2(spec * gain, s=y.shape, workers=1).astype(np.float32)
    var = ndimage.uniform_filter(r * r, 7)
    norm = (1.0 / np.sqrt(var + 0.01 * float(var.mean()) + 1e-12)).astype(np.float32)
    return gain, norm


def _residual(y: np.ndarray, whitening: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Whitened, locally normalised luminance: the host image becomes roughly unit white noise.

    The spectrum is divided by its local average (so the watermark, nearly
    white in its band, stands out of the 1/f host spectrum), then each pixel
    is divided by the local RMS (so flat areas, where the host is quiet, count
    more than texture).  With ``whitening`` given, the same linear map is
    applied to another signal (used to predict how the detector sees the mark).
    """
    gain, norm = whitening if whitening is not None else _whitening(y)
    spec = sfft.rfft2(y - y.mean(), workers=1)
    return sfft.irfft2(spec * gain, s=y.shape, workers=1).astype(np.float32) * norm


def _period_candidates(r: np.ndarray) -> list[float]:
    h, w = r.shape
    shape = r.shape
    spec = sfft.rfft2(r, workers=1)
    ac = sfft.irfft2(np.abs(spec) ** 2, s=shape, workers=1)
    ac /= ac[0, 0] + 1e-12
    limit = int(min(h, w) / 1.6)
    if limit < 24:
        return []
    lags = np.arange(limit)
    row = ac[0, :limit] / np.maximum(1 - lags / w, 0.5)
    col = ac[:limit, 0] / np.maximum(1 - lags / h, 0.5)
    longest = int(min(MAX_PERIOD, min(h, w) / 2.2))
    both = row + col
    # A true period has peaks at its multiples and none half-way between
    # them; the half-way term also rejects multiples of the true period.
    local_max = np.maximum(np.maximum(both, np.roll(both, 1)), np.roll(both, -1))
    local_max[-1] = -np.inf
    ks = np.arange(24, max(longest, 25))
    score = np.full(limit, -np.inf)
    peak_sum = np.zeros(len(ks))
    peak_n = np.zeros(len(ks))
    trough_sum = np.zeros(len(ks))
    trough_n = np.zeros(len(ks))
    for m in range(1, 4):
        idx = m * ks
        ok = idx + 2 < limit
        peak_sum[ok] += local_max[idx[ok]]
        peak_n += ok
    for m in range(0, 3):
        idx = ((m + 0.5) * ks).astype(np.int64)
        ok = (m + 0.5) * ks + 2 < limit
        trough_sum[ok] += local_max[idx[ok]]
        trough_n += ok
    valid = (peak_n > 0) & (trough_n > 0)
    score[ks[valid]] = peak_sum[valid] / peak_n[valid] - trough_sum[valid] / trough_n[valid]
    order = np.argsort(score)[::-1]
    picked: list[int] = []
    for k in order:
        if not np.isfinite(score[k]):
            break
        if all(abs(k - q) > max(2, 0.04 * q) for q in picked):
            picked.append(int(k))
        if len(picked) >= MAX_PERIOD_CANDIDATES:
            break
    refined: list[float] = []
    for k in picked:
        refined.append(_refine_period(row, col, k, limit))
    return refined


def _refine_period(row: np.ndarray, col: np.ndarray, k: int, limit: int) -> float:
    """Sub-pixel period from the peak at the highest multiple of ``k`` inside the searched range."""
    both = row + col
    m = max(1, (limit - 3) // k)
    while m >= 1:
        c = m * k
        half = max(2, int(0.03 * c))
        lo, hi = max(c - half, 1), min(c + half + 1, limit - 1)
        if hi - lo >= 3:
            i = int(np.argmax(both[lo:hi])) + lo
            a, b, cc = both[i - 1], both[i], both[i + 1]
            den = a - 2 * b + cc
            off = 0.5 * (a - cc) / den if den < 0 else 0.0
            est = (i + float(np.clip(off, -0.5, 0.5))) / m
            if abs(est - k) <= 1.5:
                return est
        m -= 1
    return float(k)


def _fold(r: np.ndarray, period: float) -> np.ndarray:
    h, w = r.shape
    ys = (np.floor((np.arange(h) % period) / period * FOLD).astype(np.int64)) % FOLD
    xs = (np.floor((np.arange(w) % period) / period * FOLD).astype(np.int64)) % FOLD
    idx = (ys[:, None] * FOLD + xs[None, :]).ravel()
    sums = np.bincount(idx, weights=r.ravel().astype(np.float64), minlength=FOLD * FOLD)
    counts = np.bincount(idx, minlength=FOLD * FOLD)
    return (sums / np.maximum(counts, 1)).reshape(FOLD, FOLD)


class ImageMark:
    """Embed and detect a keyed watermark in images.

    >>> mark = ImageMark(WatermarkKey.generate())
    >>> marked = mark.embed(pixels, Payload(release_id=42, grant_id=7))
    >>> mark.detect(marked).payload
    Payload(release_id=42, grant_id=7)
    """

    def __init__(self, key: WatermarkKey, *, target_psnr: float = TARGET_PSNR) -> None:
        self.key = key
        self.target_psnr = target_psnr
        pn, sync, bit_of = _tile_layout(key)
        sync_tile = np.where(sync, pn, 0.0).reshape(TILE_CHIPS, TILE_CHIPS)
        self._sync_fold = _fourier_resize(sync_tile, FOLD)
        self._sync_fft = np.conj(np.fft.fft2(self._sync_fold))
        self._pn = pn
        self._bit_of = bit_of
        self._data = bit_of >= 0

    # -- embedding ----------------------------------------------------------
    def _tiled(self, tile: np.ndarray, height: int, width: int, period: int) -> np.ndarray:
        pattern = _fourier_resize(tile, period).astype(np.float32)
        reps = (-(-height // period), -(-width // period))
        return np.tile(pattern, reps)[:height, :width]

    def pattern(self, payload: Payload, image: Any, *, period: int | None = None) -> np.ndarray:
        """The luminance change (H×W, float) that :meth:`embed` adds to ``image``.

        Informed embedding: the host image's own projection onto the chip
        pattern is measured and ``HOST_CANCEL`` of it is subtracted, so the
        detector sees less interference from the picture itself.
        """
        arr, _ = _as_array(image)
        h, w = arr.shape[:2]
        _check_size(h, w)
        y = _luma(arr[..., :3] if arr.ndim == 3 else arr)
        p = period or choose_period(h, w)
        tile = _chip_tile(self.key, payload)
        target_rms = 255.0 / 10 ** (self.target_psnr / 20.0)
        first = self._tiled(tile, h, w, p)
        first *= target_rms / float(np.sqrt(np.mean(first**2)))
        whitening = _whitening(y)
        host = _fourier_resize(_fold(_residual(y, whitening), float(p)), TILE_CHIPS)
        response = _fourier_resize(_fold(_residual(first, whitening), float(p)), TILE_CHIPS)
        gain = float(np.sum(response * tile) / np.sum(tile * tile))
        if gain > 0 and HOST_CANCEL > 0:
            tile = tile - HOST_CANCEL * host / gain
        wm = self._tiled(tile, h, w, p)
        return wm * (target_rms / float(np.sqrt(np.mean(wm**2))))

    def embed(self, image: Any, payload: Payload, *, period: int | None = None) -> Any:
        """Return a watermarked copy of ``image`` (same type, shape and dtype)."""
        arr, kind = _as_array(image)
        wm = self.pattern(payload, image, period=period)
        out = arr.copy()
        if arr.ndim == 2:
            out = out + wm
        else:
            out[..., :3] = out[..., :3] + wm[..., None] * RGB_WEIGHTS
        return _from_array(out, kind)

    # -- detection ----------------------------------------------------------
    def _soft_symbols(self, folds: np.ndarray) -> np.ndarray:
        """Soft coded symbols from a batch of folded tiles (B, FOLD, FOLD) → (B, CODED_BITS)."""
        spec = np.fft.fft2(folds)
        corr = np.real(np.fft.ifft2(spec * self._sync_fft))
        b = folds.shape[0]
        flat = corr.reshape(b, -1)
        dy, dx = np.divmod(np.argmax(flat, axis=1), FOLD)
        rows = np.arange(b)

        def sub(a: np.ndarray, c0: np.ndarray, c: np.ndarray) -> np.ndarray:
            den = a - 2 * c0 + c
            safe = np.where(den < 0, den, -1.0)
            return np.where(den < 0, np.clip(0.5 * (a - c) / safe, -0.5, 0.5), 0.0)

        centre = corr[rows, dy, dx]
        fy = dy + sub(corr[rows, (dy - 1) % FOLD, dx], centre, corr[rows, (dy + 1) % FOLD, dx])
        fx = dx + sub(corr[rows, dy, (dx - 1) % FOLD], centre, corr[rows, dy, (dx + 1) % FOLD])
        # Undo the shift in the Fourier domain and keep the chip-grid band (32×32).
        ky = np.fft.fftfreq(FOLD)[None, :, None]
        kx = np.fft.fftfreq(FOLD)[None, None, :]
        spec = spec * np.exp(2j * np.pi * (ky * fy[:, None, None] + kx * fx[:, None, None]))
        shifted = np.fft.fftshift(spec, axes=(1, 2))
        o = (FOLD - TILE_CHIPS) // 2
        band = np.fft.ifftshift(shifted[:, o : o + TILE_CHIPS, o : o + TILE_CHIPS], axes=(1, 2))
        chips = np.real(np.fft.ifft2(band)).reshape(b, -1) * self._pn[None, :]
        data = chips[:, self._data]
        noise = data.std(axis=1, keepdims=True) + 1e-12
        soft = np.zeros((b, coding.CODED_BITS))
        np.add.at(soft, (slice(None), self._bit_of[self._data]), data)
        counts = np.bincount(self._bit_of[self._data], minlength=coding.CODED_BITS)
        return soft / np.sqrt(np.maximum(counts, 1))[None, :] / noise

    def detect(self, image: Any) -> ImageDetection:
        """Blindly look for this key's watermark; never returns a payload for another key."""
        return self.detect_many(image, [self])[0]

    @staticmethod
    def detect_many(image: Any, marks: list[ImageMark]) -> list[ImageDetection]:
        """Detect several keys at once, sharing the key-independent analysis of the image."""
        arr, _ = _as_array(image)
        h, w = arr.shape[:2]
        if h * w > MAX_PIXELS:
            _check_size(h, w)
        if min(h, w) < MIN_SIDE:
            raise MediaTooSmallError(
                f"the image is {w}×{h} pixels; at least {MIN_SIDE}×{MIN_SIDE} is needed to detect a watermark"
            )
        y = _luma(arr[..., :3] if arr.ndim == 3 else arr)
        r = _residual(y)
        periods = [period * (1.0 + delta) for period in _period_candidates(r) for delta in SCALE_REFINEMENTS]
        folds = [_fold(r, p) for p in periods]

        return [mark._decode_folds(folds, periods) for mark in marks]

    def _decode_folds(self, folds: list[np.ndarray], periods: list[float]) -> ImageDetection:
        if not folds:
            return ImageDetection(False, None, 1.0, 0.0, 0, None, self.key.key_id, None)
        decoded = coding.decode_many(self.key, self._soft_symbols(np.stack(folds)))
        # Count every decoding attempt towards the p-value, whichever one verified.
        attempts = len(decoded)
        for dec, p in zip(decoded, periods):
            if dec.payload is not None:
                return ImageDetection(
                    True, dec.payload, min(1.0, attempts * coding.FALSE_MATCH_PROBABILITY),
                    dec.agreement, attempts, p, self.key.key_id, dec.bits,
                )
        best = int(np.argmax([d.agreement for d in decoded]))
        return ImageDetection(
            False, None, 1.0, decoded[best].agreement, attempts, periods[best], self.key.key_id, decoded[best].bits,
        )
