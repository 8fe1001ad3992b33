"""Server-side provenance: watermark keys per model, the organisation's content-credential certificate, and
marking generated outputs (watermark + signed C2PA manifest with the watermark as its soft binding).

Keys live on the server (encrypted under the server secret) so that the detection service can trace any
organisation's marks without anyone shipping keys around. Labs call :func:`mark_output` (API
``POST .../outputs``, CLI ``releasewise credential sign``) from their generation pipeline.

The provenance library (numpy, SciPy, Pillow, c2pa-python) is imported only when a function needs it, so
an install without the ``provenance`` extra still serves everything else.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from releasewise.domain import detection as rules
from releasewise.domain.roles import Action
from releasewise.errors import InvalidInput, NotFound, ReleasewiseError
from releasewise.services.audit import record
from releasewise.services.authz import authorize
from releasewise.services.projects import load_project
from releasewise.services.runtime import Actor, Runtime
from releasewise.services.signing import fernet_for
from releasewise.store.models import Asset, Organization, Project
from releasewise.store.models_access import AccessGrant
from releasewise.store.models_provenance import (
    CredentialAuthority,
    MarkedRelease,
    OrgCredential,
    StoredCredential,
    WatermarkKeyRow,
)

WATERMARK_PURPOSE = b"releasewise watermark keys"
CREDENTIAL_PURPOSE = b"releasewise content credentials"
RELEASE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CERT_DAYS = 365
RENEW_BEFORE = timedelta(days=30)
MAX_PAYLOAD_ID = 2**24 - 1


class ProvenanceUnavailable(ReleasewiseError):
    """The server was installed without the provenance extra."""

    status_code = 503
    code = "provenance_unavailable"
    title = "Provenance not installed"


def library() -> Any:
    """``releasewise.provenance``, or a clear error when the extra is missing."""
    try:
        import releasewise.provenance as pv
        import releasewise.provenance.c2pa  # noqa: F401  (c2pa-python)
    except ImportError as exc:  # pragma: no cover - CI installs the extra
        raise ProvenanceUnavailable(
            f"This server cannot mark or detect media: {exc.name or 'a dependency'} is missing. "
            "Install it with pip install 'releasewise[provenance]'.") from None
    return pv


@dataclass(frozen=True)
class WatermarkKeyView:
    key_ref: str
    org: str
    project: str
    model: str
    generation: int
    fingerprint: str
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class MarkedOutput:
    data: bytes
    media_type: str
    model: str
    release: str
    release_id: int
    grant_id: int
    key_ref: str | None
    credential_id: int | None
    soft_binding: str | None
    sha256: str


# -- keys ---------------------------------------------------------------------------------------------------
def _asset(session: Session, project: Project, slug: str) -> Asset:
    asset = session.scalar(select(Asset).where(Asset.project_id == project.id, Asset.slug == (slug or "").lower()))
    if asset is None:
        raise NotFound(f"No model (asset) '{slug}' in project '{project.slug}'. The model is the slug of one of "
                       "the project's assets; list them with `releasewise asset list`.")
    return asset


def _key_view(row: WatermarkKeyRow, org: str, project: str, model: str, rt: Runtime) -> WatermarkKeyView:
    return WatermarkKeyView(key_ref=row.key_ref, org=org, project=project, model=model, generation=row.generation,
                            fingerprint=watermark_key(rt, row).fingerprint(), created_at=row.created_at,
                            retired_at=row.retired_at)


class _PreparedKeys:
    """Decrypted keys and their prepared image marks, per process, so a check does not redo them per key.

    Every detection check tries each key the caller may test; decrypting it and laying out its mark
    (0.2 ms a key) showed as 13–17% service overhead at 64 keys (docs/performance.md). Keeping them adds no
    exposure beyond what the process already holds: it has the server secret that decrypts every key. The
    cache is keyed by the *encrypted* secret, so a rotated key is a new entry, and bounded.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, rt: Runtime, row: WatermarkKeyRow) -> tuple[Any, Any]:
        with self._lock:
            hit = self._entries.get(row.secret_encrypted)
            if hit is not None:
                self._entries.move_to_end(row.secret_encrypted)
                return hit
        pv = library()
        raw = fernet_for(rt, WATERMARK_PURPOSE).decrypt(row.secret_encrypted.encode()).decode()
        key = pv.WatermarkKey.from_hex(raw, key_id=row.key_ref)
        entry = (key, pv.ImageMark(key))
        with self._lock:
            self._entries[row.secret_encrypted] = entry
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return entry


