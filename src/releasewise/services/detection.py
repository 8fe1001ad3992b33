"""The detection service: one verdict for an uploaded file — its content credential, and whether it carries
the watermark of any model on this instance, traced as far as the caller may see (``domain/detection.py``).

Every check is logged in ``detection_checks`` (who, when, the file's digest and the full verdict). The file
itself is kept only when it matched an organisation whose retention setting asks for it, and is deleted
by the reconciler when that time is up. Unmatched uploads are never written to disk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from releasewise.domain import detection as rules
from releasewise.domain.roles import Action, Role, explain
from releasewise.errors import Conflict, InvalidInput, NotFound, RateLimited
from releasewise.services.audit import record
from releasewise.services.authz import authorize
from releasewise.services.projects import load_project
from releasewise.services.provenance import library, prepared_key, trust_anchors
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Asset, Membership, Organization, Project, User
from releasewise.store.models_access import AccessGrant
from releasewise.store.models_provenance import (
    DetectionCheck,
    DetectionPartner,
    MarkedRelease,
    OrgDetection,
    ProjectDetection,
    StoredCredential,
    WatermarkKeyRow,
)

MAX_RETENTION_DAYS = 3650
RETAINED_FOLDER = "detection-uploads"


# -- views --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GrantRef:
    id: int
    grantee: str
    state: str


@dataclass(frozen=True)
class WatermarkFinding:
    """What the watermark check found, already cut down to what the caller may see."""

    checked: bool
    detected: bool
    keys_checked: int
    p_value: float | None = None
    visibility: str | None = None
    organisation: str | None = None
    organisation_name: str | None = None
    project: str | None = None
    model: str | None = None
    release: str | None = None
    grant: GrantRef | None = None
    note: str = ""


@dataclass(frozen=True)
class RecoveredCredential:
    """The manifest we stored when the file was signed, found through the watermark (C2PA soft binding)."""

    signer: str
    organisation: str
    model: str
    release: str
    signed_at: str
    media_type: str
    content_sha256: str


@dataclass(frozen=True)
class DetectionVerdict:
    check_id: int
    media_type: str
    size: int
    sha256: str
    credential: dict[str, Any]
    watermark: WatermarkFinding
    recovered: RecoveredCredential | None
    summary: str


@dataclass(frozen=True)
class Candidate:
    """A key the caller may test, with its owner and what a match may reveal to them."""

    row: WatermarkKeyRow
    org: Organization
    project: Project
    asset: Asset
    visibility: rules.Visibility
    key: Any = field(repr=False)
    mark: Any = field(repr=False)  # the key's prepared ImageMark


# -- the check ----------------------------------------------------------------------------------------------
def _caller(actor: Actor) -> str:
    return f"token:{actor.token_id}" if actor.token_id else f"user:{actor.user_id}"


def _check_rate(session: Session, rt: Runtime, actor: Actor) -> None:
    since = rt.clock.now() - timedelta(minutes=1)
    recent = session.scalar(select(func.count()).select_from(DetectionCheck).where(
        DetectionCheck.caller == _caller(actor), DetectionCheck.created_at >= since)) or 0
    if recent >= rt.settings.detection_checks_per_minute:
        raise RateLimited(f"This key has run {recent} checks in the last minute, the limit is "
                          f"{rt.settings.detection_checks_per_minute}. Wait a minute, or spread a batch out.",
                          retry_after_seconds=60)


def _candidates(session: Session, rt: Runtime, actor: Actor) -> list[Candidate]:
    """Every key the caller may test, with what they may learn from a match."""
    member_role = (select(Membership.role).where(Membership.org_id == Organization.id,
                                                 Membership.user_id == actor.user_id)
                   .correlate(Organization).scalar_subquery())
    partner = (select(DetectionPartner.id).where(DetectionPartner.org_id == Organization.id,
                                                 DetectionPartner.user_id == actor.user_id)
               .correlate(Organization).exists())
    rows = session.execute(
        select(WatermarkKeyRow, Organization, Project, Asset, ProjectDetection.mode, member_role, partner)
        .join(Organization, Organization.id == WatermarkKeyRow.org_id)
        .join(Project, Project.id == WatermarkKeyRow.project_id)
        .join(Asset, Asset.id == WatermarkKeyRow.asset_id)
        .outerjoin(ProjectDetection, ProjectDetection.project_id == Project.id)
        .order_by(WatermarkKeyRow.id)).all()
    out = []
    for row, org, project, asset, mode, role, is_partner in rows:
        is_lead = role is not None and explain(Role(role), Action.access_view, actor.scopes).allowed
        seen = rules.visibility(is_lead=is_lead, is_member=role is not None, is_partner=bool(is_partner),
                                mode=rules.DetectionMode(mode or rules.DEFAULT_MODE.value))
        if seen is not None:
            out.append(Candidate(row, org, project, asset, seen, *prepared_key(rt, row)))
    return out


def org_candidates(session: Session, rt: Runtime, org_id: int) -> list[Candidate]:
    """Every key of one organisation, seen in full (its own responders checking report evidence)."""
    rows = session.execute(
        select(WatermarkKeyRow, Organization, Project, Asset)
        .join(Organization, Organization.id == WatermarkKeyRow.org_id)
        .join(Project, Project.id == WatermarkKeyRow.project_id)
        .join(Asset, Asset.id == WatermarkKeyRow.asset_id)
        .where(WatermarkKeyRow.org_id == org_id).order_by(WatermarkKeyRow.id)).all()
    return [Candidate(row, org, project, asset, rules.Visibility.full, *prepared_key(rt, row))
            for row, org, project, asset in rows]


@dataclass(frozen=True)
class Analysis:
    """A file's credential report and watermark finding before anything is logged (full detail)."""

    media_type: str
    credential: dict[str, Any]
    finding: WatermarkFinding
    recovered: RecoveredCredential | None
    matched: Candidate | None
    internal: dict[str, Any]


