"""C2PA content credentials for generated media, through the real ``c2pa-python`` library.

A content credential is a signed manifest embedded in the file: who generated it (organisation, model,
release), that it is ``trainedAlgorithmicMedia``, and — the link to our watermarks — a *soft binding*:
the watermark's identity, so that when a platform strips the manifest (most re-encode uploads), the
watermark still leads back to the manifest we stored when the file was signed.

Certificates: C2PA signers need an X.509 chain (ES256 here). For tests, the demo and labs without a
commercial certificate, :class:`CertificateAuthority` makes a local CA and issues organisation
certificates with the profile the C2PA trust model asks for (digitalSignature, emailProtection EKU, not
a CA). Readers trust a signer only when its chain ends at an anchor they were given; a valid signature
from anyone else is reported as ``untrusted``, never as ``trusted``.

Pure library code: bytes in, bytes and reports out; no database or network I/O.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import InvalidMediaError, ProvenanceError, UnsupportedFormatError

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SOFT_BINDING_ALG = "org.releasewise.watermark.v1"
GENERATOR_LABEL = "org.releasewise.generator"
SIGNABLE_TYPES = ("image/jpeg", "image/png", "image/webp", "audio/wav")


class CredentialError(ProvenanceError):
    """Signing failed (bad certificate or key, or a file the library could not write a manifest into)."""


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError as exc:  # pragma: no cover - the provenance extra pins it
        raise CredentialError("content credentials need c2pa-python: pip install 'releasewise[provenance]'") from exc
    return c2pa


# -- certificates -------------------------------------------------------------------------------------------
def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64])])


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=signer, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=not signer,
                         crl_sign=not signer, encipher_only=False, decipher_only=False)


@dataclass(frozen=True)
class SigningCredential:
    """A signer's certificate chain (leaf first) and its private key, both PEM."""

    chain_pem: str
    key_pem: str = field(repr=False)

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificates(self.chain_pem.encode())[0]

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()


@dataclass(frozen=True)
class CertificateAuthority:
    """A local certificate authority: the trust anchor for credentials this instance issues."""

    cert_pem: str
    key_pem: str = field(repr=False)

    @classmethod
    def create(cls, name: str, *, days: int = 3650, now: datetime | None = None) -> CertificateAuthority:
        now = now or datetime.now(UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(f"{name} content credentials CA", name)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_usage(signer=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return cls(_pem(cert), _key_pem(key))

    def issue(self, organisation: str, *, days: int = 365, now: datetime | None = None) -> SigningCredential:
        """A signing certificate for one organisation, chained to this CA."""
        now = now or datetime.now(UTC)
        ca_cert = x509.load_pem_x509_certificate(self.cert_pem.encode())
        loaded = serialization.load_pem_private_key(self.key_pem.encode(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise CredentialError("the CA key must be an EC key")
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name(f"{organisation} content credentials", organisation))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_usage(signer=True), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(loaded.public_key()),
                               critical=False)
                .sign(loaded, hashes.SHA256()))
        return SigningCredential(_pem(cert) + self.cert_pem, _key_pem(key))


# -- signing ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Generator:
    """What made the media: shown to whoever reads the credential."""

    organisation: str
    model: str
    release: str
    organisation_name: str = ""
    software: str = "releasewise"

    def as_assertion(self) -> dict[str, str]:
        return {"organisation": self.organisation, "organisation_name": self.organisation_name or self.organisation,
                "model": self.model, "release": self.release}


def _check_type(mime: str) -> str:
    mime = "audio/wav" if mime in ("audio/x-wav", "audio/wave", "audio/vnd.wave") else mime
    if mime not in SIGNABLE_TYPES:
        raise UnsupportedFormatError(
            f"content credentials can be attached to {', '.join(SIGNABLE_TYPES)}; this file is {mime or 'unknown'}")
    return mime


def manifest_definition(generator: Generator, *, soft_binding: str | None, title: str) -> dict[str, Any]:
    """The manifest we sign: a ``c2pa.created`` action, the generator, and the watermark's soft binding."""
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions", "data": {"actions": [{
            "action": "c2pa.created", "digitalSourceType": DIGITAL_SOURCE_TYPE,
            "softwareAgent": {"name": f"{generator.organisation_name or generator.organisation} "
                                      f"{generator.model} {generator.release}".strip()}}]}},
        {"label": GENERATOR_LABEL, "data": generator.as_assertion()},
    ]
    if soft_binding:
        assertions.append({"label": "c2pa.soft-binding", "data": {
            "alg": SOFT_BINDING_ALG, "blocks": [{"scope": {}, "value": soft_binding}]}})
    return {"claim_generator_info": [{"name": generator.software, "version": "1"}],
            "title": title or "generated media", "assertions": assertions}


