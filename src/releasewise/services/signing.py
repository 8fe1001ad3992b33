"""Organisation signing keys and signed manifests of asset versions.

Every version is signed when its last file completes (``services.registry`` calls ``sign_version`` in
the same transaction). Keys rotate; retired public keys stay published so old signatures stay verifiable.
Private keys are stored encrypted (Fernet) under a key derived from the server's secret key, so a copy
of the database alone cannot sign.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from releasewise.domain import signing as rules
from releasewise.domain.roles import Action
from releasewise.errors import NotFound
from releasewise.services.audit import record
from releasewise.services.authz import authorize
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Asset, Organization, Project
from releasewise.store.models_access import AssetVersion, VersionFile
from releasewise.store.models_signing import OrgSigningKey, VersionSignature


@dataclass(frozen=True)
class KeyView:
    key_id: str
    public_key: str
    algorithm: str
    created_at: datetime
    retired_at: datetime | None


def fernet_for(rt: Runtime, purpose: bytes) -> Fernet:
    """A Fernet key derived from the server secret, one per purpose (signing keys, watermark keys, ...)."""
    secret = rt.settings.effective_secret_key().encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet(rt: Runtime) -> Fernet:
    return fernet_for(rt, b"releasewise signing keys")


def _new_key(session: Session, rt: Runtime, org_id: int) -> tuple[OrgSigningKey, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    row = OrgSigningKey(org_id=org_id, key_id=rules.key_id(private.public_key()),
                        public_key=rules.public_key_b64(private.public_key()),
                        private_key_encrypted=_fernet(rt).encrypt(raw).decode(), created_at=rt.clock.now(),
                        retired_at=None)
    session.add(row)
    session.flush()
    return row, private


def _active_key(session: Session, rt: Runtime, org_id: int) -> tuple[OrgSigningKey, Ed25519PrivateKey]:
    row = session.scalars(select(OrgSigningKey).where(OrgSigningKey.org_id == org_id,
                                                      OrgSigningKey.retired_at.is_(None))
                          .order_by(OrgSigningKey.id.desc())).first()
    if row is None:
        return _new_key(session, rt, org_id)
    raw = _fernet(rt).decrypt(row.private_key_encrypted.encode())
    return row, Ed25519PrivateKey.from_private_bytes(raw)


def sign_version(session: Session, rt: Runtime, org: Organization, project: Project, asset: Asset,
                 version: AssetVersion) -> VersionSignature:
    """Sign a version that just completed, in the caller's transaction."""
    files = session.scalars(select(VersionFile).where(VersionFile.version_id == version.id)).all()
    document = rules.manifest_document(org=org.slug, project=project.slug, asset=asset.slug, version=version.number,
                                       commit=version.commit_sha or "",
                                       files=[(f.path, f.size, f.sha256) for f in files])
    key_row, private = _active_key(session, rt, org.id)
    signed = rules.sign(document, private)
    row = VersionSignature(version_id=version.id, manifest=signed.manifest, key_id=key_row.key_id,
                           signature=signed.signature, signed_at=rt.clock.now())
    session.add(row)
    return row


def public_keys(rt: Runtime, org_slug: str) -> list[KeyView]:
    """An organisation's public keys, active and retired. Public by design: anyone may verify."""
    with rt.read() as session:
        org = session.scalars(select(Organization).where(Organization.slug == org_slug.lower())).first()
        if org is None:
            raise NotFound(f"No organisation '{org_slug}'.")
        rows = session.scalars(select(OrgSigningKey).where(OrgSigningKey.org_id == org.id)
                               .order_by(OrgSigningKey.id)).all()
        return [KeyView(r.key_id, r.public_key, "ed25519", r.created_at, r.retired_at) for r in rows]


def rotate_key(rt: Runtime, actor: Actor, org_slug: str) -> KeyView:
    """Retire the active key and start a new one; old signatures stay verifiable with the retired key."""
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.org_update)
        retired = []
        for row in session.scalars(select(OrgSigningKey).where(OrgSigningKey.org_id == org.id,
                                                               OrgSigningKey.retired_at.is_(None))):
            row.retired_at = now
            retired.append(row.key_id)
        row, _ = _new_key(session, rt, org.id)
        record(session, rt, actor, org.id, "signing_key.rotated", "organization", org.slug,
               {"retired": retired, "new": row.key_id})
        return KeyView(row.key_id, row.public_key, "ed25519", row.created_at, None)


def signed_manifest(rt: Runtime, actor: Actor | None, org_slug: str, repo_name: str,
                    revision: str = "main") -> rules.SignedManifest:
    """The signed manifest of a version the actor may download (the registry's access rules decide)."""
    from releasewise.services import registry  # registry imports this module to sign new versions

    snap = registry.snapshot(rt, actor, org_slug, repo_name, revision)
    with rt.read() as session:
        row = session.get(VersionSignature, snap.version_id)
        if row is None:
            raise NotFound("This version has no signed manifest (it was published before signing existed).")
        return rules.SignedManifest(row.manifest, row.key_id, row.signature)
