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
