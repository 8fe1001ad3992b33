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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.fft as sfft
from scipy import ndimage, sparse

from . import coding
from .coding import Payload, WatermarkKey
from .errors import InvalidMediaError, MediaTooLargeError, MediaTooSmallError

TILE_CHIPS = 32
FOLD = 64  # samples per period in the folded tile (2 per chip)
SYNC_FRACTION = 0.125
MAX_PIXELS = 64_000_000
MAX_FILE_BYTES = 200 * 1024 * 1024
MIN_SIDE = 64
PERIOD = 80
SMALL_PERIOD = 64  # for images under 160 px on their short side
MIN_PERIOD = 24
MAX_PERIOD = 320  # longest period searched: survives up to ×4 upscaling of the default period
HOST_CANCEL = 0.5  # fraction of host interference removed at embed time (improved spread spectrum)
# Per-channel weights that maximise the luma change for a given RGB mean squared error.
RGB_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32) / np.sqrt(np.mean(np.array([0.299, 0.587, 0.114]) ** 2))
TARGET_PSNR = 41.0
MAX_PERIOD_CANDIDATES = 3
SCALE_REFINEMENTS = (0.0, -0.002, 0.002)
# The chip-grid band of a folded tile's spectrum (|frequency| < 1/4 of FOLD, i.e. TILE_CHIPS bins per axis),
# as indices into the FOLD-point FFT, in the order a TILE_CHIPS-point inverse FFT expects.
_BAND = np.r_[0 : TILE_CHIPS // 2, FOLD - TILE_CHIPS // 2 : FOLD]
_BAND_FREQ = np.fft.fftfreq(FOLD)[_BAND]
KEY_CHUNK = 4  # keys per batch in _soft_symbols: small batches stay in cache (64 keys: 20 ms at 4, 41 ms at 32)


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
    period: tuple[float, float] | None = None  # (vertical, horizontal) tile period found, in pixels
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
    return PERIOD if min(height, width) >= 2 * PERIOD else SMALL_PERIOD


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
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS:  # before any conversion allocates memory
        _check_size(arr.shape[0], arr.shape[1])
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


def _whitening(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The image-dependent linear map of :func:`_residual` (spectral gain, per-pixel gain) and ``y``'s residual."""
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
    return gain, norm, r * norm


def _residual(y: np.ndarray, whitening: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Whitened, locally normalised luminance: the host image becomes roughly unit white noise.

    The spectrum is divided by its local average (so the watermark, nearly
    white in its band, stands out of the 1/f host spectrum), then each pixel
    is divided by the local RMS (so flat areas, where the host is quiet, count
    more than texture).  With ``whitening`` given, the same linear map is
    applied to another signal (used to predict how the detector sees the mark).
    """
    if whitening is None:
        return _whitening(y)[2]
    gain, norm, _ = whitening
    spec = sfft.rfft2(y - y.mean(), workers=1)
    return sfft.irfft2(spec * gain, s=y.shape, workers=1).astype(np.float32) * norm


def _lattice(harmonics: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Tile-frequency lattice points (a, b) in the rfft half-plane, |a|, b ≤ harmonics, without DC."""
    a, b = np.meshgrid(np.arange(-harmonics, harmonics + 1), np.arange(0, harmonics + 1), indexing="ij")
    keep = (b > 0) | (a > 0)
    return a[keep].astype(np.float64), b[keep].astype(np.float64)


def _comb_scores(
    power: np.ndarray, shape: tuple[int, int], py: np.ndarray, px: np.ndarray, harmonics: int, spread: bool = True
) -> np.ndarray:
    """z-score of the mean whitened power at the lattice points of candidate periods (py[i], px[i]).

    A tile repeated with period p puts its energy on the frequency lattice
    (a·H/p, b·W/p); unmarked images have a flat (whitened) spectrum there.
    With ``spread`` each point takes the largest of its four neighbouring bins
    (the lattice rarely falls on integer bins); without it, ``power`` is
    expected to be max-filtered already and the nearest bin is used.
    """
    h, w = shape
    a, b = _lattice(harmonics, h, w)
    fy = a[None, :] * (h / py[:, None])
    fx = b[None, :] * (w / px[:, None])
    valid = (np.abs(a)[None, :] / py[:, None] < 0.4) & (b[None, :] / px[:, None] < 0.4)
    if spread:
        y0 = np.floor(fy).astype(np.int64)
        x0 = np.floor(fx).astype(np.int64)
        best = np.zeros(fy.shape, dtype=np.float32)
        for dy in (0, 1):
            for dx in (0, 1):
                yy = (y0 + dy) % h
                xx = np.minimum(x0 + dx, power.shape[1] - 1)
                best = np.maximum(best, power[yy, xx])
        mean0, var0 = 25.0 / 12.0, 1.42  # max of four Exp(1)
    else:
        yy = np.rint(fy).astype(np.int64) % h
        xx = np.minimum(np.rint(fx).astype(np.int64), power.shape[1] - 1)
        best = power[yy, xx]
        mean0, var0 = 2.829, 1.54  # max of nine Exp(1) (3×3 max filter)
    n = np.maximum(valid.sum(axis=1), 1)
    return ((best * valid).sum(axis=1) / n - mean0) * np.sqrt(n / var0)


def _period_candidates(r: np.ndarray) -> list[tuple[float, float]]:
    """Most likely (vertical, horizontal) tile periods, best first, from a spectral comb search."""
    h, w = r.shape
    longest = min(MAX_PERIOD, min(h, w) / 2.0)
    if longest <= MIN_PERIOD:
        return []
    spec = sfft.rfft2(r, workers=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    power /= ndimage.uniform_filter(power, 9, mode="wrap") + 1e-12
    # Coarse: 0.8 % steps on a 3×3 max-filtered spectrum (tolerant of period error), then
    # fine: 0.1 % steps around the best coarse candidates with all harmonics.
    coarse = MIN_PERIOD * np.exp(np.arange(0, np.log(longest / MIN_PERIOD), 0.008))
    dilated = ndimage.maximum_filter(power, 3, mode="nearest")
    score = _comb_scores(dilated, (h, w), coarse, coarse, TILE_CHIPS // 2, spread=False)
    picked: list[float] = []
    for i in np.argsort(score)[::-1]:
        if all(abs(coarse[i] / q - 1) > 0.03 for q in picked):
            picked.append(float(coarse[i]))
        if len(picked) >= 2 * MAX_PERIOD_CANDIDATES:
            break
    refined: list[tuple[float, float, float]] = []
    steps = np.exp(np.arange(-0.012, 0.0121, 0.001))
    for p in picked:
        grid = p * steps
        fine = _comb_scores(power, (h, w), grid, grid, TILE_CHIPS // 2)
        p = float(grid[int(np.argmax(fine))])
        # Then each axis on its own (resizing rounds each side separately).
        py = float((p * steps)[int(np.argmax(_comb_scores(power, (h, w), p * steps, np.full(len(steps), p), TILE_CHIPS // 2)))])
        px_scores = _comb_scores(power, (h, w), np.full(len(steps), py), p * steps, TILE_CHIPS // 2)
        px = float((p * steps)[int(np.argmax(px_scores))])
        refined.append((float(px_scores.max()), py, px))
    refined.sort(reverse=True)
    return [(py, px) for _, py, px in refined[:MAX_PERIOD_CANDIDATES]]


def _fold(r: np.ndarray, period: float | tuple[float, float]) -> np.ndarray:
    """Average ``r`` modulo the tile period onto a FOLD×FOLD grid (separable, sparse one-hot sums)."""
    h, w = r.shape
    py, px = (period, period) if isinstance(period, (int, float)) else period
    ys = (np.floor((np.arange(h) % py) / py * FOLD).astype(np.int64)) % FOLD
    xs = (np.floor((np.arange(w) % px) / px * FOLD).astype(np.int64)) % FOLD
    rows = sparse.csr_matrix((np.ones(h, dtype=np.float32), (ys, np.arange(h))), shape=(FOLD, h))
    cols = sparse.csr_matrix((np.ones(w, dtype=np.float32), (xs, np.arange(w))), shape=(FOLD, w))
    sums = np.asarray((cols @ np.asarray(rows @ r).T).T, dtype=np.float64)
    counts = np.outer(np.bincount(ys, minlength=FOLD), np.bincount(xs, minlength=FOLD))
    return sums / np.maximum(counts, 1)


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
        self._sync_rfft = np.conj(sfft.rfft2(self._sync_fold))
        self._pn = pn
        self._bit_of = bit_of
        # Data chips: where they sit in the tile, their keyed sign, and the coded bit each one carries.
        self._data_chips = np.flatnonzero(bit_of >= 0)
        self._data_pn = pn[self._data_chips].astype(np.float64)
        self._data_bits = bit_of[self._data_chips]
        counts = np.bincount(self._data_bits, minlength=coding.CODED_BITS)
        self._bit_scale = 1.0 / np.sqrt(np.maximum(counts, 1))

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
        host = _fourier_resize(_fold(whitening[2], float(p)), TILE_CHIPS)
        response = _fourier_resize(_fold(_residual(first, whitening), float(p)), TILE_CHIPS)
        gain = float(np.sum(response * tile) / np.sum(tile * tile))
        if gain > 0 and HOST_CANCEL > 0:
            # Cancel only the host interference that works against each chip:
            # helpful interference is kept (it costs nothing), which leaves
            # more energy on the tile lattice for synchronisation.
            harmful = host * tile < 0
            tile = tile - HOST_CANCEL * np.where(harmful, host, 0.0) / gain
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
    def detect(self, image: Any) -> ImageDetection:
        """Blindly look for this key's watermark; never returns a payload for another key."""
        return self.detect_many(image, [self])[0]

    @staticmethod
    def detect_many(image: Any, marks: list[ImageMark]) -> list[ImageDetection]:
        """Detect several keys at once, sharing the key-independent analysis of the image.

        Everything up to the folded tiles' spectra is done once per image
        (:func:`_analyse`); per key there remain the sync correlation, the
        soft-symbol extraction (both batched over keys in :func:`_soft_symbols`)
        and the Viterbi decode, which runs once for the rows of all keys
        (:func:`coding.decode_keys`).  Every key still decodes every candidate
        period: a sync-score pre-screen was measured and rejected (see
        docs/provenance.md), so the results are those of detecting each key alone.
        """
        periods, folded = _analyse(image)
        if not periods:
            return [ImageDetection(False, None, 1.0, 0.0, 0, None, m.key.key_id, None) for m in marks]
        soft = _soft_symbols(folded, marks)
        decoded = coding.decode_keys([(m.key, s) for m, s in zip(marks, soft)])
        return [m._result(d, periods) for m, d in zip(marks, decoded)]

    def _result(self, decoded: list[coding.Decoded], periods: list[tuple[float, float]]) -> ImageDetection:
        """This key's detection from its decodes, one per candidate period (in the order tried)."""
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


@dataclass(frozen=True)
class _Folded:
    """The key-independent part of detection: spectra of the image folded at each candidate period."""

    rspec: np.ndarray  # (B, FOLD, FOLD // 2 + 1) real FFT of the folded tiles, for the sync correlations
    band: np.ndarray  # (B, TILE_CHIPS, TILE_CHIPS) their chip-grid band (complex FFT, _BAND order)


def _analyse(image: Any) -> tuple[list[tuple[float, float]], _Folded]:
    """Whiten the image, find candidate tile periods and fold it at each: all the work no key changes."""
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
    periods = [(py * (1.0 + d), px * (1.0 + d)) for py, px in _period_candidates(r) for d in SCALE_REFINEMENTS]
    # Most edits (JPEG, crops, noise, tone) keep the scale: always also try
    # the embedding periods themselves, which needs no period estimate.
    for native in (PERIOD, SMALL_PERIOD):
        if native <= min(h, w) / 1.5 and not any(abs(py - native) < 0.5 and abs(px - native) < 0.5 for py, px in periods):
            periods.append((float(native), float(native)))
    if not periods:
        return [], _Folded(np.zeros((0, FOLD, FOLD // 2 + 1), complex), np.zeros((0, TILE_CHIPS, TILE_CHIPS), complex))
    folds = np.stack([_fold(r, p) for p in periods])
    spec = sfft.fft2(folds, workers=1)
    return periods, _Folded(sfft.rfft2(folds, workers=1), spec[:, _BAND][:, :, _BAND])


def _soft_symbols(folded: _Folded, marks: list[ImageMark]) -> list[np.ndarray]:
    """Soft coded symbols (B, CODED_BITS) per key: align each folded tile to the key's sync pattern, read the chips.

    The rows are (key, period) pairs, processed KEY_CHUNK keys at a time with
    array operations, so the per-key cost is a few small FFTs, not Python.
    For each row: the circular correlation with the key's sync tile gives the
    shift (peak, refined by a parabola to sub-sample precision); the shift is
    undone by a phase ramp on the chip-grid band only (the ramp is separable,
    and the band is all the chips need), and an inverse FFT of that band
    gives the 32×32 chip values, whose keyed signs are removed and whose
    repeats of each coded bit are summed.
    """
    n_periods = folded.rspec.shape[0]
    out: list[np.ndarray] = []
    for first in range(0, len(marks), KEY_CHUNK):
        chunk = marks[first : first + KEY_CHUNK]
        k = len(chunk)
        sync = np.stack([m._sync_rfft for m in chunk])
        corr = sfft.irfft2(folded.rspec[None] * sync[:, None], s=(FOLD, FOLD), workers=1)  # (k, B, FOLD, FOLD)
        corr = corr.reshape(k * n_periods, FOLD, FOLD)
        n = corr.shape[0]
        rows = np.arange(n)
        dy, dx = np.divmod(np.argmax(corr.reshape(n, -1), axis=1), FOLD)
        centre = corr[rows, dy, dx]
        fy = dy + _parabola_offset(corr[rows, (dy - 1) % FOLD, dx], centre, corr[rows, (dy + 1) % FOLD, dx])
        fx = dx + _parabola_offset(corr[rows, dy, (dx - 1) % FOLD], centre, corr[rows, dy, (dx + 1) % FOLD])
        ramp_y = np.exp(2j * np.pi * _BAND_FREQ[None, :] * fy[:, None])
        ramp_x = np.exp(2j * np.pi * _BAND_FREQ[None, :] * fx[:, None])
        band = np.tile(folded.band, (k, 1, 1)) * ramp_y[:, :, None] * ramp_x[:, None, :]
        chips = sfft.ifft2(band, workers=1).real.reshape(n, -1)
        per_row = np.repeat(np.arange(k), n_periods)
        data_chips = np.stack([m._data_chips for m in chunk])[per_row]
        data = np.take_along_axis(chips, data_chips, axis=1) * np.stack([m._data_pn for m in chunk])[per_row]
        noise = data.std(axis=1, keepdims=True) + 1e-12
        # Sum each coded bit's chips for all rows in one bincount (row r's bits are offset by r·CODED_BITS).
        target = np.stack([m._data_bits for m in chunk])[per_row] + rows[:, None] * coding.CODED_BITS
        sums = np.bincount(target.ravel(), weights=data.ravel(), minlength=n * coding.CODED_BITS)
        soft = sums.reshape(n, coding.CODED_BITS) * np.stack([m._bit_scale for m in chunk])[per_row] / noise
        out.extend(soft.reshape(k, n_periods, coding.CODED_BITS))
    return out


def _parabola_offset(before: np.ndarray, centre: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Sub-sample offset (within ±0.5) of a peak from its two neighbours; 0 where they do not bracket a maximum."""
    den = before - 2 * centre + after
    safe = np.where(den < 0, den, -1.0)
    return np.where(den < 0, np.clip(0.5 * (before - after) / safe, -0.5, 0.5), 0.0)
