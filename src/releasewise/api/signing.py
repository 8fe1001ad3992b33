"""REST routes for signing keys and signed manifests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from releasewise.api.deps import ActorDep, MaybeActorDep, RuntimeDep
from releasewise.api.schemas import Out
from releasewise.services import signing

router = APIRouter(prefix="/api/v1", tags=["signing"])


class KeyOut(Out):
    key_id: str
    public_key: str
    algorithm: str
    created_at: datetime
    retired_at: datetime | None


class SignedManifestOut(BaseModel):
    manifest: dict[str, Any]
    key_id: str
    signature: str


@router.get("/orgs/{org}/signing-keys", response_model=list[KeyOut])
def public_keys(org: str, rt: RuntimeDep) -> list[KeyOut]:
    """The organisation's Ed25519 public keys, active and retired (no token needed: anyone may verify)."""
    return [KeyOut.model_validate(k) for k in signing.public_keys(rt, org)]


@router.post("/orgs/{org}/signing-keys/rotate", response_model=KeyOut)
def rotate(org: str, rt: RuntimeDep, actor: ActorDep) -> KeyOut:
    """Owners: retire the active key and start a new one; old signatures stay verifiable."""
    return KeyOut.model_validate(signing.rotate_key(rt, actor, org))


@router.get("/orgs/{org}/projects/{project}/assets/{asset}/manifest", response_model=SignedManifestOut)
def manifest(org: str, project: str, asset: str, rt: RuntimeDep, actor: MaybeActorDep,
             revision: Annotated[str, Query(max_length=64)] = "main") -> SignedManifestOut:
    """The signed manifest of a version you may download: files, sizes, SHA-256, signature."""
    signed = signing.signed_manifest(rt, actor, org, f"{project}-{asset}", revision)
    return SignedManifestOut(manifest=signed.manifest, key_id=signed.key_id, signature=signed.signature)
