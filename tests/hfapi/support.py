"""Helpers shared by the registry / access tests: publish files, set a tier, grant access."""

from __future__ import annotations

import hashlib

from sqlalchemy import update

from releasewise.services import access, registry
from releasewise.services.registry import VersionView
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Asset


def publish(rt: Runtime, actor: Actor, files: dict[str, bytes], *, org: str = "lab-a", project: str = "echo",
            asset: str = "weights-1b", chunk: int = 1 << 20) -> VersionView:
    """Upload ``files`` through the services, chunk by chunk, and return the completed version."""
    view = registry.start_upload(rt, actor, org, project, asset,
                                 files=[{"path": p, "size": len(b)} for p, b in files.items()])
    for f in view.files:
        data = files[f.path]
        hasher = hashlib.sha256()
        for offset in range(0, len(data), chunk):
            piece = data[offset:offset + chunk]
            hasher.update(piece)
            registry.upload_chunk(rt, actor, view.upload_key, f.id, offset=offset, data=piece,
                                  running_sha256=hasher.hexdigest())
    done = registry.get_upload(rt, actor, view.upload_key)
    assert done.status == "complete", done
    return done


def set_tier(rt: Runtime, tier: str, *, asset_slug: str = "weights-1b") -> None:
    """Set the asset's tier columns directly (the ratchet service, services/tiers.py, is not merged yet)."""
    with rt.write() as session:
        session.execute(update(Asset).where(Asset.slug == asset_slug)
                        .values(current_tier=tier, high_water_tier=tier))


def gated_setup(rt: Runtime, lead: Actor, *, mode: str = "manual") -> None:
    """Agreement + a form field on project 'echo' of lab-a, asset at vetted_researchers."""
    set_tier(rt, "vetted_researchers")
    access.configure_policy(rt, lead, "lab-a", "echo", approval_mode=mode,
                            email_domains=["uni.example"] if mode == "rules" else [],
                            form_fields=[{"name": "country", "label": "Country", "type": "country"}])
    access.publish_agreement(rt, lead, "lab-a", "echo", title="Echo research licence",
                             body_md="# Terms\nNo voice cloning without consent.",
                             checkboxes=["No impersonation", "Consent of speakers"])


def request_and_approve(rt: Runtime, requester: Actor, lead: Actor, **kw: object) -> int:
    req = access.submit_request(rt, requester, "lab-a", "echo", "weights-1b", intended_use="Detector research",
                                institution="Uni", answers={"country": "DE"},
                                checkboxes=["No impersonation", "Consent of speakers"], **kw)  # type: ignore[arg-type]
    if req.status == "pending":
        req = access.decide(rt, lead, "lab-a", [req.id], approve=True)[0]
    assert req.grant_id is not None
    return req.grant_id
