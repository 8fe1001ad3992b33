from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from releasewise.provenance import ImageMark, MediaTooSmallError, InvalidMediaError


def _jpeg(a: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


def test_roundtrip_psnr_and_jpeg(key, payload, photo):
    mark = ImageMark(key)
    marked = mark.embed(photo, payload)
    assert marked.dtype == np.uint8 and marked.shape == photo.shape
    assert _psnr(photo, marked) >= 40.0
    result = mark.detect(_jpeg(marked, 50))
    assert result.detected and result.payload == payload
    assert result.p_value <= 1e-6


def test_crop_and_resize(key, payload, photo):
    mark = ImageMark(key)
    marked = mark.embed(photo, payload)
    h, w = marked.shape[:2]
    crop = marked[h // 7 : h - h // 7, w // 7 : w - w // 7]
    assert mark.detect(crop).payload == payload
    small = np.asarray(Image.fromarray(marked).resize((w // 2, h // 2), Image.Resampling.BICUBIC))
    assert mark.detect(small).payload == payload


def test_deterministic(key, payload, photo):
    mark = ImageMark(key)
    assert np.array_equal(mark.embed(photo, payload), ImageMark(key).embed(photo, payload))


def test_wrong_key_never_yields_payload(key, other_key, payload, photo):
    marked = ImageMark(key).embed(photo, payload)
    result = ImageMark(other_key).detect(marked)
    assert not result.detected and result.payload is None


def test_unmarked_not_detected(key, photo):
    result = ImageMark(key).detect(photo)
    assert not result.detected and result.payload is None and result.p_value == 1.0


def test_pil_and_float_inputs(key, payload, photo):
    mark = ImageMark(key)
    out = mark.embed(Image.fromarray(photo), payload)
    assert isinstance(out, Image.Image) and out.mode == "RGB"
    assert mark.detect(out).payload == payload
    gray = photo.mean(axis=2) / 255.0
    marked = mark.embed(gray, payload)
    assert marked.dtype == np.float64 and marked.max() <= 1.0
    assert mark.detect(marked).payload == payload


@pytest.mark.parametrize(
    "bad, error",
    [
        (np.zeros((0, 0, 3), dtype=np.uint8), MediaTooSmallError),
        (np.zeros((20, 20, 3), dtype=np.uint8), MediaTooSmallError),
        (np.zeros((100, 100, 5), dtype=np.uint8), InvalidMediaError),
        (np.full((100, 100), np.nan), InvalidMediaError),
        ("not an image", InvalidMediaError),
    ],
)
def test_bad_arrays(key, payload, bad, error):
    with pytest.raises(error):
        ImageMark(key).embed(bad, payload)
    with pytest.raises(error):
        ImageMark(key).detect(bad)