def analyse(rt: Runtime, data: bytes, candidates: list[Candidate]) -> Analysis:
    """Read the credential and look for the candidates' watermarks; the caller decides what to show."""
    media_type = rules.accepted_type(data)
    pv = library()
    decoded = _decode(media_type, data)
    try:
        credential = pv.c2pa.read(data, media_type, trust_anchors=trust_anchors(rt)).as_dict()
    except pv.UnsupportedFormatError:  # Ogg cannot carry a C2PA manifest: there is nothing to read
        credential = pv.c2pa.CredentialReport(pv.c2pa.ABSENT, problems=(
            f"{media_type} files cannot carry content credentials",)).as_dict()
    except pv.ProvenanceError as exc:
        raise InvalidInput(f"The file could not be read: {exc}", field="file") from None
    found = _find(media_type, decoded, candidates)
    if not isinstance(found, tuple):
        finding = WatermarkFinding(checked=bool(candidates) and not found, detected=False,
                                   keys_checked=len(candidates), note=found)
        return Analysis(media_type, credential, finding, None, None, {})
    matched, result = found
    with rt.read() as session:
        release = session.get(MarkedRelease, result.payload.release_id)
        release_ok = release is not None and release.asset_id == matched.asset.id
        finding = WatermarkFinding(
            checked=True, detected=True, keys_checked=len(candidates),
            p_value=rules.combined_p_value(result.p_value, len(candidates)),
            visibility=matched.visibility.value, organisation=matched.org.slug,
            organisation_name=matched.org.name, project=matched.project.slug, model=matched.asset.slug,
            release=release.label if release_ok and release else f"unknown release #{result.payload.release_id}",
            grant=_grant_ref(session, result.payload.grant_id, matched.asset.id))
        soft = pv.c2pa.soft_binding_value(matched.row.key_ref, result.payload.release_id, result.payload.grant_id)
        recovered = _recovered(session, soft, matched.org.id)
    internal = {"key": matched.row.key_ref, "release_id": result.payload.release_id,
                "grant_id": result.payload.grant_id, "soft_binding": soft}
    return Analysis(media_type, credential, finding, recovered, matched, internal)


def _decode(media_type: str, data: bytes) -> Any:
    """Decode the upload (pixels, or samples and rate); a corrupt file is the caller's error, said plainly."""
    pv = library()
    try:
        if media_type in rules.IMAGE_TYPES:
            return pv.media.decode_image(data)
        return pv.media.decode_audio(data, media_type)
    except pv.ProvenanceError as exc:
        raise InvalidInput(f"The file could not be decoded: {exc}", field="file") from None


def _find(media_type: str, decoded: Any, candidates: list[Candidate]) -> tuple[Candidate, Any] | str:
    """The first key whose mark verifies, with its detection; or a note why nothing could be checked."""
    pv = library()
    if not candidates:
        return ""
    try:
        if media_type in rules.IMAGE_TYPES:
            results = pv.ImageMark.detect_many(decoded, [c.mark for c in candidates])
        else:
            samples, rate = decoded
            results = [pv.AudioMark(c.key).detect(samples, rate) for c in candidates]
    except pv.MediaTooSmallError as exc:
        return f"too small to carry a watermark ({exc})"
    for candidate, result in zip(candidates, results, strict=True):
        if result.detected:
            return candidate, result
    return ""


