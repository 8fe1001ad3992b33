"""Signed release manifests (issue: signed releases): what a version contains, signed by its organisation.

A manifest lists every file of an asset version with its size and SHA-256, in a canonical JSON form, and
is signed with the organisation's Ed25519 key. Anyone holding the organisation's public keys (published
on its page and at ``/api/v1/orgs/{org}/signing-keys``) can check that downloaded files are exactly what
the lab released (``releasewise verify`` names every changed, missing or extra file). Keys rotate; old public
keys stay published (retired), so old signatures stay verifiable.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from releasewise.errors import InvalidInput

MANIFEST_SCHEMA = "releasewise.manifest/1"


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the start of the SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def load_public_key(b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
    except ValueError as exc:
        raise InvalidInput(f"Not an Ed25519 public key: {exc}.") from None


def manifest_document(*, org: str, project: str, asset: str, version: int, commit: str,
                      files: Sequence[tuple[str, int, str]]) -> dict[str, Any]:
    return {"schema": MANIFEST_SCHEMA, "org": org, "project": project, "asset": asset, "version": version,
            "commit": commit, "files": [{"path": p, "size": s, "sha256": h} for p, s, h in sorted(files)]}


def canonical(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class SignedManifest:
    manifest: dict[str, Any]
    key_id: str
    signature: str  # base64 Ed25519 signature over canonical(manifest)


def sign(document: Mapping[str, Any], private_key: Ed25519PrivateKey) -> SignedManifest:
    signature = private_key.sign(canonical(document))
    return SignedManifest(dict(document), key_id(private_key.public_key()), base64.b64encode(signature).decode())


def verify(signed: SignedManifest, public_keys: Mapping[str, Ed25519PublicKey]) -> str:
    """Check the signature; returns the key id, or raises InvalidInput saying why it is not trusted."""
    key = public_keys.get(signed.key_id)
    if key is None:
        raise InvalidInput(f"The manifest is signed by key {signed.key_id}, which is not one of the organisation's "
                           "published keys: untrusted.")
    try:
        key.verify(base64.b64decode(signed.signature, validate=True), canonical(signed.manifest))
    except (InvalidSignature, ValueError):
        raise InvalidInput("The manifest's signature does not match its content: the manifest was altered "
                           "or signed by someone else.") from None
    return signed.key_id


@dataclass(frozen=True)
class FolderReport:
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not (self.changed or self.missing or self.extra)
