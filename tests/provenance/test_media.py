"""Bad files: each gives a clear ProvenanceError, never a crash or a memory blow-up."""

from __future__ import annotations

import io
import struct
import wave
import zlib

import numpy as np
import pytest
from PIL import Image

from releasewise.provenance import (
    InvalidMediaError,
    MediaTooLargeError,
    MediaTooSmallError,
    ProvenanceError,
    UnsupportedFormatError,
    load_audio,
    load_image,
    media_kind,
    save_audio,
    save_image,
)

from .conftest import require_tool


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (the IDAT stream is a few bytes)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_image_roundtrip(tmp_path, photo):
    path = tmp_path / "a.png"
    save_image(path, photo)
    assert np.array_equal(load_image(path), photo)
    assert media_kind(path) == "image"


def test_errors_say_what_to_do(tmp_path, photo):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(MediaTooSmallError, match="empty"):
        load_image(empty)
    with pytest.raises(InvalidMediaError, match="no such file"):
        load_image(tmp_path / "missing.png")

    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "PNG")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(InvalidMediaError, match="truncated or corrupt"):
        load_image(truncated)

    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"this is not an image at all" * 10)
    with pytest.raises(UnsupportedFormatError):
        load_image(garbage)

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_bomb(100_000, 100_000))
    with pytest.raises(MediaTooLargeError, match="decompression bomb"):
        load_image(bomb)

    unknown = tmp_path / "data.bin"
    unknown.write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(UnsupportedFormatError):
        media_kind(unknown)


def test_wav_roundtrip_and_errors(tmp_path):
    x = 0.1 * np.sin(np.arange(16000) / 5.0)
    path = tmp_path / "a.wav"
    save_audio(path, x, 16000)
    y, rate = load_audio(path)
    assert rate == 16000 and np.allclose(x, y, atol=1e-4)
    assert media_kind(path) == "audio"

    truncated = tmp_path / "t.wav"
    truncated.write_bytes(path.read_bytes()[:30])
    with pytest.raises(ProvenanceError):
        load_audio(truncated)

    corrupt = tmp_path / "c.wav"
    corrupt.write_bytes(b"RIFF" + b"\xff" * 100)
    with pytest.raises(InvalidMediaError):
        load_audio(corrupt)


def test_wav_claiming_hours_is_refused(tmp_path):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 100)
    raw = bytearray(buf.getvalue())
    raw[40:44] = struct.pack("<I", 2**31)  # data chunk claims ~37 hours
    path = tmp_path / "long.wav"
    path.write_bytes(bytes(raw))
    with pytest.raises(MediaTooLargeError):
        load_audio(path)


def test_compressed_audio_via_ffmpeg(tmp_path):
    require_tool("ffmpeg")
    x = 0.1 * np.sin(np.arange(32000) / 5.0)
    path = tmp_path / "a.mp3"
    save_audio(path, x, 16000)
    y, rate = load_audio(path)
    assert rate == 16000 and len(y) >= 30000
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3" + b"\x00" * 50)
    with pytest.raises(InvalidMediaError):
        load_audio(broken)
