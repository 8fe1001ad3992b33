"""Blind, keyed audio watermark for speech that survives MP3/Opus, resampling, noise, gain and cuts.

How it works:

* Everything happens at a canonical 16 kHz rate; the watermark is computed
  there and resampled to the clip's own rate, so the host samples are only
  ever added to, never resampled.
* The watermark is a keyed noise carrier, band-limited to 300–3400 Hz (the
  band that survives 8 kHz resampling and speech codecs), cut into 4 ms
  symbols.  One symbol in four is a known sync symbol; the others carry the
  258 convolutionally coded bits.  The sequence repeats every ~1.4 s, its
  amplitude follows the speech envelope (with a floor), and its total power
  sits 31 dB below the clip's.
* Detection is blind: the clip is resampled to 16 kHz, whitened in the
  short-time Fourier domain, folded modulo the period (so a cut or a codec
  delay only rotates the fold), aligned by correlating with the sync symbols,
  and decoded with the Viterbi decoder and the keyed tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd
from typing import Any

import numpy as np
import scipy.fft as sfft
from scipy import ndimage, signal

from . import coding
from .coding import Payload, WatermarkKey
from .errors import InvalidMediaError, MediaTooLargeError, MediaTooSmallError

RATE = 16_000
SYMBOL = 64
SYNC_EVERY = 4
N_SYMBOLS = coding.CODED_BITS + -(-coding.CODED_BITS // (SYNC_EVERY - 1))
PERIOD = N_SYMBOLS * SYMBOL
BAND = (300.0, 3400.0)
TARGET_SNR = 31.0
HOST_CANCEL = 0.5
MIN_EMBED_SECONDS = 1.0
MIN_DETECT_SECONDS = 1.0
MAX_SECONDS = 3 * 3600
SYNC_CANDIDATES = 2


@dataclass(frozen=True)
class AudioDetection:
    """The outcome of :meth:`AudioMark.detect` (see :class:`~releasewise.provenance.ImageDetection`)."""

    detected: bool
    payload: Payload | None
    p_value: float
    confidence: float
    attempts: int
    key_id: str = ""
    raw_bits: np.ndarray | None = field(default=None, repr=False, compare=False)


def _layout() -> tuple[np.ndarray, np.ndarray]:
    """Which symbols are sync, and which coded bit each data symbol carries."""
    idx = np.arange(N_SYMBOLS)
    sync = idx % SYNC_EVERY == 0
    bit_of = np.full(N_SYMBOLS, -1, dtype=np.int64)
    bit_of[~sync] = np.arange(int((~sync).sum())) % coding.CODED_BITS
    return sync, bit_of


def _carrier(key: WatermarkKey) -> np.ndarray:
    rng = key.rng("audio/carrier")
    spec = sfft.rfft(rng.standard_normal(PERIOD))
    freqs = sfft.rfftfreq(PERIOD, 1.0 / RATE)
    spec[(freqs < BAND[0]) | (freqs > BAND[1])] = 0.0
    c = sfft.irfft(spec, n=PERIOD)
    return (c / np.sqrt(np.mean(c**2))).astype(np.float64)


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return x
    g = gcd(int(src), int(dst))
    return signal.resample_poly(x, dst // g, src // g)


def _as_signal(audio: Any, sample_rate: int) -> tuple[np.ndarray, np.dtype]:
    if not isinstance(audio, np.ndarray):
        raise InvalidMediaError(
            f"expected a numpy array of samples, got {type(audio).__name__}; "
            "load files with releasewise.provenance.load_audio()"
        )
    if not isinstance(sample_rate, (int, np.integer)) or not 4000 <= int(sample_rate) <= 384_000:
        raise InvalidMediaError(f"sample rate must be an integer between 4000 and 384000 Hz, got {sample_rate!r}")
    if audio.ndim not in (1, 2):
        raise InvalidMediaError(f"audio must be 1-D (mono) or 2-D (samples × channels), got shape {audio.shape}")
    if audio.size == 0:
        raise MediaTooSmallError("the audio is empty (zero samples)")
    if audio.shape[0] > MAX_SECONDS * sample_rate:
        raise MediaTooLargeError(
            f"the audio is longer than {MAX_SECONDS // 3600} hours; split it into shorter clips"
        )
    if np.issubdtype(audio.dtype, np.integer):
        scale = float(np.iinfo(audio.dtype).max)
        x = audio.astype(np.float64) / scale
    elif np.issubdtype(audio.dtype, np.floating):
        x = audio.astype(np.float64)
        if not np.all(np.isfinite(x)):
            raise InvalidMediaError("the audio contains NaN or infinite samples")
    else:
        raise InvalidMediaError(f"unsupported sample dtype {audio.dtype}; use float (-1..1) or int16")
    return x, audio.dtype


def _mono(x: np.ndarray) -> np.ndarray:
    return x if x.ndim == 1 else x.mean(axis=1)


def _whiten(x: np.ndarray) -> np.ndarray:
    """Flatten the speech spectrum in time and frequency so the noise-like mark stands out."""
    _, _, z = signal.stft(x, fs=RATE, nperseg=512, noverlap=384, boundary="even")
    mag = np.abs(z)
    smooth = ndimage.uniform_filter(mag, size=(5, 3)) + 1e-9
    z = z / smooth
    freqs = np.fft.rfftfreq(512, 1.0 / RATE)
    z[(freqs < BAND[0]) | (freqs > BAND[1]), :] = 0.0
    _, r = signal.istft(z, fs=RATE, nperseg=512, noverlap=384, boundary=True)
    r = r[: len(x)]
    if len(r) < len(x):
        r = np.pad(r, (0, len(x) - len(r)))
    return r


def _fold(r: np.ndarray) -> np.ndarray:
    n = -(-len(r) // PERIOD) * PERIOD
    return np.pad(r, (0, n - len(r))).reshape(-1, PERIOD).sum(axis=0)


class AudioMark:
    """Embed and detect a keyed watermark in speech (numpy samples at any rate)."""

    def __init__(self, key: WatermarkKey, *, target_snr: float = TARGET_SNR) -> None:
        self.key = key
        self.target_snr = target_snr
        self._carrier = _carrier(key)
        self._sync, self._bit_of = _layout()
        sync_wave = self._carrier * np.repeat(self._sync.astype(np.float64), SYMBOL)
        self._sync_fft = np.conj(sfft.rfft(sync_wave))

    def _symbol_soft(self, folded: np.ndarray) -> np.ndarray:
        return (folded * self._carrier).reshape(N_SYMBOLS, SYMBOL).sum(axis=1)

    def _data_soft(self, per_symbol: np.ndarray) -> np.ndarray:
        data = ~self._sync
        vals = per_symbol[data]
        soft = np.bincount(self._bit_of[data], weights=vals, minlength=coding.CODED_BITS)
        return soft / (np.std(vals) + 1e-12)

    def _symbols(self, payload: Payload) -> np.ndarray:
        cw = coding.codeword(self.key, payload)
        return np.where(self._sync, 1.0, cw[np.maximum(self._bit_of, 0)])

    def watermark(self, audio: np.ndarray, sample_rate: int, payload: Payload) -> np.ndarray:
        """The signal :meth:`embed` adds (same length and rate as ``audio``, mono)."""
        x, _ = _as_signal(audio, sample_rate)
        if x.shape[0] < MIN_EMBED_SECONDS * sample_rate:
            raise MediaTooSmallError(
                f"the clip is {x.shape[0] / sample_rate:.2f} s long; at least {MIN_EMBED_SECONDS} s is needed"
            )
        host = _resample(_mono(x), int(sample_rate), RATE)
        n = len(host)
        env = np.sqrt(ndimage.uniform_filter1d(host**2, 320) + 1e-12)
        env = ndimage.maximum_filter1d(env, 160)
        env = np.maximum(env, 0.15 * np.sqrt(np.mean(host**2)) + 1e-6)
        reps = -(-n // PERIOD)
        symbols = self._symbols(payload)

        def build(amplitudes: np.ndarray) -> np.ndarray:
            wave = np.tile(self._carrier * np.repeat(amplitudes, SYMBOL), reps)[:n] * env
            return wave

        # Informed embedding: measure how much the host itself projects onto
        # each symbol, and pre-subtract part of it.
        first = build(symbols)
        target_rms = np.sqrt(np.mean(host**2) / 10 ** (self.target_snr / 10))
        scale = target_rms / (np.sqrt(np.mean(first**2)) + 1e-12)
        host_soft = self._symbol_soft(_fold(_whiten(host)))
        probe = 0.05
        marked_soft = self._symbol_soft(_fold(_whiten(host + probe * scale * first)))
        gain = float(np.sum((marked_soft - host_soft) * symbols) / np.sum(symbols**2)) / probe
        if gain > 0 and HOST_CANCEL > 0:
            symbols = symbols - HOST_CANCEL * host_soft / gain
        wm = build(symbols)
        wm *= target_rms / (np.sqrt(np.mean(wm**2)) + 1e-12)
        return _resample(wm, RATE, int(sample_rate))[: x.shape[0]]

    def embed(self, audio: np.ndarray, sample_rate: int, payload: Payload) -> np.ndarray:
        """Return a watermarked copy of ``audio`` (same shape, dtype and rate)."""
        x, dtype = _as_signal(audio, sample_rate)
        wm = self.watermark(audio, sample_rate, payload)
        if len(wm) < x.shape[0]:
            wm = np.pad(wm, (0, x.shape[0] - len(wm)))
        out = x + (wm[:, None] if x.ndim == 2 else wm)
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            return np.clip(np.rint(out * info.max), info.min, info.max).astype(dtype)
        return out.astype(dtype)

    def detect(self, audio: np.ndarray, sample_rate: int) -> AudioDetection:
        """Blindly look for this key's watermark; never returns a payload for another key."""
        x, _ = _as_signal(audio, sample_rate)
        if x.shape[0] < MIN_DETECT_SECONDS * sample_rate:
            raise MediaTooSmallError(
                f"the clip is {x.shape[0] / sample_rate:.2f} s long; at least {MIN_DETECT_SECONDS} s is needed to detect"
            )
        r = _whiten(_resample(_mono(x), int(sample_rate), RATE))
        folded = _fold(r)
        corr = sfft.irfft(sfft.rfft(folded) * self._sync_fft, n=PERIOD)
        best: tuple[float, coding.Decoded] | None = None
        order = np.argsort(corr)[::-1]
        tried: list[int] = []
        for shift in order:
            if len(tried) >= SYNC_CANDIDATES:
                break
            if any(min(abs(int(shift) - t), PERIOD - abs(int(shift) - t)) < SYMBOL for t in tried):
                continue
            tried.append(int(shift))
            soft = self._data_soft(self._symbol_soft(np.roll(folded, -int(shift))))
            dec = coding.decode(self.key, soft)
            if dec.payload is not None:
                return AudioDetection(
                    True, dec.payload, min(1.0, len(tried) * coding.FALSE_MATCH_PROBABILITY),
                    dec.agreement, len(tried), self.key.key_id, dec.bits,
                )
            if best is None or dec.agreement > best[0]:
                best = (dec.agreement, dec)
        return AudioDetection(
            False, None, 1.0, best[0] if best else 0.0, len(tried), self.key.key_id,
            best[1].bits if best else None,
        )
