"""Safe loading and saving of media files for marking and detection.

Every failure a user can cause — a missing, empty, truncated or corrupt file,
a file in the wrong format, an image that would decompress to too many pixels
— becomes a :class:`~releasewise.provenance.errors.ProvenanceError` with a
message that says what to do.  Sizes are checked *before* pixels or samples
are decoded, so a decompression bomb never reaches memory.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
import wave
import warnings
from pathlib import Path
from typing import Literal

import numpy as np

from .errors import (
    InvalidMediaError,
    MediaTooLargeError,
    MediaTooSmallError,
    ToolMissingError,
    UnsupportedFormatError,
)
from .image import MAX_FILE_BYTES, MAX_PIXELS

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
AUDIO_SUFFIXES = {".wav", ".mp3", ".ogg", ".opus", ".flac", ".m4a", ".aac"}
TEXT_SUFFIXES = {".txt", ".md", ".json"}
MAX_AUDIO_SECONDS = 3 * 3600
MAX_AUDIO_CHANNELS = 8
FFMPEG_TIMEOUT_S = 300

MediaKind = Literal["image", "audio", "text"]


def _check_file(path: Path) -> int:
    if not path.exists():
        raise InvalidMediaError(f"{path}: no such file")
    if not path.is_file():
        raise InvalidMediaError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise MediaTooSmallError(f"{path}: the file is empty (0 bytes); pass the generated file itself")
    if size > MAX_FILE_BYTES:
        raise MediaTooLargeError(
            f"{path}: the file is {size / 2**20:.0f} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit"
        )
    return size


def media_kind(path: str | Path) -> MediaKind:
    """Guess whether a file is an image, audio or text, from its suffix and first bytes."""
    p = Path(path)
    _check_file(p)
    suffix = p.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in AUDIO_SUFFIXES:
        return "audio"
    if suffix in TEXT_SUFFIXES:
        return "text"
    head = p.open("rb").read(16)
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")) or head[8:12] == b"WEBP":
        return "image"
    if head.startswith((b"RIFF", b"ID3", b"OggS", b"fLaC")) or head[:2] == b"\xff\xfb":
        return "audio"
    raise UnsupportedFormatError(
        f"{path}: unrecognised file type; releasewise marks images (PNG, JPEG, WebP, ...) "
        "and audio (WAV, MP3, Ogg/Opus, FLAC)"
    )


def load_image(path: str | Path) -> np.ndarray:
    """Decode an image file to a uint8 array (H×W, H×W×3 or H×W×4), refusing bombs and corrupt files."""
    p = Path(path)
    _check_file(p)
    return _decode_image(p, str(path))


def decode_image(data: bytes, label: str = "the upload") -> np.ndarray:
    """Like :func:`load_image`, for bytes already in memory (the detection service's uploads)."""
    if not data:
        raise MediaTooSmallError(f"{label}: the file is empty (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise MediaTooLargeError(f"{label}: over the {MAX_FILE_BYTES // 2**20} MiB limit")
    return _decode_image(io.BytesIO(data), label)


def _decode_image(source: Path | io.BytesIO, label: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(source)
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise MediaTooLargeError(
                    f"{label}: the image declares {w}×{h} = {w * h:,} pixels, over the {MAX_PIXELS:,} limit "
                    "(possible decompression bomb); downscale it before marking or detecting"
                )
            im.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise UnsupportedFormatError(
                f"{label}: not an image this tool can read; use PNG, JPEG, WebP, BMP, TIFF or GIF"
            ) from None
        raise MediaTooLargeError(
            f"{label}: the image is too large to decode safely (possible decompression bomb); "
            "downscale it before marking or detecting"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidMediaError(
            f"{label}: the image is truncated or corrupt ({exc}); re-export it from the original"
        ) from None
    decoded: Image.Image = im
    if decoded.mode not in ("L", "RGB", "RGBA"):
        decoded = decoded.convert("RGBA" if "A" in decoded.getbands() else "RGB")
    return np.asarray(decoded).copy()


def encode_image(pixels: np.ndarray, image_format: str) -> bytes:
    """Encode pixels as ``PNG``, ``JPEG`` (quality 95) or ``WEBP`` (lossless) bytes."""
    from PIL import Image

    buf = io.BytesIO()
    options: dict[str, object] = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}}.get(image_format, {})
    image = Image.fromarray(pixels)
    if image_format == "JPEG" and image.mode == "RGBA":
        image = image.convert("RGB")
    image.save(buf, format=image_format, **options)
    return buf.getvalue()


def save_image(path: str | Path, pixels: np.ndarray) -> None:
    from PIL import Image

    p = Path(path)
    try:
        if p.suffix.lower() in (".jpg", ".jpeg"):
            Image.fromarray(pixels).save(p, quality=95)
        else:
            Image.fromarray(pixels).save(p)
    except (KeyError, ValueError) as exc:
        raise UnsupportedFormatError(f"{path}: cannot write this image format ({exc}); use .png or .jpg") from None


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise ToolMissingError(
            "ffmpeg is needed for compressed audio (MP3, Opus, FLAC); install it (Debian: apt-get install ffmpeg) "
            "or use a WAV file"
        )
    return exe


def _probe_rate(path: Path) -> tuple[int, int]:
    exe = shutil.which("ffprobe")
    if exe is None:
        raise ToolMissingError("ffprobe (part of ffmpeg) is needed for compressed audio; apt-get install ffmpeg")
    proc = subprocess.run(
        [exe, "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels",
         "-of", "json", str(path)],
        capture_output=True, timeout=60,
    )
    try:
        stream = json.loads(proc.stdout or b"{}").get("streams", [])[0]
        return int(stream["sample_rate"]), int(stream["channels"])
    except (IndexError, KeyError, ValueError):
        raise InvalidMediaError(
            f"{path}: no audio stream found; the file is corrupt, truncated or not audio"
        ) from None


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode audio to float64 samples (N or N×C) and the sample rate, with size limits."""
    p = Path(path)
    _check_file(p)
    if p.suffix.lower() == ".wav" or p.open("rb").read(4) == b"RIFF":
        return decode_wav(p.read_bytes(), str(path))
    exe = _ffmpeg()
    rate, channels = _probe_rate(p)
    channels = min(channels, MAX_AUDIO_CHANNELS)
    proc = subprocess.run(
        [exe, "-v", "error", "-i", str(p), "-t", str(MAX_AUDIO_SECONDS), "-f", "f32le", "-ac", str(channels), "-"],
        capture_output=True, timeout=FFMPEG_TIMEOUT_S,
    )
    if proc.returncode != 0 or not proc.stdout:
        raise InvalidMediaError(
            f"{path}: ffmpeg could not decode the audio ({proc.stderr.decode(errors='replace').strip()[:200]}); "
            "the file is corrupt, truncated or not audio"
        )
    x = np.frombuffer(proc.stdout, dtype=np.float32).astype(np.float64)
    x = x[: x.size // channels * channels]
    return (x.reshape(-1, channels) if channels > 1 else x), rate


AUDIO_SUFFIX = {"audio/wav": ".wav", "audio/mpeg": ".mp3", "audio/ogg": ".ogg", "audio/flac": ".flac"}


def decode_audio(data: bytes, media_type: str, label: str = "the upload") -> tuple[np.ndarray, int]:
    """Decode audio bytes of a known type: WAV directly, compressed formats through ffmpeg (a temporary file)."""
    if media_type == "audio/wav":
        return decode_wav(data, label)
    suffix = AUDIO_SUFFIX.get(media_type)
    if suffix is None:
        raise UnsupportedFormatError(f"{label}: {media_type} is not an audio type this tool decodes")
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        return load_audio(tmp.name)


def decode_wav(data: bytes, label: str = "the upload") -> tuple[np.ndarray, int]:
    """Decode PCM WAV bytes to float64 samples (N or N×C) and the sample rate, with size limits."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            rate, channels, width, frames = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
            if channels > MAX_AUDIO_CHANNELS or frames > MAX_AUDIO_SECONDS * max(rate, 1):
                raise MediaTooLargeError(f"{label}: the audio is too long or has too many channels to process")
            if width not in (1, 2, 4):
                raise UnsupportedFormatError(f"{label}: {8 * width}-bit WAV is not supported; use 16-bit PCM")
            raw = w.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise InvalidMediaError(f"{label}: not a readable PCM WAV file ({exc}); re-export it as 16-bit PCM") from None
    usable = len(raw) // (width * channels) * (width * channels)
    if width == 1:
        x = (np.frombuffer(raw[:usable], dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(raw[:usable], dtype=np.int16).astype(np.float64) / 32767.0
    else:
        x = np.frombuffer(raw[:usable], dtype=np.int32).astype(np.float64) / 2147483647.0
    if x.size == 0:
        raise MediaTooSmallError(f"{label}: the WAV file has no samples")
    return (x.reshape(-1, channels) if channels > 1 else x), rate


def encode_wav(samples: np.ndarray, rate: int) -> bytes:
    """16-bit PCM WAV bytes."""
    pcm = np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 32767), -32768, 32767).astype(np.int16)
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def save_audio(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """Write 16-bit PCM WAV directly; other suffixes (.mp3, .ogg, .flac) through ffmpeg."""
    p = Path(path)
    wav = encode_wav(samples, rate)
    if p.suffix.lower() == ".wav":
        p.write_bytes(wav)
        return
    proc = subprocess.run(
        [_ffmpeg(), "-v", "error", "-y", "-f", "wav", "-i", "-", str(p)],
        input=wav, capture_output=True, timeout=FFMPEG_TIMEOUT_S,
    )
    if proc.returncode != 0:
        raise UnsupportedFormatError(
            f"{path}: ffmpeg could not write this format ({proc.stderr.decode(errors='replace').strip()[:200]})"
        )
