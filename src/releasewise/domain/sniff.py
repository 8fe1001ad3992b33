"""What a file really is, from its first bytes (magic numbers), for misuse-report evidence.

Evidence comes from strangers. The type a browser or client declares is derived from the
file name, which anyone can choose, so a file is accepted by what its content *is*: the
declared type and the name's extension may only agree with that (or say nothing useful,
like ``application/octet-stream``). A mismatch or an unrecognised content is refused with a
message naming what was detected and what is allowed, so the reporter can fix it.

Pure functions, no I/O: the caller passes the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from releasewise.errors import InvalidInput


@dataclass(frozen=True)
class Kind:
    """A content type we can recognise: its media type and a name people know it by."""

    media_type: str
    label: str


# Accepted evidence, by canonical media type.
ACCEPTED: dict[str, str] = {
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/webp": "WebP image",
    "image/gif": "GIF image",
    "audio/wav": "WAV audio",
    "audio/mpeg": "MP3 audio",
    "audio/flac": "FLAC audio",
    "audio/ogg": "Ogg audio/video",
    "video/mp4": "MP4 video",
    "video/quicktime": "QuickTime (MOV) video",
    "video/webm": "WebM video",
    "application/pdf": "PDF document",
    "text/plain": "plain text",
}

# Declared types (and extensions) that name the same thing as a canonical type. MP4 and MOV are
# one family (the same ISO base-media container; tools label them interchangeably), as are the
# text types that are plain text underneath.
_FAMILY: dict[str, str] = {
    "image/png": "png", "image/x-png": "png",
    "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/pjpeg": "jpeg",
    "image/webp": "webp",
    "image/gif": "gif",
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mpeg3": "mp3", "audio/x-mpeg": "mp3",
    "audio/flac": "flac", "audio/x-flac": "flac",
    "audio/ogg": "ogg", "video/ogg": "ogg", "application/ogg": "ogg", "audio/opus": "ogg",
    "video/mp4": "mp4", "video/quicktime": "mp4", "audio/mp4": "mp4", "audio/x-m4a": "mp4", "video/x-m4v": "mp4",
    "video/webm": "webm", "audio/webm": "webm",
    "application/pdf": "pdf",
    "text/plain": "text", "text/markdown": "text", "text/csv": "text",
}
_EXTENSIONS: dict[str, str] = {
    "png": "png", "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "jfif": "jpeg", "webp": "webp", "gif": "gif",
    "wav": "wav", "wave": "wav", "mp3": "mp3", "flac": "flac", "ogg": "ogg", "oga": "ogg", "ogv": "ogg",
    "opus": "ogg", "mp4": "mp4", "m4a": "mp4", "m4v": "mp4", "mov": "mp4", "qt": "mp4", "webm": "webm",
    "pdf": "pdf", "txt": "text", "text": "text", "md": "text", "csv": "text", "log": "text",
}
# Declared types that say "I don't know": the content decides alone.
GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})

_ISO_IMAGE_BRANDS = {b"heic": "image/heic", b"heix": "image/heic", b"mif1": "image/heif", b"msf1": "image/heif",
                     b"avif": "image/avif", b"avis": "image/avif"}
_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_MARKUP_STARTS = ((b"<!doctype html", "text/html", "HTML page"), (b"<html", "text/html", "HTML page"),
                  (b"<script", "text/html", "HTML page"), (b"<svg", "image/svg+xml", "SVG image"),
                  (b"<?xml", "application/xml", "XML document"))
_REFUSED_MAGIC = ((b"MZ", "application/x-msdownload", "Windows executable"),
                  (b"\x7fELF", "application/x-executable", "ELF executable"),
                  (b"PK\x03\x04", "application/zip", "ZIP archive (also .docx, .xlsx, .apk)"),
                  (b"\x1f\x8b", "application/gzip", "gzip archive"),
                  (b"Rar!", "application/vnd.rar", "RAR archive"),
                  (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", "7-Zip archive"),
                  (b"BM", "image/bmp", "BMP image"),
                  (b"II*\x00", "image/tiff", "TIFF image"), (b"MM\x00*", "image/tiff", "TIFF image"),
                  (b"{\\rtf", "application/rtf", "RTF document"),
                  (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage", "old Office document"))
UNKNOWN = Kind("application/octet-stream", "unrecognised binary data")


def _accepted(media_type: str) -> Kind:
    return Kind(media_type, ACCEPTED[media_type])


def _is_mp3_frame(head: bytes) -> bool:
    """An MPEG audio layer III frame header: 11 sync bits, a real version, layer III, a real bitrate and rate."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0b11
    return version != 0b01 and layer == 0b01 and bitrate not in (0, 0b1111) and rate != 0b11