_prepared = _PreparedKeys()


def watermark_key(rt: Runtime, row: WatermarkKeyRow) -> Any:
    """The decrypted key of a stored row (a ``releasewise.provenance.WatermarkKey``)."""
    return _prepared.get(rt, row)[0]


def prepared_key(rt: Runtime, row: WatermarkKeyRow) -> tuple[Any, Any]:
    """The row's decrypted key and its prepared ``ImageMark`` (keyed layout computed once per process)."""
    return _prepared.get(rt, row)


def _new_key(session: Session, rt: Runtime, actor: Actor | None, org: Organization, project: Project,
             asset: Asset, generation: int) -> WatermarkKeyRow:
    pv = library()
    secret = pv.WatermarkKey.generate().hex()
    row = WatermarkKeyRow(org_id=org.id, project_id=project.id, asset_id=asset.id,
                          key_ref="wk_" + secrets.token_hex(8),
                          secret_encrypted=fernet_for(rt, WATERMARK_PURPOSE).encrypt(secret.encode()).decode(),
                          generation=generation, created_at=rt.clock.now(),
                          created_by_id=actor.user_id if actor else None, retired_at=None)
    session.add(row)
    session.flush()
    record(session, rt, actor, org.id, "watermark_key.created", "asset", f"{project.slug}/{asset.slug}",
           {"key": row.key_ref, "generation": generation})
    return row


def _active_key(session: Session, asset: Asset) -> WatermarkKeyRow | None:
    return session.scalar(select(WatermarkKeyRow).where(WatermarkKeyRow.asset_id == asset.id,
                                                        WatermarkKeyRow.retired_at.is_(None))
                          .order_by(WatermarkKeyRow.id.desc()))


def rotate_watermark_key(rt: Runtime, actor: Actor, org_slug: str, project_slug: str,
                         model: str) -> WatermarkKeyView:
    """Make a new active key for a model; the old one is retired but still traces what it marked."""
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.provenance_manage)
        project = load_project(session, org, project_slug)
        asset = _asset(session, project, model)
        current = _active_key(session, asset)
        if current is not None:
            current.retired_at = rt.clock.now()
            record(session, rt, actor, org.id, "watermark_key.retired", "asset", f"{project.slug}/{asset.slug}",
                   {"key": current.key_ref})
        row = _new_key(session, rt, actor, org, project, asset, (current.generation + 1) if current else 0)
        return _key_view(row, org.slug, project.slug, asset.slug, rt)


def list_watermark_keys(rt: Runtime, actor: Actor, org_slug: str, project_slug: str) -> list[WatermarkKeyView]:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.provenance_manage)
        project = load_project(session, org, project_slug)
        rows = session.execute(select(WatermarkKeyRow, Asset.slug).join(Asset, Asset.id == WatermarkKeyRow.asset_id)
                               .where(WatermarkKeyRow.project_id == project.id)
                               .order_by(Asset.slug, WatermarkKeyRow.id)).all()
        return [_key_view(row, org.slug, project.slug, slug, rt) for row, slug in rows]


# -- certificates -------------------------------------------------------------------------------------------
def _authority(session: Session, rt: Runtime) -> Any:
    """The instance's local CA, made on first use (the oldest one wins if two processes race)."""
    pv_c2pa = library().c2pa
    fernet = fernet_for(rt, CREDENTIAL_PURPOSE)
    row = session.scalar(select(CredentialAuthority).order_by(CredentialAuthority.id))
    if row is None:
        ca = pv_c2pa.CertificateAuthority.create("releasewise instance")
        row = CredentialAuthority(cert_pem=ca.cert_pem, key_encrypted=fernet.encrypt(ca.key_pem.encode()).decode(),
                                  created_at=rt.clock.now())
        session.add(row)
        session.flush()
        return ca
    return pv_c2pa.CertificateAuthority(row.cert_pem, fernet.decrypt(row.key_encrypted.encode()).decode())


