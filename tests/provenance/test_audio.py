from __future__ import annotations

import numpy as np
import pytest

from releasewise.provenance import AudioMark, InvalidMediaError, MediaTooLargeError, MediaTooSmallError
from releasewise.provenance.bench import AUDIO_ATTACKS, snr

from .conftest import SPEECH_TEXTS, espeak, require_tool


def test_roundtrip_snr_and_payload(key, payload, speech):
    x, rate = speech
    mark = AudioMark(key)
    y = mark.embed(x, rate, payload)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert snr(x, y) >= 30.0
    res = mark.detect(y, rate)
    assert res.detected and res.payload == payload and res.p_value <= 1e-6


@pytest.mark.parametrize("attack", ["resample 8k", "noise 20dB", "gain +6dB", "gain -6dB", "cut 20% start"])
def test_attacks(key, payload, speech, attack):
    x, rate = speech
    mark = AudioMark(key)
    y = mark.embed(x, rate, payload)
    assert mark.detect(AUDIO_ATTACKS[attack](y, rate), rate).payload == payload


@pytest.mark.parametrize("attack", ["mp3 64k", "opus 64k"])
def test_codecs(key, payload, speech, attack):
    require_tool("ffmpeg")
    x, rate = speech
    mark = AudioMark(key)
    y = mark.embed(x, rate, payload)
    assert mark.detect(AUDIO_ATTACKS[attack](y, rate), rate).payload == payload


def test_other_rates_stereo_and_int16(key, payload):
    x, rate = espeak(SPEECH_TEXTS[1], "en-gb")
    from scipy import signal

    x48 = signal.resample_poly(x, 48000 // 50, rate // 50)
    stereo = np.stack([x48, 0.8 * x48], axis=1)
    pcm = np.clip(np.rint(stereo * 32767), -32768, 32767).astype(np.int16)
    mark = AudioMark(key)
    marked = mark.embed(pcm, 48000, payload)
    assert marked.dtype == np.int16 and marked.shape == pcm.shape
    assert mark.detect(marked, 48000).payload == payload
    # The same clip resampled to 16 kHz is still detected: the mark lives at an absolute band.
    mono16 = signal.resample_poly(marked.mean(axis=1) / 32767.0, 1, 3)
    assert mark.detect(mono16, 16000).payload == payload


def test_wrong_key_unmarked_and_deterministic(key, other_key, payload, speech):
    x, rate = speech
    y = AudioMark(key).embed(x, rate, payload)
    assert np.array_equal(y, AudioMark(key).embed(x, rate, payload))
    assert AudioMark(other_key).detect(y, rate).payload is None
    assert not AudioMark(key).detect(x, rate).detected
    rng = np.random.default_rng(5)
    assert not any(AudioMark(key).detect(rng.normal(0, 0.1, 16000 * 3), 16000).detected for _ in range(20))


@pytest.mark.parametrize(
    "bad, rate, error",
    [
        (np.zeros(0), 16000, MediaTooSmallError),
        (np.zeros(100), 16000, MediaTooSmallError),
        (np.zeros((10, 2, 2)), 16000, InvalidMediaError),
        (np.full(32000, np.nan), 16000, InvalidMediaError),
        (np.zeros(32000), 100, InvalidMediaError),
        ([0.0] * 32000, 16000, InvalidMediaError),
    ],
)
def test_bad_inputs(key, payload, bad, rate, error):
    with pytest.raises(error):
        AudioMark(key).embed(bad, rate, payload)
    with pytest.raises(error):
        AudioMark(key).detect(bad, rate)


def test_too_long_is_refused_without_allocating(key, payload):
    huge = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(4 * 3600 * 8000,), strides=(0,))
    with pytest.raises(MediaTooLargeError):
        AudioMark(key).detect(huge, 8000)