def sign(data: bytes, mime: str, credential: SigningCredential, generator: Generator, *,
         soft_binding: str | None = None, title: str = "") -> tuple[bytes, bytes]:
    """Embed a signed manifest; returns ``(signed file, manifest store bytes)``.

    The manifest store bytes are what we keep server-side, so a stripped copy can be matched back to it.
    """
    c2pa = _c2pa()
    mime = _check_type(mime)
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, credential.chain_pem.encode(), credential.key_pem.encode(), None))
        builder = c2pa.Builder(manifest_definition(generator, soft_binding=soft_binding, title=title),
                               context=context)
        out = io.BytesIO()
        manifest = builder.sign(signer, mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise CredentialError(f"could not sign the {mime} file: {exc}") from None
    return out.getvalue(), bytes(manifest)


# -- reading ------------------------------------------------------------------------------------------------
TRUSTED, UNTRUSTED, INVALID, ABSENT = "trusted", "untrusted", "invalid", "absent"


@dataclass(frozen=True)
class CredentialReport:
    """What a file's content credential says, and whether to believe it.

    ``status``: ``absent`` (no manifest), ``trusted`` (signature and content hashes valid, signer chains to a
    trust anchor), ``untrusted`` (valid signature from a signer nobody vouches for), ``invalid`` (the file or
    the manifest was altered after signing, or the signature does not verify) — ``problems`` says why.
    """

    status: str
    signer: str = ""
    issuer: str = ""
    generator: dict[str, str] | None = None
    digital_source_type: str = ""
    soft_binding: str | None = None
    claim_generator: str = ""
    problems: tuple[str, ...] = ()

    @property
    def present(self) -> bool:
        return self.status != ABSENT

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "signer": self.signer, "issuer": self.issuer, "generator": self.generator,
                "digital_source_type": self.digital_source_type, "soft_binding": self.soft_binding,
                "claim_generator": self.claim_generator, "problems": list(self.problems)}


def _reader_context(c2pa: Any, trust_anchors: str | None) -> Any:
    if trust_anchors:
        return c2pa.Context.from_dict({"trust": {"trust_anchors": trust_anchors}, "verify": {"verify_trust": True}})
    return c2pa.Context.from_dict({"verify": {"verify_trust": False}})


def _problems(results: dict[str, Any] | None) -> tuple[str, ...]:
    failures = ((results or {}).get("activeManifest") or {}).get("failure") or []
    return tuple(f"{item.get('code', '?')}: {item.get('explanation', '')}".strip() for item in failures)


def _summary(manifest: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"generator": None, "digital_source_type": "", "soft_binding": None}
    for assertion in manifest.get("assertions") or []:
        label, data = assertion.get("label", ""), assertion.get("data") or {}
        if label == GENERATOR_LABEL:
            out["generator"] = {k: str(v) for k, v in data.items()}
        elif label.startswith("c2pa.actions"):
            for action in data.get("actions") or []:
                if action.get("action") == "c2pa.created":
                    out["digital_source_type"] = action.get("digitalSourceType", "")
        elif label == "c2pa.soft-binding" and data.get("alg") == SOFT_BINDING_ALG:
            blocks = data.get("blocks") or []
            out["soft_binding"] = blocks[0].get("value") if blocks else None
    return out


def read(data: bytes, mime: str, *, trust_anchors: str | None = None,
         manifest_store: bytes | None = None) -> CredentialReport:
    """Read and validate the credential of ``data``.

    ``trust_anchors`` is a PEM bundle of the CAs to trust; without it no signer is trusted.
    ``manifest_store`` reads a detached manifest (one we stored) against ``data``.
    """
    c2pa = _c2pa()
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), manifest_store,
                                        context=_reader_context(c2pa, trust_anchors))
    except c2pa.C2paError as exc:
        if mime not in c2pa.Reader.get_supported_mime_types():
            raise UnsupportedFormatError(f"content credentials cannot be read from {mime} files") from None
        return CredentialReport(INVALID, problems=(f"the file or its manifest could not be parsed: {exc}",))
    if reader is None:
        return CredentialReport(ABSENT)
    with reader:
        manifest = reader.get_active_manifest() or {}
        state = (reader.get_validation_state() or "").lower()
        problems = _problems(reader.get_validation_results())
    signature = manifest.get("signature_info") or {}
    summary = _summary(manifest)
    if state == "trusted":
        status = TRUSTED
    elif state == "valid" or (state != "invalid" and not problems):
        status = UNTRUSTED
    else:
        untrusted_only = problems and all(p.startswith("signingCredential.untrusted") for p in problems)
        status = UNTRUSTED if untrusted_only else INVALID
    info = (manifest.get("claim_generator_info") or [{}])[0]
    return CredentialReport(
        status=status, signer=str(signature.get("common_name", "")), issuer=str(signature.get("issuer", "")),
        generator=summary["generator"], digital_source_type=summary["digital_source_type"],
        soft_binding=summary["soft_binding"], claim_generator=str(info.get("name", "")),
        problems=tuple(p for p in problems if not (status == UNTRUSTED and p.startswith("signingCredential."))))


def manifest_json(manifest_store: bytes, data: bytes, mime: str) -> str:
    """The full manifest store as JSON, for people who want every assertion."""
    c2pa = _c2pa()
    try:
        with c2pa.Reader(mime, io.BytesIO(data), manifest_store) as reader:
            return str(reader.json())
    except c2pa.C2paError as exc:
        raise InvalidMediaError(f"the stored manifest could not be read: {exc}") from None


def soft_binding_value(key_ref: str, release_id: int, grant_id: int) -> str:
    """The soft-binding value for a watermark: which key, and the payload it carries."""
    return f"{key_ref}/{release_id}/{grant_id}"