def _org_credential(session: Session, rt: Runtime, actor: Actor | None, org: Organization) -> Any:
    """The organisation's signing certificate, issued by the local CA and renewed a month before it expires."""
    pv_c2pa = library().c2pa
    fernet = fernet_for(rt, CREDENTIAL_PURPOSE)
    now = rt.clock.now()
    row = session.scalar(select(OrgCredential).where(OrgCredential.org_id == org.id,
                                                     OrgCredential.retired_at.is_(None))
                         .order_by(OrgCredential.id.desc()))
    if row is not None and row.not_after - RENEW_BEFORE > now:
        return pv_c2pa.SigningCredential(row.chain_pem, fernet.decrypt(row.key_encrypted.encode()).decode())
    if row is not None:
        row.retired_at = now
    issued = _authority(session, rt).issue(org.name, days=CERT_DAYS, now=_aware(now))
    row = OrgCredential(org_id=org.id, chain_pem=issued.chain_pem,
                        key_encrypted=fernet.encrypt(issued.key_pem.encode()).decode(), subject=issued.subject[:300],
                        not_after=issued.not_after.replace(tzinfo=None), created_at=now, retired_at=None)
    session.add(row)
    session.flush()
    record(session, rt, actor, org.id, "credential_certificate.issued", "organization", org.slug,
           {"subject": row.subject, "not_after": row.not_after.isoformat()})
    return issued


def _aware(naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=UTC)


def trust_anchors(rt: Runtime) -> str:
    """PEM bundle of the CAs whose credentials count as trusted: this instance's own, plus configured ones."""
    with rt.read() as session:
        pems = list(session.scalars(select(CredentialAuthority.cert_pem).order_by(CredentialAuthority.id)))
    if not pems:
        with rt.write() as session:
            pems = [_authority(session, rt).cert_pem]
    extra = rt.settings.c2pa_trust_anchors
    if extra is not None:
        try:
            pems.append(extra.read_text())
        except OSError as exc:
            raise InvalidInput(f"RELEASEWISE_C2PA_TRUST_ANCHORS: cannot read {extra} ({exc.strerror}).") from None
    return "".join(pems)


@dataclass(frozen=True)
class CertificateView:
    subject: str
    not_after: datetime
    created_at: datetime


def certificate_info(rt: Runtime, org_slug: str) -> CertificateView | None:
    """The organisation's active signing certificate (public facts only), or None before its first signature."""
    with rt.read() as session:
        row = session.scalar(select(OrgCredential).join(Organization, Organization.id == OrgCredential.org_id)
                             .where(Organization.slug == org_slug.lower(), OrgCredential.retired_at.is_(None))
                             .order_by(OrgCredential.id.desc()))
        return CertificateView(row.subject, row.not_after, row.created_at) if row else None


def certificate_chain(rt: Runtime, org_slug: str) -> str:
    """The organisation's public certificate chain (PEM), for anyone who wants to check its credentials.

    Read-only: the certificate is issued when the organisation first signs something, never by a reader.
    """
    with rt.read() as session:
        org = session.scalar(select(Organization).where(Organization.slug == org_slug.lower()))
        row = None if org is None else session.scalar(
            select(OrgCredential).where(OrgCredential.org_id == org.id, OrgCredential.retired_at.is_(None))
            .order_by(OrgCredential.id.desc()))
        if row is None:
            raise NotFound(f"Organisation '{org_slug}' has no content-credential certificate (it has not signed "
                           "any generated media on this instance).")
        return row.chain_pem


# -- marking outputs ----------------------------------------------------------------------------------------
def _release(session: Session, rt: Runtime, org: Organization, asset: Asset, label: str) -> MarkedRelease:
    row = session.scalar(select(MarkedRelease).where(MarkedRelease.asset_id == asset.id,
                                                     MarkedRelease.label == label))
    if row is None:
        row = MarkedRelease(org_id=org.id, asset_id=asset.id, label=label, created_at=rt.clock.now())
        session.add(row)
        session.flush()
    if row.id > MAX_PAYLOAD_ID:
        raise InvalidInput("This instance has used every watermark release id (24 bits).")
    return row


def _clean_label(release: str) -> str:
    label = (release or "").strip()
    if not RELEASE_LABEL.match(label):
        raise InvalidInput("The release must be 1–100 letters, digits, dots, dashes or underscores, starting with "
                           "a letter or digit (for example v3 or api-2026-11).", field="release")
    return label