def _grant_ref(session: Session, grant_id: int, asset_id: int) -> GrantRef | None:
    grant = session.get(AccessGrant, grant_id) if grant_id else None
    if grant is None or grant.asset_id != asset_id:
        return None
    if grant.user_id is not None:
        user = session.get(User, grant.user_id)
        grantee = f"{user.username} <{user.email}>" if user else f"user #{grant.user_id}"
    else:
        org = session.get(Organization, grant.grantee_org_id)
        grantee = f"organisation {org.slug}" if org else "an organisation"
    state = "revoked" if grant.revoked_at is not None else "active"
    return GrantRef(grant.id, grantee, state)


def _recovered(session: Session, soft_binding: str, org_id: int) -> RecoveredCredential | None:
    stored = session.scalar(select(StoredCredential).where(StoredCredential.soft_binding == soft_binding,
                                                           StoredCredential.org_id == org_id)
                            .order_by(StoredCredential.id.desc()))
    if stored is None:
        return None
    s = stored.summary
    return RecoveredCredential(signer=str(s.get("organisation_name", "")), organisation=str(s.get("organisation", "")),
                               model=str(s.get("model", "")), release=str(s.get("release", "")),
                               signed_at=str(s.get("signed_at", "")), media_type=stored.media_type,
                               content_sha256=stored.content_sha256)


def summarise(credential: dict[str, Any], finding: WatermarkFinding, recovered: RecoveredCredential | None) -> str:
    parts = []
    status = credential["status"]
    if status == "trusted":
        parts.append(f"Content credential valid, signed by {credential['signer']} (trusted).")
    elif status == "untrusted":
        parts.append(f"Content credential with a valid signature by {credential['signer'] or 'an unknown signer'}, "
                     "whose certificate is not trusted here: treat its claims as unverified.")
    elif status == "invalid":
        parts.append("Content credential INVALID: the file or its manifest changed after signing.")
    else:
        parts.append("No content credential.")
    if finding.detected:
        who = finding.organisation_name or finding.organisation
        if finding.visibility == rules.Visibility.public.value:
            parts.append(f"Watermark detected: marked by organisation {who}.")
        else:
            detail = f"{who} / {finding.project} / model {finding.model}, release {finding.release}"
            if finding.grant:
                detail += f", grant #{finding.grant.id} ({finding.grant.grantee}, {finding.grant.state})"
            parts.append(f"Watermark detected (p ≤ {finding.p_value:.1e}): {detail}.")
        if recovered:
            parts.append(f"Its content credential was recovered through the watermark (signed {recovered.signed_at} UTC).")
    elif finding.checked:
        parts.append(f"No watermark found among the {finding.keys_checked} keys you may check.")
    else:
        parts.append(f"Watermark not checked: {finding.note}." if finding.note else
                     "No watermark keys you may check.")
    return " ".join(parts)


def _cut(finding: WatermarkFinding, recovered: RecoveredCredential | None,
         visibility: rules.Visibility) -> tuple[WatermarkFinding, RecoveredCredential | None]:
    """Reduce a full finding to what ``visibility`` allows."""
    if visibility is rules.Visibility.full:
        return finding, recovered
    if visibility is rules.Visibility.partner:
        return WatermarkFinding(**{**finding.__dict__, "grant": None}), recovered
    return WatermarkFinding(checked=True, detected=True, keys_checked=finding.keys_checked, p_value=finding.p_value,
                            visibility=visibility.value, organisation=finding.organisation,
                            organisation_name=finding.organisation_name), None


