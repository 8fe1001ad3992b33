"""Rules of the detection service: which media it takes, who may trace whose marks, and how much they see.

Tracing a watermark back to a grant is powerful: it names who received a model. So what a caller learns
depends on their relationship with the organisation whose mark was found:

* ``full`` — the organisation's leads (who manage access anyway): organisation, project, model, release
  and the grant with its grantee;
* ``partner`` — other members and the organisation's detection partners: organisation, project, model and
  release, never the grant;
* ``public`` — anyone signed in, for projects whose detection is public: only "marked by organisation X".

Projects choose ``public``, ``partners`` (the default) or ``off``; ``off`` keeps the project's keys out of
every check except those of the organisation's own members.
"""

from __future__ import annotations

from enum import Enum

from releasewise.domain import sniff as content
from releasewise.errors import InvalidInput, TooLarge, UnsupportedMedia


class DetectionMode(str, Enum):
    public = "public"
    partners = "partners"
    off = "off"


DEFAULT_MODE = DetectionMode.partners


class Visibility(str, Enum):
    full = "full"
    partner = "partner"
    public = "public"


def parse_mode(value: str) -> DetectionMode:
    try:
        return DetectionMode((value or "").strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in DetectionMode)
        raise InvalidInput(f"Detection must be one of {allowed}; got '{value}'.", field="mode") from None


def visibility(*, is_lead: bool, is_member: bool, is_partner: bool, mode: DetectionMode) -> Visibility | None:
    """What a caller may learn about a match in a project with ``mode``; ``None``: the key is not tried."""
    if is_lead:
        return Visibility.full
    if is_member:
        return Visibility.partner
    if mode is DetectionMode.off:
        return None
    if is_partner:
        return Visibility.partner
    return Visibility.public if mode is DetectionMode.public else None


# Media the service checks, recognised by their first bytes (``domain/sniff.py``), never by name or declared type.
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
# Voice clones circulate as MP3, Ogg/Opus and FLAC far more than as WAV; the speech watermark survives those
# codecs (docs/provenance.md), so the service decodes them (through ffmpeg).
AUDIO_TYPES = ("audio/wav", "audio/mpeg", "audio/ogg", "audio/flac")
ACCEPTED = IMAGE_TYPES + AUDIO_TYPES
# What marking takes: generator output before any lossy re-encoding.
MARKABLE = IMAGE_TYPES + ("audio/wav",)


def sniff(data: bytes) -> str | None:
    """The media type of ``data`` from its magic bytes when the service checks it, else ``None``."""
    media_type = content.sniff(data).media_type
    return media_type if media_type in ACCEPTED else None


def _sniffed(data: bytes, allowed: tuple[str, ...], refusal: str) -> str:
    """The media type of ``data`` if it is one of ``allowed``; else an error naming what it is and ``refusal``."""
    kind = content.sniff(data)
    if kind.media_type not in allowed:
        raise UnsupportedMedia(f"The file is {kind.label}{refusal}", field="file")
    return kind.media_type


def accepted_type(data: bytes) -> str:
    """The sniffed type of a file to check, or an error that says what was found and what is accepted."""
    return _sniffed(data, ACCEPTED, ", not a JPEG, PNG, WebP image or a WAV, MP3, Ogg or FLAC clip (judged by "
                    "its content, not its name). Convert it to one of these and check it again.")


def markable_type(data: bytes) -> str:
    """The sniffed type of a file to mark, or an error naming what can be marked."""
    return _sniffed(data, MARKABLE, "; marking takes the generator's own output as a JPEG, PNG or WebP image or "
                    "a WAV clip (mark before any lossy re-encoding, then convert).")


def check_size(size: int, limit: int) -> None:
    if size == 0:
        raise InvalidInput("The file is empty; choose the image or clip you want to check.", field="file")
    if size > limit:
        raise TooLarge(f"The file is {size / 2**20:.1f} MiB; the detection service takes files up to "
                       f"{limit / 2**20:.0f} MiB. Downscale or trim it and try again.", field="file")


def combined_p_value(per_key: float, keys: int) -> float:
    """A match's p-value over every key tried (Bonferroni): the chance an unmarked file verifies under any."""
    return min(1.0, per_key * max(keys, 1))