def _check_grant(session: Session, asset: Asset, grant_id: int) -> None:
    if grant_id == 0:
        return
    if not 0 < grant_id <= MAX_PAYLOAD_ID:
        raise InvalidInput(f"The grant id must be between 1 and {MAX_PAYLOAD_ID}.", field="grant")
    grant = session.get(AccessGrant, grant_id)
    if grant is None or grant.asset_id != asset.id:
        raise InvalidInput(f"Grant #{grant_id} is not a grant of this model; pass the id of the grant whose "
                           "holder generated the output (see the access queue), or leave it out.", field="grant")


def _embed(media_type: str, data: bytes, key: Any, release_id: int, grant_id: int) -> bytes:
    pv = library()
    payload = pv.Payload(release_id, grant_id)
    try:
        if media_type in rules.IMAGE_TYPES:
            pixels = pv.media.decode_image(data)
            marked = pv.ImageMark(key).embed(pixels, payload)
            return bytes(pv.media.encode_image(marked, media_type.split("/")[1].upper()))
        samples, rate = pv.media.decode_wav(data)
        return bytes(pv.media.encode_wav(pv.AudioMark(key).embed(samples, rate, payload), rate))
    except pv.ProvenanceError as exc:
        raise InvalidInput(f"The file could not be marked: {exc}", field="file") from None


def mark_output(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, model: str, *, release: str,
                data: bytes, grant_id: int = 0, watermark: bool = True, credential: bool = True) -> MarkedOutput:
    """Watermark a generated file with the model's key and attach a signed content credential.

    The watermark payload names the release (an instance-wide id) and, for hosted access, the grant; the
    credential carries the generator and the watermark as its soft binding, and we keep a copy of the
    manifest so a stripped copy can be traced back to it.
    """
    label = _clean_label(release)
    rules.check_size(len(data), rt.settings.detection_max_bytes)
    media_type = rules.markable_type(data)
    if not watermark and not credential:
        raise InvalidInput("Nothing to do: ask for a watermark, a content credential, or both.")
    pv = library()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.provenance_mark)
        project = load_project(session, org, project_slug)
        asset = _asset(session, project, model)
        _check_grant(session, asset, grant_id)
        key_row = _active_key(session, asset) or _new_key(session, rt, actor, org, project, asset, 0)
        release_row = _release(session, rt, org, asset, label)
        out, soft_binding, key_ref = data, None, None
        if watermark:
            out = _embed(media_type, data, watermark_key(rt, key_row), release_row.id, grant_id)
            key_ref = key_row.key_ref
            soft_binding = pv.c2pa.soft_binding_value(key_row.key_ref, release_row.id, grant_id)
        credential_id = None
        if credential:
            generator = pv.c2pa.Generator(organisation=org.slug, model=asset.slug, release=label,
                                          organisation_name=org.name)
            try:
                out, manifest = pv.c2pa.sign(out, media_type, _org_credential(session, rt, actor, org), generator,
                                             soft_binding=soft_binding, title=f"{asset.name} {label}")
            except pv.ProvenanceError as exc:
                raise InvalidInput(f"The content credential could not be attached: {exc}", field="file") from None
            stored = StoredCredential(
                org_id=org.id, asset_id=asset.id, release_id=release_row.id, grant_id=grant_id,
                soft_binding=soft_binding, media_type=media_type, content_sha256=hashlib.sha256(out).hexdigest(),
                manifest_store=manifest, summary={"organisation": org.slug, "organisation_name": org.name,
                                                  "project": project.slug, "model": asset.slug, "release": label,
                                                  "signed_at": rt.clock.now().isoformat(timespec="seconds")},
                created_at=rt.clock.now(), created_by_id=actor.user_id)
            session.add(stored)
            session.flush()
            credential_id = stored.id
        sha = hashlib.sha256(out).hexdigest()
        record(session, rt, actor, org.id, "output.marked", "asset", f"{project.slug}/{asset.slug}",
               {"release": label, "grant": grant_id, "watermark": key_ref, "credential": credential_id,
                "media_type": media_type, "sha256": sha})
        return MarkedOutput(data=out, media_type=media_type, model=asset.slug, release=label,
                            release_id=release_row.id, grant_id=grant_id, key_ref=key_ref,
                            credential_id=credential_id, soft_binding=soft_binding, sha256=sha)
