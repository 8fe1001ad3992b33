"""The content-credential library on its own: real c2pa-python signing and reading, trust, tampering."""

from __future__ import annotations

import io

import numpy as np
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from PIL import Image

from releasewise.provenance import UnsupportedFormatError
from releasewise.provenance import c2pa as cc
from releasewise.provenance.media import encode_wav

GEN = cc.Generator("lab-a", "imagen-2", "v1", organisation_name="Lab A")


@pytest.fixture(scope="module")
def ca() -> cc.CertificateAuthority:
    return cc.CertificateAuthority.create("Test instance")


def image(fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((128, 128, 3)) * 255).astype("uint8")).save(buf, fmt)
    return buf.getvalue()


def test_issued_certificate_has_the_c2pa_signer_profile(ca: cc.CertificateAuthority) -> None:
    cred = ca.issue("Lab A")
    leaf, root = x509.load_pem_x509_certificates(cred.chain_pem.encode())
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert root.subject == leaf.issuer and "Lab A" in cred.subject


@pytest.mark.parametrize("fmt, mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_sign_and_read_back_trusted(ca: cc.CertificateAuthority, fmt: str, mime: str) -> None:
    signed, store = cc.sign(image(fmt), mime, ca.issue("Lab A"), GEN, soft_binding="wk_x/1/0")
    report = cc.read(signed, mime, trust_anchors=ca.cert_pem)
    assert report.status == cc.TRUSTED and report.signer == "Lab A content credentials"
    assert report.generator == GEN.as_assertion()
    assert report.digital_source_type == cc.DIGITAL_SOURCE_TYPE and report.soft_binding == "wk_x/1/0"
    assert len(store) > 0


def test_wav_is_signed_too(ca: cc.CertificateAuthority) -> None:
    wav = encode_wav(np.sin(np.arange(16000) / 10) * 0.2, 16000)
    signed, _ = cc.sign(wav, "audio/wav", ca.issue("Lab A"), GEN)
    assert cc.read(signed, "audio/wav", trust_anchors=ca.cert_pem).status == cc.TRUSTED


def test_without_anchors_or_from_another_ca_it_is_untrusted(ca: cc.CertificateAuthority) -> None:
    signed, _ = cc.sign(image(), "image/jpeg", ca.issue("Lab A"), GEN)
    assert cc.read(signed, "image/jpeg").status == cc.UNTRUSTED
    other = cc.CertificateAuthority.create("Elsewhere")
    assert cc.read(signed, "image/jpeg", trust_anchors=other.cert_pem).status == cc.UNTRUSTED


def test_tampered_pixels_make_it_invalid_with_the_reason(ca: cc.CertificateAuthority) -> None:
    signed, _ = cc.sign(image(), "image/jpeg", ca.issue("Lab A"), GEN)
    broken = bytearray(signed)
    broken[-300] ^= 0x55
    report = cc.read(bytes(broken), "image/jpeg", trust_anchors=ca.cert_pem)
    assert report.status == cc.INVALID
    assert any(p.startswith("assertion.dataHash.mismatch") for p in report.problems)


def test_absent_and_unsupported(ca: cc.CertificateAuthority) -> None:
    assert cc.read(image(), "image/jpeg", trust_anchors=ca.cert_pem).status == cc.ABSENT
    with pytest.raises(UnsupportedFormatError, match="content credentials can be attached"):
        cc.sign(b"GIF89a", "image/gif", ca.issue("Lab A"), GEN)
    with pytest.raises(UnsupportedFormatError):
        cc.read(b"hello", "text/x-unknown")
