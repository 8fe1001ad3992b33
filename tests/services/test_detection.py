"""The detection service and server-side marking: real watermarks, real c2pa-python signing and reading."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from releasewise.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    TooLarge,
    UnsupportedMedia,
)
from releasewise.services import audit, detection, provenance
from releasewise.services.runtime import Runtime
from releasewise.store.models_provenance import DetectionCheck
from tests.conftest import World, make_user
from tests.hfapi.support import gated_setup, request_and_approve

MODEL = "weights-1b"


def photo_bytes(fmt: str = "JPEG", size: int = 384) -> bytes:
    from skimage import data

    image = Image.fromarray(data.astronaut()).resize((size, size))
    buf = io.BytesIO()
    image.save(buf, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buf.getvalue()


def strip(data: bytes, quality: int = 90) -> bytes:
    """What most platforms do to an upload: decode and re-encode, which drops the C2PA manifest."""
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture
def marked(world: World) -> provenance.MarkedOutput:
    return provenance.mark_output(world.rt, world.researcher, "lab-a", "echo", MODEL, release="v3",
                                  data=photo_bytes())


def test_marked_output_carries_a_trusted_credential_with_the_generator(world: World,
                                                                      marked: provenance.MarkedOutput) -> None:
    verdict = detection.detect(world.rt, world.lead, marked.data)
    assert verdict.credential["status"] == "trusted"
    assert verdict.credential["generator"]["model"] == MODEL
    assert verdict.credential["digital_source_type"].endswith("/trainedAlgorithmicMedia")
    assert verdict.credential["soft_binding"] == marked.soft_binding
    assert verdict.watermark.detected and verdict.watermark.release == "v3"
    assert verdict.watermark.p_value is not None and verdict.watermark.p_value < 1e-6


def test_stripped_copy_is_traced_through_the_watermark_to_its_stored_manifest(world: World,
                                                                              marked: provenance.MarkedOutput) -> None:
    stripped = strip(marked.data)
    verdict = detection.detect(world.rt, world.lead, stripped)
    assert verdict.credential["status"] == "absent"
    assert verdict.watermark.detected
    assert (verdict.watermark.organisation, verdict.watermark.project, verdict.watermark.model,
            verdict.watermark.release) == ("lab-a", "echo", MODEL, "v3")
    assert verdict.recovered is not None and verdict.recovered.release == "v3"
    assert verdict.recovered.content_sha256 == marked.sha256


def test_tampered_file_is_invalid_and_says_why(world: World, marked: provenance.MarkedOutput) -> None:
    pixels = bytearray(marked.data)
    pixels[-400] ^= 0xFF  # inside the JPEG's entropy-coded data, after the manifest
    verdict = detection.detect(world.rt, world.lead, bytes(pixels))
    assert verdict.credential["status"] == "invalid"
    assert any("mismatch" in p for p in verdict.credential["problems"])
    assert "INVALID" in verdict.summary


def test_a_credential_from_an_unknown_certificate_is_untrusted_not_valid(world: World) -> None:
    from releasewise.provenance import c2pa as cc

    foreign = cc.CertificateAuthority.create("Elsewhere").issue("Mallory Labs")
    signed, _ = cc.sign(photo_bytes(), "image/jpeg", foreign, cc.Generator("lab-a", MODEL, "v3"))
    verdict = detection.detect(world.rt, world.outsider, signed)
    assert verdict.credential["status"] == "untrusted"
    assert verdict.credential["signer"] == "Mallory Labs content credentials"
    assert "not trusted" in verdict.summary


def test_what_each_caller_sees_of_a_match(world: World) -> None:
    rt = world.rt
    grant = _grant(world)
    out = provenance.mark_output(rt, world.researcher, "lab-a", "echo", MODEL, release="v3", data=photo_bytes(),
                                 grant_id=grant)
    stripped = strip(out.data)
    full = detection.detect(rt, world.lead, stripped).watermark
    assert full.visibility == "full" and full.grant is not None and full.grant.id == grant
    assert full.grant.grantee.startswith("grantee")
    member = detection.detect(rt, world.viewer, stripped).watermark
    assert member.detected and member.grant is None and member.release == "v3"
    # An outsider: partners-only by default, so the key is not even tried.
    outsider = detection.detect(rt, world.outsider, stripped)
    assert not outsider.watermark.detected and outsider.watermark.keys_checked == 0
    assert "lab-a" not in outsider.summary
    # As a partner: model and release, never the grant.
    detection.add_partner(rt, world.owner, "lab-a", world.outsider.username, note="platform T&S")
    partner = detection.detect(rt, world.outsider, stripped)
    assert partner.watermark.detected and partner.watermark.model == MODEL and partner.watermark.grant is None
    assert partner.recovered is not None
    assert f"#{grant}" not in partner.summary
    # Public detection: anyone signed in learns only the organisation.
    stranger = make_user(rt, "sam")
    assert not detection.detect(rt, stranger, stripped).watermark.detected
    detection.set_mode(rt, world.lead, "lab-a", "echo", "public")
    public = detection.detect(rt, stranger, stripped)
    assert public.watermark.detected and public.watermark.organisation == "lab-a"
    assert public.watermark.model is None and public.watermark.release is None and public.recovered is None
    # Off: nobody outside the organisation, partners included; members still can.
    detection.set_mode(rt, world.lead, "lab-a", "echo", "off")
    assert not detection.detect(rt, world.outsider, stripped).watermark.detected
    assert detection.detect(rt, world.viewer, stripped).watermark.detected


def _grant(world: World) -> int:
    grantee = make_user(world.rt, "grantee")
    gated_setup(world.rt, world.lead)
    return request_and_approve(world.rt, grantee, world.lead)


def test_a_forged_soft_binding_in_a_manifest_reveals_nothing(world: World,
                                                              marked: provenance.MarkedOutput) -> None:
    """The soft binding inside an uploaded manifest is attacker-controlled: it is never used to look anything up."""
    from releasewise.provenance import c2pa as cc

    foreign = cc.CertificateAuthority.create("Elsewhere").issue("Mallory Labs")
    forged, _ = cc.sign(photo_bytes(size=200), "image/jpeg", foreign, cc.Generator("x", "y", "z"),
                        soft_binding=marked.soft_binding)
    verdict = detection.detect(world.rt, world.outsider, forged)
    assert verdict.recovered is None and not verdict.watermark.detected
    assert "v3" not in verdict.summary


def test_bad_uploads_are_refused_before_anything_is_stored(world: World) -> None:
    rt = world.rt
    with pytest.raises(UnsupportedMedia, match="JPEG, PNG, WebP"):
        detection.detect(rt, world.lead, b"%PDF-1.7 not an image")
    with pytest.raises(InvalidInput, match="empty"):
        detection.detect(rt, world.lead, b"")
    rt.settings.detection_max_bytes = 1000
    with pytest.raises(TooLarge, match="up to"):
        detection.detect(rt, world.lead, photo_bytes())
    rt.settings.detection_max_bytes = 25 * 1024**2
    with rt.read() as session:
        assert session.scalar(select(func.count()).select_from(DetectionCheck)) == 0
    # A file that looks right but cannot be decoded cost a decode attempt: it is refused, and counted
    # against the caller's rate limit (nothing else about it is kept).
    with pytest.raises(InvalidInput, match="decoded"):
        detection.detect(rt, world.lead, b"\xff\xd8\xff" + b"\x00" * 500)
    with rt.read() as session:
        refused = session.scalars(select(DetectionCheck)).all()
    assert len(refused) == 1 and "decoded" in refused[0].verdict["refused"] and refused[0].matched_org_id is None
    rt.settings.detection_checks_per_minute = 1
    with pytest.raises(RateLimited):
        detection.detect(rt, world.lead, photo_bytes(size=96))
    rt.settings.detection_checks_per_minute = 60


def test_rate_limit_per_key(world: World) -> None:
    rt = world.rt
    rt.settings.detection_checks_per_minute = 2
    small = photo_bytes(size=96)
    detection.detect(rt, world.viewer, small)
    detection.detect(rt, world.viewer, small)
    with pytest.raises(RateLimited):
        detection.detect(rt, world.viewer, small)
    detection.detect(rt, world.lead, small)  # another caller has its own budget
    rt.settings.detection_checks_per_minute = 60


def test_retention_keeps_matched_uploads_only_as_long_as_the_org_says(world: World,
                                                                      marked: provenance.MarkedOutput) -> None:
    rt = world.rt
    folder = rt.settings.data_dir / detection.RETAINED_FOLDER
    detection.detect(rt, world.lead, photo_bytes(size=200))  # unmatched: never stored
    detection.detect(rt, world.lead, marked.data)  # retention 0: not stored
    assert not folder.exists() or not any(folder.iterdir())
    detection.set_retention(rt, world.owner, "lab-a", 7)
    verdict = detection.detect(rt, world.lead, marked.data)
    assert len(list(folder.iterdir())) == 1
    checks = detection.list_checks(rt, world.lead, "lab-a")
    assert checks[0].id == verdict.check_id and checks[0].retained_until is not None
    assert detection.purge_expired(rt) == 0
    rt.clock.advance(days=8)  # type: ignore[attr-defined]
    assert detection.purge_expired(rt) == 1
    assert not any(folder.iterdir())


def test_permissions_on_keys_settings_and_marking(world: World) -> None:
    rt = world.rt
    with pytest.raises(PermissionDenied):
        provenance.mark_output(rt, world.viewer, "lab-a", "echo", MODEL, release="v1", data=photo_bytes(size=128))
    with pytest.raises(NotFound):
        provenance.mark_output(rt, world.outsider, "lab-a", "echo", MODEL, release="v1", data=photo_bytes(size=128))
    for who in (world.researcher, world.reviewer, world.viewer):
        with pytest.raises(PermissionDenied):
            detection.set_mode(rt, who, "lab-a", "echo", "public")
        with pytest.raises(PermissionDenied):
            provenance.rotate_watermark_key(rt, who, "lab-a", "echo", MODEL)
        with pytest.raises(PermissionDenied):
            detection.list_checks(rt, who, "lab-a")
    with pytest.raises(NotFound):
        detection.add_partner(rt, world.outsider, "lab-a", world.outsider.username)
    with pytest.raises(InvalidInput, match="public, partners, off"):
        detection.set_mode(rt, world.lead, "lab-a", "echo", "everyone")
    with pytest.raises(InvalidInput, match="release"):
        provenance.mark_output(rt, world.lead, "lab-a", "echo", MODEL, release="../x", data=photo_bytes(size=128))
    with pytest.raises(InvalidInput, match="not a grant of this model"):
        provenance.mark_output(rt, world.lead, "lab-a", "echo", MODEL, release="v1", data=photo_bytes(size=128),
                               grant_id=999)
    with pytest.raises(Conflict):
        detection.add_partner(rt, world.owner, "lab-a", world.viewer.username)


def test_rotation_keeps_old_marks_traceable(world: World, marked: provenance.MarkedOutput) -> None:
    rt = world.rt
    new = provenance.rotate_watermark_key(rt, world.lead, "lab-a", "echo", MODEL)
    assert new.key_ref != marked.key_ref and new.generation == 1
    keys = provenance.list_watermark_keys(rt, world.lead, "lab-a", "echo")
    assert [k.retired_at is not None for k in keys] == [True, False]
    assert detection.detect(rt, world.lead, strip(marked.data)).watermark.detected
    again = provenance.mark_output(rt, world.lead, "lab-a", "echo", MODEL, release="v3", data=photo_bytes())
    assert again.key_ref == new.key_ref and again.release_id == marked.release_id


def test_audio_is_marked_signed_and_traced(world: World) -> None:
    from releasewise.provenance import media

    rate = 16000
    t = np.arange(rate * 4) / rate
    speechlike = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
    speechlike += np.random.default_rng(1).normal(0, 0.02, t.size)
    out = provenance.mark_output(world.rt, world.lead, "lab-a", "echo", MODEL, release="v3",
                                 data=media.encode_wav(speechlike, rate))
    verdict = detection.detect(world.rt, world.lead, out.data)
    assert verdict.media_type == "audio/wav"
    assert verdict.credential["status"] == "trusted"
    assert verdict.watermark.detected and verdict.watermark.release == "v3"


def _ffmpeg(data: bytes, suffix: str, *args: str) -> bytes:
    import subprocess
    import tempfile

    from tests.provenance.conftest import require_tool

    exe = require_tool("ffmpeg")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = f"{tmp}/in.wav", f"{tmp}/out{suffix}"
        with open(src, "wb") as fh:
            fh.write(data)
        subprocess.run([exe, "-v", "error", "-y", "-i", src, *args, dst], check=True, timeout=120)
        with open(dst, "rb") as fh:
            return fh.read()


@pytest.mark.parametrize("suffix, codec, media_type, credential", [
    (".mp3", ["-b:a", "64k"], "audio/mpeg", "absent"),
    (".ogg", ["-c:a", "libopus", "-b:a", "64k"], "audio/ogg", "absent"),
    (".flac", [], "audio/flac", "absent"),
])
def test_speech_shared_as_compressed_audio_is_traced(world: World, suffix: str, codec: list[str], media_type: str,
                                                     credential: str) -> None:
    """Clips circulate re-encoded (the credential is lost); the watermark still names the release."""
    from releasewise.provenance import media
    from tests.provenance.conftest import SPEECH_TEXTS, espeak

    samples, rate = espeak(SPEECH_TEXTS[1])
    out = provenance.mark_output(world.rt, world.lead, "lab-a", "echo", MODEL, release="v3",
                                 data=media.encode_wav(samples, rate))
    shared = _ffmpeg(out.data, suffix, *codec)
    verdict = detection.detect(world.rt, world.lead, shared)
    assert verdict.media_type == media_type and verdict.credential["status"] == credential
    assert verdict.watermark.detected and verdict.watermark.release == "v3"
    assert verdict.recovered is not None  # the manifest comes back through the watermark
    with pytest.raises(UnsupportedMedia, match="marking takes"):
        provenance.mark_output(world.rt, world.lead, "lab-a", "echo", MODEL, release="v3", data=shared)


def test_checks_are_logged_and_matches_audited(world: World, marked: provenance.MarkedOutput) -> None:
    rt = world.rt
    detection.add_partner(rt, world.owner, "lab-a", world.outsider.username)
    detection.detect(rt, world.outsider, strip(marked.data))
    checks = detection.list_checks(rt, world.owner, "lab-a")
    assert checks[0].caller == world.outsider.username and checks[0].visibility == "partner"
    events = [e.action for e in audit.list_events(rt, world.owner, "lab-a")]
    assert "detection.matched" in events and "output.marked" in events
    with pytest.raises(NotFound):
        detection.list_checks(rt, world.outsider, "lab-a")


def test_demo_lab_has_a_partner_who_traced_a_signed_sample(sqlite_rt: Runtime) -> None:
    from releasewise.services import accounts, demo

    logins = demo.seed_demo(sqlite_rt)
    assert logins[-1].username == "tess"
    lead = accounts.authenticate_password(sqlite_rt, login="jonas", password=demo.DEMO_PASSWORD, ip="127.0.0.1")
    checks = detection.list_checks(sqlite_rt, lead, demo.DEMO_ORG_SLUG)
    assert checks[0].caller == "tess" and checks[0].visibility == "partner"
    assert "sample-outputs, release v2.0" in checks[0].summary


def test_demo_release_page_names_only_the_reviewer_who_agreed(sqlite_rt: Runtime) -> None:
    from releasewise.services import demo, release_page

    demo.seed_demo(sqlite_rt)
    page = release_page.public_page(sqlite_rt, demo.DEMO_ORG_SLUG, "echo-2")
    assert page.decisions[0].named_reviewers == ("Amara Osei",) and page.decisions[0].unnamed_reviewers == 1
    assert page.marked_models == 1 and page.detection_mode == "partners"
