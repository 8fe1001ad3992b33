"""Provenance marks for generated media: keyed, blind watermarks for images, audio and text.

Public API::

    from releasewise.provenance import ImageMark, AudioMark, TextMark, Payload, WatermarkKey

    key = WatermarkKey.generate()
    marked = ImageMark(key).embed(pixels, Payload(release_id=42, grant_id=7))
    result = ImageMark(key).detect(marked)   # result.detected, result.payload, result.p_value

This package is pure library code: it does no database or network I/O.
"""

from .coding import Payload, WatermarkKey
from .errors import (
    InvalidKeyError,
    InvalidMediaError,
    KeyNotFoundError,
    KeystoreError,
    MediaTooLargeError,
    MediaTooSmallError,
    PayloadError,
    ProvenanceError,
    ToolMissingError,
    UnsupportedFormatError,
    WatermarkKeyError,
)
from .audio import AudioDetection, AudioMark
from .image import ImageDetection, ImageMark
from .keystore import Keystore, KeyRecord, default_keystore_path
from .media import load_audio, load_image, media_kind, save_audio, save_image
from .text import TextDetection, TextMark

__all__ = [
    "AudioDetection",
    "AudioMark",
    "KeyRecord",
    "Keystore",
    "TextDetection",
    "TextMark",
    "default_keystore_path",
    "load_audio",
    "load_image",
    "media_kind",
    "save_audio",
    "save_image",
    "ImageDetection",
    "ImageMark",
    "InvalidKeyError",
    "InvalidMediaError",
    "KeyNotFoundError",
    "KeystoreError",
    "MediaTooLargeError",
    "MediaTooSmallError",
    "Payload",
    "PayloadError",
    "ProvenanceError",
    "ToolMissingError",
    "UnsupportedFormatError",
    "WatermarkKey",
    "WatermarkKeyError",
]
