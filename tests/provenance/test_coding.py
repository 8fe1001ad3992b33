from __future__ import annotations

import numpy as np
import pytest

from releasewise.provenance import InvalidKeyError, Payload, PayloadError, WatermarkKey
from releasewise.provenance import coding


def test_payload_layout_and_range():
    p = Payload(release_id=2**24 - 1, grant_id=0)
    assert Payload.from_bytes(p.to_bytes()) == p
    assert coding.PAYLOAD_BITS >= 32
    for bad in (-1, 2**24, 1.5, True, "3"):
        with pytest.raises(PayloadError):
            Payload(release_id=bad)  # type: ignore[arg-type]


def test_key_validation_and_repr_hides_secret():
    with pytest.raises(InvalidKeyError):
        WatermarkKey(b"short")
    with pytest.raises(InvalidKeyError):
        WatermarkKey.from_hex("zz")
    key = WatermarkKey.generate("k1")
    assert key.hex() not in repr(key)
    assert WatermarkKey.from_hex(key.hex()).secret == key.secret


def test_codeword_deterministic_and_decodes_through_noise(key, payload):
    cw = coding.codeword(key, payload)
    assert cw.shape == (coding.CODED_BITS,)
    assert np.array_equal(cw, coding.codeword(key, payload))
    rng = np.random.default_rng(0)
    decoded = [coding.decode(key, 1.5 * cw + rng.normal(size=cw.shape)).payload for _ in range(50)]
    assert all(d == payload for d in decoded)


def test_wrong_key_and_noise_never_yield_payload(key, other_key, payload):
    cw = coding.codeword(key, payload)
    assert coding.decode(other_key, cw).payload is None
    rng = np.random.default_rng(1)
    # Random soft symbols: the keyed 32-bit tag must reject them (analytic rate 2**-32).
    assert all(coding.decode(key, rng.normal(size=cw.shape)).payload is None for _ in range(2000))


def _viterbi_reference(soft: np.ndarray) -> np.ndarray:
    """Textbook soft-decision Viterbi over the explicit trellis (one candidate at a time)."""
    steps = soft.reshape(-1, coding.RATE_INV)
    metric = np.full(coding._STATES, -np.inf)
    metric[0] = 0.0
    back = []
    for step in steps:
        cand = metric[coding._PRED] + coding._OUT @ step
        choice = np.argmax(cand, axis=1)
        back.append(choice)
        metric = cand[np.arange(coding._STATES), choice]
    state, bits = 0, []
    for choice in reversed(back):
        bits.append(coding._INPUT[state])
        state = coding._PRED[state, choice[state]]
    return np.array(bits[::-1][: len(steps) - (coding.CONSTRAINT - 1)], dtype=np.uint8)


def test_batched_viterbi_matches_reference_decoder():
    rng = np.random.default_rng(5)
    info = rng.integers(0, 2, (12, coding.INFO_BITS))
    clean = 1.0 - 2.0 * coding.conv_encode(info)
    for sigma in (0.5, 1.2, 3.0):  # clean decodes, near the code's limit, and pure noise
        soft = clean + sigma * rng.standard_normal(clean.shape)
        batch = coding.viterbi_decode(soft)
        assert np.array_equal(batch, np.stack([_viterbi_reference(row) for row in soft]))
    assert np.array_equal(coding.viterbi_decode(clean[0]), info[0])


def test_decode_keys_checks_each_row_against_its_own_key(key, other_key, payload):
    mine = coding.codeword(key, payload)[None, :].astype(np.float64)
    theirs = coding.codeword(other_key, payload)[None, :].astype(np.float64)
    both = np.concatenate([mine, theirs])
    out = coding.decode_keys([(key, both), (other_key, both)])
    assert [d.payload for d in out[0]] == [payload, None]
    assert [d.payload for d in out[1]] == [None, payload]
    assert out[0][0].agreement == 1.0
    assert [d.payload for d in coding.decode_many(key, both)] == [payload, None]
    assert coding.decode_keys([]) == []
