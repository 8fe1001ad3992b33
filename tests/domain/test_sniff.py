"""Evidence is accepted by what its bytes are, not by the type or name it claims (domain/sniff.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasewise.domain import incidents as rules
from releasewise.domain import sniff
from releasewise.errors import InvalidInput

SAMPLES: dict[str, bytes] = {
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "image/gif": b"GIF89a\x01\x00\x01\x00",
    "audio/wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "audio/mpeg": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "audio/flac": b"fLaC\x00\x00\x00\x22",
    "audio/ogg": b"OggS\x00\x02\x00\x00",
    "video/mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00",
    "video/quicktime": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00",
    "video/webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm",
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "text/plain": "A caller said: «this is your CEO».\r\n\tThanks.".encode(),
}


@pytest.mark.parametrize("media_type", sorted(SAMPLES))
def test_each_accepted_kind_is_recognised_by_its_magic_bytes(media_type: str) -> None:
    assert sniff.sniff(SAMPLES[media_type]).media_type == media_type
    # accepted whatever generic type the client declared
    assert sniff.check_content("evidence", "application/octet-stream", SAMPLES[media_type]).media_type == media_type
    assert sniff.check_content("evidence", "", SAMPLES[media_type]).media_type == media_type


def test_bare_mp3_frames_and_old_quicktime_atoms_are_recognised() -> None:
    assert sniff.sniff(b"\xff\xfb\x90\x64\x00").media_type == "audio/mpeg"  # MPEG-1 layer III, 128 kbit/s
    assert sniff.sniff(b"\xff\xf3\x84\x64\x00").media_type == "audio/mpeg"  # MPEG-2 layer III
    assert sniff.sniff(b"\xff\xf1\x50\x80\x00").media_type != "audio/mpeg"  # AAC ADTS (layer 0) is not MP3
    assert sniff.sniff(b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat").media_type == "video/quicktime"


@pytest.mark.parametrize(("data", "label"), [
    (b"MZ\x90\x00\x03", "Windows executable"),
    (b"\x7fELF\x02\x01", "ELF executable"),
    (b"PK\x03\x04\x14\x00", "ZIP archive"),
    (b"  <!DOCTYPE html><script>alert(1)</script>", "HTML page"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "SVG image"),
    (b"\x00\x00\x00\x18ftypheic", "HEIF/AVIF image"),
    (b"\x00\x01\x02\x03\xfe\xfd", "unrecognised binary data"),
    (b"text with a NUL\x00 byte", "unrecognised binary data"),
])
def test_unknown_or_refused_content_names_what_was_detected_and_what_is_allowed(data: bytes, label: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        sniff.check_content("evidence.png", "image/png", data)
    message = caught.value.message
    assert label in message and "not accepted" in message
    assert "PNG image" in message and "plain text" in message and "MP3 audio" in message  # what is allowed


def test_a_declared_type_or_extension_that_disagrees_with_the_content_is_refused() -> None:
    png = SAMPLES["image/png"]
    with pytest.raises(InvalidInput, match=r"sent as image/jpeg but its content is PNG image \(image/png\)"):
        sniff.check_content("photo.png", "image/jpeg", png)
    with pytest.raises(InvalidInput, match=r"named \.mp3 but its content is PNG image"):
        sniff.check_content("song.mp3", "application/octet-stream", png)
    with pytest.raises(InvalidInput, match="sent as image/svg\\+xml"):
        sniff.check_content("x", "image/svg+xml", png)
    with pytest.raises(InvalidInput, match="named .txt"):  # a renamed PDF is not plain text
        sniff.check_content("notes.txt", "", SAMPLES["application/pdf"])


def test_aliases_and_families_are_not_mismatches() -> None:
    assert sniff.check_content("a.jpg", "image/jpg", SAMPLES["image/jpeg"]).media_type == "image/jpeg"
    assert sniff.check_content("a.wav", "audio/x-wav; codecs=1", SAMPLES["audio/wav"]).media_type == "audio/wav"
    assert sniff.check_content("clip.mov", "video/quicktime", SAMPLES["video/mp4"]).media_type == "video/mp4"
    assert sniff.check_content("notes.md", "text/markdown", SAMPLES["text/plain"]).media_type == "text/plain"
    assert sniff.check_content("scan.PDF", "APPLICATION/PDF", SAMPLES["application/pdf"]).media_type == \
        "application/pdf"
    assert sniff.check_content("evidence.bin", "image/png", SAMPLES["image/png"]).media_type == "image/png"


def test_check_evidence_returns_the_detected_type_and_keeps_its_limits() -> None:
    checked = rules.check_evidence([("a.png", "application/octet-stream", SAMPLES["image/png"])], 1000)
    assert checked == [("a.png", "image/png", SAMPLES["image/png"])]
    with pytest.raises(rules.EvidenceTooLarge):
        rules.check_evidence([("a.png", "image/png", SAMPLES["image/png"] + b"x" * 1000)], 1000)
    assert rules.EVIDENCE_TYPES == frozenset(sniff.ACCEPTED)


@given(st.binary(max_size=256))
def test_sniffing_never_crashes_and_only_accepts_what_it_detected(data: bytes) -> None:
    kind = sniff.sniff(data)
    try:
        accepted = sniff.check_content("evidence", "", data)
    except InvalidInput:
        assert kind.media_type not in sniff.ACCEPTED
    else:
        assert accepted == kind and kind.media_type in sniff.ACCEPTED