def _looks_like_text(data: bytes) -> bool:
    """UTF-8 (BOM allowed) with no control characters other than tab, newlines and form feed."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any((ord(c) < 32 and c not in "\t\n\r\f") or ord(c) == 127 for c in text)


def sniff(data: bytes) -> Kind:
    """What ``data`` is, from its content alone; ``UNKNOWN`` when nothing matches."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _accepted("image/png")
    if head.startswith(b"\xff\xd8\xff"):
        return _accepted("image/jpeg")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _accepted("image/gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _accepted("image/webp")
    if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
        return _accepted("audio/wav")
    if head.startswith(b"fLaC"):
        return _accepted("audio/flac")
    if head.startswith(b"OggS"):
        return _accepted("audio/ogg")
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return _accepted("audio/mpeg")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _ISO_IMAGE_BRANDS:
            return Kind(_ISO_IMAGE_BRANDS[brand], "HEIF/AVIF image")
        return _accepted("video/quicktime" if brand == b"qt  " else "video/mp4")
    if head[4:8] in _QUICKTIME_ATOMS:
        return _accepted("video/quicktime")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _accepted("video/webm") if b"webm" in data[:4096] else Kind("video/x-matroska", "Matroska video")
    if head.startswith(b"%PDF-"):
        return _accepted("application/pdf")
    for magic, media_type, label in _REFUSED_MAGIC:
        if head.startswith(magic):
            return Kind(media_type, label)
    if _looks_like_text(data):
        start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:20].lower()
        for prefix, media_type, label in _MARKUP_STARTS:
            if start.startswith(prefix):
                return Kind(media_type, label)
        return _accepted("text/plain")
    return UNKNOWN


def allowed_list() -> str:
    """The accepted kinds, for messages: 'PNG image, JPEG image, …'."""
    return ", ".join(ACCEPTED.values())


def _family(media_type: str) -> str | None:
    return _FAMILY.get(media_type)


def check_content(name: str, declared_type: str, data: bytes) -> Kind:
    """The accepted kind of one evidence file, or InvalidInput naming what was detected and what is allowed.

    The content decides; a declared type or an extension that names a different kind is a
    mismatch (a renamed executable, or a file saved with the wrong name), refused rather than
    trusted either way, so responders never open a file that is not what it says.
    """
    kind = sniff(data)
    allowed = allowed_list()
    if kind.media_type not in ACCEPTED:
        raise InvalidInput(f"Evidence '{name}' looks like {kind.label} ({kind.media_type}), which is not accepted. "
                           f"Accepted: {allowed}.", field="evidence")
    detected = _family(kind.media_type)
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in GENERIC and _family(declared) != detected:
        raise InvalidInput(f"Evidence '{name}' was sent as {declared} but its content is {kind.label} "
                           f"({kind.media_type}). Send it with its real type or name. Accepted: {allowed}.",
                           field="evidence")
    extension = name.rsplit(".", 1)[1].lower() if "." in name else ""
    if extension in _EXTENSIONS and _EXTENSIONS[extension] != detected:
        raise InvalidInput(f"Evidence '{name}' is named .{extension} but its content is {kind.label} "
                           f"({kind.media_type}). Rename it to match its content. Accepted: {allowed}.",
                           field="evidence")
    return kind
