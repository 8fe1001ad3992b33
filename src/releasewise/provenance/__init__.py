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
from .image import ImageDetection, ImageMark

__all__ = [
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
