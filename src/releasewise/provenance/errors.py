"""Exceptions raised by :mod:`releasewise.provenance`.

Every error a user can cause (a bad file, a missing key) is a subclass of
:class:`ProvenanceError`, carries a message that says what to do, and never
needs a stack trace to be understood.
"""

from __future__ import annotations


class ProvenanceError(Exception):
    """Base class for every error raised by the provenance package."""


class InvalidMediaError(ProvenanceError):
    """The input is not usable media (empty, corrupt, truncated, wrong format)."""


class UnsupportedFormatError(InvalidMediaError):
    """The file is readable but not a format this module handles."""


class MediaTooLargeError(InvalidMediaError):
    """The media exceeds a safety limit (e.g. a decompression bomb)."""


class MediaTooSmallError(InvalidMediaError):
    """The media is too small (or too short) to carry or detect a watermark."""


class WatermarkKeyError(ProvenanceError):
    """Base for problems with watermark keys or the keystore."""


class InvalidKeyError(WatermarkKeyError):
    """Key material is malformed (wrong length, not hex, ...)."""


class KeyNotFoundError(WatermarkKeyError):
    """The keystore has no key for the requested organisation / model / key id."""


class KeystoreError(WatermarkKeyError):
    """The keystore file cannot be read or written."""


class PayloadError(ProvenanceError):
    """A payload field is out of range."""


class ToolMissingError(ProvenanceError):
    """An external program (ffmpeg) needed for this file type is not installed."""


__all__ = [
    "ProvenanceError",
    "InvalidMediaError",
    "UnsupportedFormatError",
    "MediaTooLargeError",
    "MediaTooSmallError",
    "WatermarkKeyError",
    "InvalidKeyError",
    "KeyNotFoundError",
    "KeystoreError",
    "PayloadError",
    "ToolMissingError",
]