def detect(rt: Runtime, actor: Actor, data: bytes, *, filename: str = "") -> DetectionVerdict:
    """Check one file. Validates size and type before anything is decoded; never stores unmatched files."""
    rules.check_size(len(data), rt.settings.detection_max_bytes)
    media_type = rules.accepted_type(data)
    with rt.read() as session:
        _check_rate(session, rt, actor)
        candidates = _candidates(session, rt, actor)
    try:
        result = analyse(rt, data, candidates)
    except InvalidInput as exc:
        _log_refusal(rt, actor, data, media_type, exc.message, filename)
        raise
    matched = result.matched
    finding, recovered = (_cut(result.finding, result.recovered, matched.visibility) if matched
                          else (result.finding, None))
    summary = summarise(result.credential, finding, recovered)
    sha = hashlib.sha256(data).hexdigest()
    with rt.write() as session:
        check = DetectionCheck(created_at=rt.clock.now(), user_id=actor.user_id, caller=_caller(actor), sha256=sha,
                               size=len(data), media_type=result.media_type,
                               verdict={"credential": result.credential, "watermark": result.internal,
                                        "summary": summary, "filename": (filename or "")[:200],
                                        "visibility": matched.visibility.value if matched else None},
                               matched_org_id=matched.org.id if matched else None)
        session.add(check)
        session.flush()
        if matched is not None:
            _retain(session, rt, check, matched.org.id, data)
            record(session, rt, actor, matched.org.id, "detection.matched", "detection_check", check.id,
                   {"project": matched.project.slug, "model": matched.asset.slug,
                    "visibility": matched.visibility.value, "caller": check.caller})
        return DetectionVerdict(check_id=check.id, media_type=result.media_type, size=len(data), sha256=sha,
                                credential=result.credential, watermark=finding, recovered=recovered,
                                summary=summary)


def _log_refusal(rt: Runtime, actor: Actor, data: bytes, media_type: str, reason: str, filename: str) -> None:
    """Record a file that passed the cheap checks but could not be decoded.

    Decoding is the expensive part, so these count against the caller's rate limit like any check (the
    way refused logins are recorded after rollback); nothing else about the file is kept.
    """
    with rt.write() as session:
        session.add(DetectionCheck(created_at=rt.clock.now(), user_id=actor.user_id, caller=_caller(actor),
                                   sha256=hashlib.sha256(data).hexdigest(), size=len(data), media_type=media_type,
                                   verdict={"refused": reason, "filename": (filename or "")[:200]},
                                   matched_org_id=None))


def _retain(session: Session, rt: Runtime, check: DetectionCheck, org_id: int, data: bytes) -> None:
    settings = session.get(OrgDetection, org_id)
    days = settings.retention_days if settings else 0
    if days <= 0:
        return
    folder = rt.settings.data_dir / RETAINED_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"check-{check.id}-{check.sha256[:16]}"
    (folder / name).write_bytes(data)
    check.retained_key = name
    check.retain_until = check.created_at + timedelta(days=days)


def purge_expired(rt: Runtime) -> int:
    """Delete kept uploads whose retention ended (the reconciler runs this)."""
    now = rt.clock.now()
    due = (DetectionCheck.retain_until.is_not(None), DetectionCheck.retain_until <= now)
    with rt.read() as session:  # most passes find nothing: do not take the write lock for that
        if session.scalar(select(DetectionCheck.id).where(*due).limit(1)) is None:
            return 0
    with rt.write() as session:
        rows = session.scalars(select(DetectionCheck).where(*due)).all()
        for row in rows:
            if row.retained_key:
                (rt.settings.data_dir / RETAINED_FOLDER / row.retained_key).unlink(missing_ok=True)
            row.retained_key, row.retain_until = None, None
        return len(rows)


# -- settings -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartnerView:
    username: str
    email: str
    note: str
    added_at: datetime


@dataclass(frozen=True)
class ProjectModeView:
    slug: str
    name: str
    mode: str
    keys: int


@dataclass(frozen=True)
class DetectionSettingsView:
    org: str
    retention_days: int
    partners: tuple[PartnerView, ...]
    projects: tuple[ProjectModeView, ...]


def settings(rt: Runtime, actor: Actor, org_slug: str) -> DetectionSettingsView:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.detection_view)
        row = session.get(OrgDetection, org.id)
        partners = session.execute(select(DetectionPartner, User).join(User, User.id == DetectionPartner.user_id)
                                   .where(DetectionPartner.org_id == org.id).order_by(User.username)).all()
        keys = (select(WatermarkKeyRow.project_id, func.count().label("n")).where(WatermarkKeyRow.org_id == org.id)
                .group_by(WatermarkKeyRow.project_id).subquery())
        projects = session.execute(
            select(Project, ProjectDetection.mode, keys.c.n)
            .outerjoin(ProjectDetection, ProjectDetection.project_id == Project.id)
            .outerjoin(keys, keys.c.project_id == Project.id)
            .where(Project.org_id == org.id).order_by(Project.slug)).all()
        return DetectionSettingsView(
            org=org.slug, retention_days=row.retention_days if row else 0,
            partners=tuple(PartnerView(u.username, u.email, p.note, p.added_at) for p, u in partners),
            projects=tuple(ProjectModeView(p.slug, p.name, mode or rules.DEFAULT_MODE.value, n or 0)
                           for p, mode, n in projects))


