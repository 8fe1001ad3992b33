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


def _attacks():
    from releasewise.provenance.bench import IMAGE_ATTACKS

    return IMAGE_ATTACKS


@pytest.mark.parametrize("attack", ["resize1.5", "bright-20%", "contrast+20%", "noise σ5", "resize0.8+jpeg70"])
def test_attacks_on_generated_image(key, payload, attack):
    # A "generated" image: smooth gradients plus texture, as a diffusion model might produce.
    yy, xx = np.mgrid[0:384, 0:512]
    rng = np.random.default_rng(3)
    img = np.stack([
        128 + 80 * np.sin(xx / 40.0) * np.cos(yy / 55.0),
        100 + 0.25 * xx + 10 * rng.standard_normal((384, 512)),
        90 + 0.3 * yy,
    ], axis=2).clip(0, 255).astype(np.uint8)
    mark = ImageMark(key)
    marked = mark.embed(img, payload)
    assert _psnr(img, marked) >= 40.0
    assert mark.detect(_attacks()[attack](marked)).payload == payload


def test_detection_p_value_and_bits(key, payload, photo):
    from releasewise.provenance.coding import payload_bits

    res = ImageMark(key).detect(ImageMark(key).embed(photo, payload))
    assert res.p_value == res.attempts * 2.0**-32
    assert np.array_equal(res.bits, payload_bits(payload))


@pytest.mark.slow
def test_false_positive_rate_on_unmarked_crops(key):
    """≥ 2,000 unmarked crops of real photos: none may be reported as marked.

    The analytic rate is ≤ 11 attempts × 2**-32 ≈ 2.6e-9 per image and key, so
    even one hit here would falsify the claim.
    """
    from skimage import data

    from releasewise.provenance.bench import unmarked_false_positives

    photos = [(n, getattr(data, n)()) for n in ("astronaut", "coffee", "chelsea", "camera", "rocket", "brick", "moon")]
    hits, n = unmarked_false_positives(photos, n=2000, seed=11)
    assert n == 2000 and hits == 0


def test_detect_many_matches_detect(key, other_key, payload, photo):
    marked = ImageMark(key).embed(photo, payload)
    results = ImageMark.detect_many(marked, [ImageMark(other_key), ImageMark(key)])
    assert [r.detected for r in results] == [False, True]
    assert results[1].payload == payload


def test_huge_array_refused_before_allocating(key, payload):
    from releasewise.provenance import MediaTooLargeError

    huge = np.broadcast_to(np.zeros((1, 1, 3), dtype=np.uint8), (20_000, 20_000, 3))
    with pytest.raises(MediaTooLargeError, match="downscale"):
        ImageMark(key).detect(huge)
    with pytest.raises(MediaTooLargeError):
        ImageMark(key).embed(huge, payload)


def _many_keys(n: int) -> list:
    from releasewise.provenance import WatermarkKey

    return [WatermarkKey(bytes([(i * 37 + j) % 256 for j in range(32)]), key_id=f"wrong-{i}") for i in range(1, n + 1)]


@pytest.mark.parametrize("attack", ["jpeg50", "resize0.5"])
def test_right_key_found_among_many_wrong_ones(key, payload, photo, attack):
    """The right key is found wherever it sits among 40 wrong ones, and no wrong key reports a payload."""
    marked = _attacks()[attack](ImageMark(key).embed(photo, payload))
    wrong = [ImageMark(k) for k in _many_keys(40)]
    marks = wrong[:20] + [ImageMark(key)] + wrong[20:]
    results = ImageMark.detect_many(marked, marks)
    assert [r.detected for r in results] == [False] * 20 + [True] + [False] * 20
    assert results[20].payload == payload and results[20].key_id == key.key_id
    assert all(r.payload is None and r.p_value == 1.0 for r in results[:20] + results[21:])
    # Batching keys changes nothing: each result equals detecting that key alone.
    alone = [m.detect(marked) for m in (marks[0], marks[20], marks[-1])]
    for single, batched in zip(alone, (results[0], results[20], results[-1])):
        assert single == batched and np.array_equal(single.bits, batched.bits)


def test_wrong_keys_alone_never_report_a_payload(key, payload, photo):
    marked = ImageMark(key).embed(photo, payload)
    for image in (marked, _jpeg(marked, 50), photo):
        results = ImageMark.detect_many(image, [ImageMark(k) for k in _many_keys(40)])
        assert not any(r.detected or r.payload is not None for r in results)
        assert all(r.attempts == results[0].attempts > 0 and r.p_value == 1.0 for r in results)


def test_every_candidate_period_is_decoded_and_counted(key, payload, photo):
    """No pre-screen: every key decodes every candidate period, and the p-value counts them all."""
    from releasewise.provenance import image as image_module

    marked = _jpeg(ImageMark(key).embed(photo, payload), 50)
    periods, _ = image_module._analyse(marked)
    results = ImageMark.detect_many(marked, [ImageMark(k) for k in _many_keys(3)] + [ImageMark(key)])
    assert all(r.attempts == len(periods) for r in results)
    assert results[-1].p_value == len(periods) * 2.0**-32


def test_detect_many_with_no_keys(photo):
    assert ImageMark.detect_many(photo, []) == []