def apply_detection_mode(session: Session, rt: Runtime, actor: Actor | None, org_id: int, project: Project,
                         mode: str, *, context: dict[str, object] | None = None) -> str:
    """Set the project's detection mode in the caller's transaction (a lead's choice, or a plan stage opening)."""
    parsed = rules.parse_mode(mode)
    row = session.get(ProjectDetection, project.id)
    before = row.mode if row else rules.DEFAULT_MODE.value
    if row is None:
        row = ProjectDetection(project_id=project.id, mode=parsed.value, updated_at=rt.clock.now())
        session.add(row)
    row.mode, row.updated_at = parsed.value, rt.clock.now()
    record(session, rt, actor, org_id, "detection.mode_set", "project", project.slug,
           {"from": before, "to": parsed.value, **(context or {})})
    return parsed.value


def set_mode(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, mode: str) -> str:
    rules.parse_mode(mode)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.provenance_manage)
        project = load_project(session, org, project_slug)
        return apply_detection_mode(session, rt, actor, org.id, project, mode)


def set_retention(rt: Runtime, actor: Actor, org_slug: str, days: int) -> int:
    if not 0 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"Retention is a number of days from 0 (never keep uploads) to {MAX_RETENTION_DAYS}.",
                           field="retention_days")
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.provenance_manage)
        row = session.get(OrgDetection, org.id)
        if row is None:
            row = OrgDetection(org_id=org.id, retention_days=days)
            session.add(row)
        before = row.retention_days
        row.retention_days = days
        record(session, rt, actor, org.id, "detection.retention_set", "organization", org.slug,
               {"from": before, "to": days})
        return days


def add_partner(rt: Runtime, actor: Actor, org_slug: str, who: str, *, note: str = "") -> PartnerView:
    """Let an account outside the organisation trace its partners-only marks (model and release, no grants)."""
    who = (who or "").strip().lower()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.provenance_manage)
        user = session.scalar(select(User).where(or_(func.lower(User.email) == who, User.username == who)))
        if user is None:
            raise NotFound(f"No account '{who}' on this instance. Ask them to sign up, then add them again.")
        member = session.scalar(select(Membership.id).where(Membership.org_id == org.id,
                                                           Membership.user_id == user.id))
        if member is not None:
            raise Conflict(f"{user.username} is a member of {org.slug} and already sees its marks.")
        exists = session.scalar(select(DetectionPartner.id).where(DetectionPartner.org_id == org.id,
                                                                 DetectionPartner.user_id == user.id))
        if exists is not None:
            raise Conflict(f"{user.username} is already a detection partner of {org.slug}.")
        clean_note = (note or "").strip()[:200]
        row = DetectionPartner(org_id=org.id, user_id=user.id, note=clean_note, added_at=rt.clock.now(),
                               added_by_id=actor.user_id)
        session.add(row)
        record(session, rt, actor, org.id, "detection.partner_added", "user", user.username, {"note": clean_note})
        return PartnerView(user.username, user.email, clean_note, row.added_at)


def remove_partner(rt: Runtime, actor: Actor, org_slug: str, username: str) -> None:
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.provenance_manage)
        user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
        row = None if user is None else session.scalar(select(DetectionPartner).where(
            and_(DetectionPartner.org_id == org.id, DetectionPartner.user_id == user.id)))
        if row is None:
            raise NotFound(f"'{username}' is not a detection partner of {org.slug}.")
        session.delete(row)
        record(session, rt, actor, org.id, "detection.partner_removed", "user", username)


@dataclass(frozen=True)
class CheckView:
    id: int
    created_at: datetime
    caller: str
    media_type: str
    sha256: str
    summary: str
    visibility: str | None
    retained_until: datetime | None


def list_checks(rt: Runtime, actor: Actor, org_slug: str, *, limit: int = 100) -> list[CheckView]:
    """Checks that matched this organisation's marks: who traced them, when, and what they were told."""
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.detection_view)
        rows = session.execute(select(DetectionCheck, User.username).outerjoin(User, User.id == DetectionCheck.user_id)
                               .where(DetectionCheck.matched_org_id == org.id)
                               .order_by(DetectionCheck.id.desc()).limit(max(1, min(limit, 1000)))).all()
        return [CheckView(c.id, c.created_at, username or "deleted account", c.media_type, c.sha256,
                          str(c.verdict.get("summary", "")), c.verdict.get("visibility"), c.retain_until)
                for c, username in rows]
