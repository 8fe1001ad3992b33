"""Gated access: request forms, agreements, requests, decisions, grants and the download log.

Requests and grants are per asset; the request form, the approval policy and the
versioned agreement are per project. Grants expire (``expires_at`` is checked on
every download, so a grant never outlives it), can be renewed on request, and
can be revoked with a reason the grantee is told by email. Every change here is
audited in the owning organisation's chain.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from releasewise.domain.access import (
    ApprovalMode,
    FormField,
    RequestKind,
    RequestStatus,
    check_checkboxes,
    clean_email_domains,
    evaluate_rules,
    median,
    parse_form_fields,
    percentile,
    requestable,
    validate_answers,
    waiting_seconds,
)
from releasewise.domain.roles import ROLE_PERMISSIONS, Action
from releasewise.domain.tiers import Tier
from releasewise.domain.validation import clean_text
from releasewise.errors import Conflict, InvalidInput, NotFound
from releasewise.services import outbox
from releasewise.services.audit import record
from releasewise.services.authz import authorize, load_membership
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Asset, Membership, Organization, Project, User
from releasewise.store.models_access import (
    AccessAgreement,
    AccessGrant,
    AccessOrgSettings,
    AccessPolicy,
    AccessRequest,
    AgreementAcceptance,
    AssetVersion,
    DownloadEvent,
)

MAX_BATCH = 200


# Views -------------------------------------------------------------------------

@dataclass(frozen=True)
class AgreementView:
    version: int
    title: str
    body_md: str
    checkboxes: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class PolicyView:
    org_slug: str
    project_slug: str
    approval_mode: str
    email_domains: tuple[str, ...]
    trusted_orgs: tuple[str, ...]
    form_fields: tuple[dict[str, Any], ...]
    grant_days: int
    agreement: AgreementView | None


@dataclass(frozen=True)
class GrantView:
    id: int
    org_slug: str
    project_slug: str
    asset_slug: str
    grantee: str  # username, or "org:<slug>"
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoke_reason: str
    status: str  # active | expired | revoked
    automatic: bool


@dataclass(frozen=True)
class RequestView:
    id: int
    org_slug: str
    project_slug: str
    asset_slug: str
    asset_name: str
    requester: str
    requester_email: str
    for_org: str | None
    kind: str
    status: str
    intended_use: str
    institution: str
    answers: dict[str, Any]
    agreement_version: int | None
    reason: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decided_automatically: bool
    decision_reason: str
    waiting_seconds: float
    grant_id: int | None


@dataclass(frozen=True)
class RequestFormView:
    """What a would-be downloader sees on an asset's access page."""

    org_slug: str
    org_name: str
    project_slug: str
    project_name: str
    asset_slug: str
    asset_name: str
    tier: str
    repo_id: str
    approval_mode: str
    form_fields: tuple[FormField, ...]
    agreement: AgreementView | None
    accepted_version: int | None
    is_member: bool
    my_requests: tuple[RequestView, ...]
    my_grants: tuple[GrantView, ...]
    my_orgs: tuple[str, ...]

    @property
    def needs_reacceptance(self) -> bool:
        return (self.agreement is not None and self.accepted_version is not None
                and self.accepted_version < self.agreement.version)

    @property
    def has_access(self) -> bool:
        active = any(g.status == "active" for g in self.my_grants)
        current = self.agreement is None or (self.accepted_version or 0) >= self.agreement.version
        if self.is_member or self.tier == Tier.public.value:
            return True
        if self.tier == Tier.registered.value:
            return self.accepted_version is not None and current
        return active and (current or any(g.grantee.startswith("org:") for g in self.my_grants))


@dataclass(frozen=True)
class LatencyView:
    decided: int
    pending: int
    median_seconds: float | None
    p90_seconds: float | None
    oldest_waiting_seconds: float | None


@dataclass(frozen=True)
class DownloadView:
    at: datetime
    username: str
    asset: str
    version: int
    path: str
    bytes: int
    grant_id: int | None
    basis: str
    via: str


@dataclass(frozen=True)
class DailyCount:
    day: date
    downloads: int
    bytes: int
    people: int


@dataclass(frozen=True)
class DecisionResult:
    decided: tuple[RequestView, ...] = field(default_factory=tuple)


# Helpers -------------------------------------------------------------------------

def _project(session: Session, org: Organization, project_slug: str) -> Project:
    project = session.scalars(select(Project).where(
        Project.org_id == org.id, Project.slug == (project_slug or "").strip().lower())).first()
    if project is None:
        raise NotFound(f"No project '{project_slug}' in {org.name}.")
    return project


def _agreement(session: Session, project_id: int) -> AgreementView | None:
    row = session.scalars(select(AccessAgreement).where(AccessAgreement.project_id == project_id)
                          .order_by(AccessAgreement.version.desc()).limit(1)).first()
    if row is None:
        return None
    return AgreementView(row.version, row.title, row.body_md, tuple(row.checkboxes), row.created_at)


def _policy_row(session: Session, project_id: int) -> AccessPolicy | None:
    return session.scalars(select(AccessPolicy).where(AccessPolicy.project_id == project_id)).first()


def _grant_days(session: Session, rt: Runtime, org_id: int, policy: AccessPolicy | None) -> int:
    if policy is not None and policy.grant_days:
        return policy.grant_days
    org_default = session.get(AccessOrgSettings, org_id)
    return org_default.default_grant_days if org_default else rt.settings.grant_default_days


def _grant_status(grant: AccessGrant, now: datetime) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    return "active" if grant.expires_at > now else "expired"


def _grant_view(session: Session, grant: AccessGrant, now: datetime) -> GrantView:
    asset = session.get(Asset, grant.asset_id)
    assert asset is not None
    project = session.get(Project, asset.project_id)
    org = session.get(Organization, grant.org_id)
    assert project is not None and org is not None
    if grant.user_id is not None:
        user = session.get(User, grant.user_id)
        grantee = user.username if user else "?"
    else:
        grantee_org = session.get(Organization, grant.grantee_org_id)
        grantee = f"org:{grantee_org.slug if grantee_org else '?'}"
    return GrantView(grant.id, org.slug, project.slug, asset.slug, grantee, grant.granted_at, grant.expires_at,
                     grant.revoked_at, grant.revoke_reason, _grant_status(grant, now), grant.granted_by_id is None)


def _request_view(session: Session, req: AccessRequest, now: datetime) -> RequestView:
    asset = session.get(Asset, req.asset_id)
    assert asset is not None
    project = session.get(Project, asset.project_id)
    org = session.get(Organization, req.org_id)
    requester = session.get(User, req.requester_id)
    assert project is not None and org is not None and requester is not None
    for_org = session.get(Organization, req.for_org_id) if req.for_org_id else None
    decider = session.get(User, req.decided_by_id) if req.decided_by_id else None
    end = req.decided_at or now
    return RequestView(req.id, org.slug, project.slug, asset.slug, asset.name, requester.username, requester.email,
                       for_org.slug if for_org else None, req.kind, req.status, req.intended_use, req.institution,
                       dict(req.answers), req.agreement_version, req.reason, req.created_at, req.decided_at,
                       decider.username if decider else None, req.decided_automatically, req.decision_reason,
                       waiting_seconds(req.created_at, end), req.grant_id)


def _find_requestable(session: Session, actor: Actor, org_slug: str, project_slug: str, asset_slug: str,
                      ) -> tuple[Organization, Project, Asset, bool]:
    """The asset if the actor may see its access page: members always, others at requestable tiers."""
    missing = NotFound(f"No asset '{org_slug}/{project_slug}/{asset_slug}' that you can request. "
                       "Check the link you were given.")
    row = session.execute(
        select(Organization, Project, Asset).join(Project, Project.org_id == Organization.id)
        .join(Asset, Asset.project_id == Project.id)
        .where(Organization.slug == (org_slug or "").lower(), Project.slug == (project_slug or "").lower(),
               Asset.slug == (asset_slug or "").lower())
    ).first()
    if row is None:
        raise missing
    org, project, asset = row
    is_member = session.scalar(select(Membership.id).where(Membership.org_id == org.id,
                                                           Membership.user_id == actor.user_id)) is not None
    if not is_member and not requestable(Tier(asset.current_tier)):
        raise missing
    return org, project, asset, is_member


def _my_org_slugs(session: Session, user_id: int) -> list[str]:
    return list(session.scalars(select(Organization.slug).join(Membership, Membership.org_id == Organization.id)
                                .where(Membership.user_id == user_id).order_by(Organization.slug)))


def _accepted_version(session: Session, user_id: int, project_id: int) -> int | None:
    return session.scalar(select(func.max(AgreementAcceptance.version)).where(
        AgreementAcceptance.user_id == user_id, AgreementAcceptance.project_id == project_id))


def _accept(session: Session, rt: Runtime, actor: Actor, org: Organization, project: Project,
            agreement: AgreementView, checkboxes: Sequence[str]) -> None:
    ticked = check_checkboxes(agreement.checkboxes, checkboxes)
    session.add(AgreementAcceptance(user_id=actor.user_id, project_id=project.id, version=agreement.version,
                                    checkboxes=ticked, accepted_at=rt.clock.now()))
    record(session, rt, actor, org.id, "agreement.accepted", "project", project.slug,
           {"version": agreement.version, "checkboxes": len(ticked)})


# Configuration (leads) ---------------------------------------------------------------

def get_policy(rt: Runtime, actor: Actor, org_slug: str, project_slug: str) -> PolicyView:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.project_view)
        project = _project(session, org, project_slug)
        policy = _policy_row(session, project.id)
        return PolicyView(
            org.slug, project.slug, policy.approval_mode if policy else ApprovalMode.manual.value,
            tuple(policy.email_domains) if policy else (), tuple(policy.trusted_orgs) if policy else (),
            tuple(policy.form_fields) if policy else (), _grant_days(session, rt, org.id, policy),
            _agreement(session, project.id))


def configure_policy(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, *, approval_mode: str,
                     email_domains: Sequence[str] = (), trusted_orgs: Sequence[str] = (),
                     form_fields: Sequence[dict[str, Any]] = (), grant_days: int | None = None) -> PolicyView:
    try:
        mode = ApprovalMode(approval_mode)
    except ValueError:
        raise InvalidInput("approval_mode must be manual, automatic or rules.", field="approval_mode") from None
    domains = clean_email_domains(email_domains)
    trusted = sorted({t.strip().lower() for t in trusted_orgs if t.strip()})
    fields = [f.as_dict() for f in parse_form_fields(form_fields)]
    if grant_days is not None and not 1 <= grant_days <= 3650:
        raise InvalidInput("Grants last between 1 and 3650 days.", field="grant_days")
    if mode is ApprovalMode.rules and not domains and not trusted:
        raise InvalidInput("Rule-based approval needs an email domain allow-list or trusted organisations.",
                           field="approval_mode")
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_configure)
        project = _project(session, org, project_slug)
        unknown = [t for t in trusted if session.scalar(select(Organization.id).where(Organization.slug == t)) is None]
        if unknown:
            raise InvalidInput(f"No organisation '{unknown[0]}'; trusted organisations are named by slug.",
                               field="trusted_orgs")
        policy = _policy_row(session, project.id)
        if policy is None:
            policy = AccessPolicy(project_id=project.id)
            session.add(policy)
        policy.approval_mode, policy.email_domains, policy.trusted_orgs = mode.value, domains, trusted
        policy.form_fields, policy.grant_days, policy.updated_at = fields, grant_days, rt.clock.now()
        session.flush()
        record(session, rt, actor, org.id, "access.policy_changed", "project", project.slug,
               {"approval_mode": mode.value, "email_domains": domains, "trusted_orgs": trusted,
                "fields": [f["name"] for f in fields], "grant_days": grant_days})
    return get_policy(rt, actor, org_slug, project_slug)


def set_default_grant_days(rt: Runtime, actor: Actor, org_slug: str, days: int) -> int:
    if not 1 <= days <= 3650:
        raise InvalidInput("Grants last between 1 and 3650 days.", field="days")
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_configure)
        row = session.get(AccessOrgSettings, org.id)
        if row is None:
            session.add(AccessOrgSettings(org_id=org.id, default_grant_days=days))
        else:
            row.default_grant_days = days
        record(session, rt, actor, org.id, "access.default_grant_days", "organization", org.slug, {"days": days})
        return days


def publish_agreement(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, *, title: str, body_md: str,
                      checkboxes: Sequence[str]) -> AgreementView:
    """A new agreement version; grantees must accept it before their next download."""
    title = clean_text(title, "Agreement title", max_length=200)
    body_md = clean_text(body_md, "Agreement text", max_length=100_000)
    boxes = [clean_text(c, "Checkbox", max_length=500) for c in checkboxes]
    if len(set(boxes)) != len(boxes) or len(boxes) > 20:
        raise InvalidInput("Checkboxes must be distinct (at most 20).", field="checkboxes")
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_configure)
        project = _project(session, org, project_slug)
        current = _agreement(session, project.id)
        version = (current.version if current else 0) + 1
        row = AccessAgreement(project_id=project.id, version=version, title=title, body_md=body_md, checkboxes=boxes,
                              created_by_id=actor.user_id, created_at=rt.clock.now())
        session.add(row)
        session.flush()
        record(session, rt, actor, org.id, "agreement.published", "project", project.slug,
               {"version": version, "title": title, "checkboxes": len(boxes)})
        return AgreementView(version, title, body_md, tuple(boxes), row.created_at)


# Requesters ------------------------------------------------------------------------

def request_form(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, asset_slug: str) -> RequestFormView:
    now = rt.clock.now()
    with rt.read() as session:
        org, project, asset, is_member = _find_requestable(session, actor, org_slug, project_slug, asset_slug)
        policy = _policy_row(session, project.id)
        my_orgs = _my_org_slugs(session, actor.user_id)
        my_org_ids = select(Membership.org_id).where(Membership.user_id == actor.user_id)
        requests = session.scalars(select(AccessRequest).where(
            AccessRequest.asset_id == asset.id, AccessRequest.requester_id == actor.user_id)
            .order_by(AccessRequest.id.desc())).all()
        grants = session.scalars(select(AccessGrant).where(
            AccessGrant.asset_id == asset.id,
            (AccessGrant.user_id == actor.user_id) | AccessGrant.grantee_org_id.in_(my_org_ids))
            .order_by(AccessGrant.id.desc())).all()
        return RequestFormView(
            org.slug, org.name, project.slug, project.name, asset.slug, asset.name, asset.current_tier,
            f"{org.slug}/{project.slug}-{asset.slug}",
            policy.approval_mode if policy else ApprovalMode.manual.value,
            tuple(parse_form_fields(policy.form_fields)) if policy else (), _agreement(session, project.id),
            _accepted_version(session, actor.user_id, project.id), is_member,
            tuple(_request_view(session, r, now) for r in requests), tuple(_grant_view(session, g, now) for g in grants),
            tuple(my_orgs))


def submit_request(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, asset_slug: str, *,
                   intended_use: str, institution: str, answers: dict[str, Any] | None = None,
                   checkboxes: Sequence[str] = (), for_org: str = "", kind: str = "new",
                   reason: str = "") -> RequestView:
    """Ask for access (or renewal, or appeal a rejection). May be approved at once by the project's rules."""
    intended_use = clean_text(intended_use, "Intended use", max_length=5000)
    institution = clean_text(institution, "Institution", max_length=200)
    reason = clean_text(reason, "Reason", max_length=5000, required=False)
    try:
        parsed_kind = RequestKind(kind)
    except ValueError:
        raise InvalidInput("kind must be new, renewal or appeal.", field="kind") from None
    now = rt.clock.now()
    with rt.write() as session:
        org, project, asset, _ = _find_requestable(session, actor, org_slug, project_slug, asset_slug)
        tier = Tier(asset.current_tier)
        if tier in (Tier.registered, Tier.public):
            raise Conflict(f"{asset.name} is open to every signed-in user who accepts the agreement; "
                           "accept it instead of requesting access.")
        policy = _policy_row(session, project.id)
        fields = parse_form_fields(policy.form_fields) if policy else []
        clean_answers = validate_answers(fields, answers or {})
        grantee_org: Organization | None = None
        if for_org.strip():
            grantee_org, _ = load_membership(session, actor, for_org.strip())
            if grantee_org.id == org.id:
                raise InvalidInput("Members of the owning organisation already have access.", field="for_org")
        mine = (AccessRequest.asset_id == asset.id, AccessRequest.requester_id == actor.user_id)
        if session.scalar(select(AccessRequest.id).where(*mine, AccessRequest.status == "pending")) is not None:
            raise Conflict("You already have a pending request for this asset; wait for the decision.")
        last = session.scalars(select(AccessRequest).where(*mine).order_by(AccessRequest.id.desc()).limit(1)).first()
        grantee_filter = (AccessGrant.grantee_org_id == grantee_org.id if grantee_org
                          else AccessGrant.user_id == actor.user_id)
        latest_grant = session.scalars(select(AccessGrant).where(AccessGrant.asset_id == asset.id, grantee_filter)
                                       .order_by(AccessGrant.id.desc()).limit(1)).first()
        if parsed_kind is RequestKind.appeal:
            if last is None or last.status != RequestStatus.rejected.value:
                raise Conflict("Only a rejected request can be appealed.")
            if not reason:
                raise InvalidInput("Say why the decision should change.", field="reason")
        elif parsed_kind is RequestKind.renewal:
            if latest_grant is None or latest_grant.revoked_at is not None:
                raise Conflict("Renewal needs a grant that was not revoked; request access anew instead.")
        elif latest_grant is not None and _grant_status(latest_grant, now) == "active":
            raise Conflict("You already have access to this asset. Ask for a renewal when it nears expiry.")
        elif last is not None and last.status == RequestStatus.rejected.value and not reason:
            raise InvalidInput("Your previous request was rejected; say what changed to re-apply.", field="reason")
        agreement = _agreement(session, project.id)
        if agreement is not None:
            _accept(session, rt, actor, org, project, agreement, checkboxes)
        req = AccessRequest(
            org_id=org.id, asset_id=asset.id, requester_id=actor.user_id,
            for_org_id=grantee_org.id if grantee_org else None, kind=parsed_kind.value,
            previous_request_id=last.id if last else None, status=RequestStatus.pending.value,
            intended_use=intended_use, institution=institution, answers=clean_answers,
            agreement_version=agreement.version if agreement else None, reason=reason, created_at=now)
        session.add(req)
        session.flush()
        record(session, rt, actor, org.id, "access.requested", "access_request", req.id,
               {"asset": f"{project.slug}/{asset.slug}", "kind": parsed_kind.value,
                "for_org": grantee_org.slug if grantee_org else None})
        user = session.get(User, actor.user_id)
        assert user is not None
        outcome = evaluate_rules(
            ApprovalMode(policy.approval_mode) if policy else ApprovalMode.manual, email=user.email,
            requester_orgs=_my_org_slugs(session, actor.user_id),
            email_domains=policy.email_domains if policy else [], trusted_orgs=policy.trusted_orgs if policy else [])
        if outcome.approve and parsed_kind is not RequestKind.appeal:
            _approve(session, rt, None, org, req, outcome.reason, None)
        else:
            _tell_approvers(session, rt, org, req, f"{project.slug}/{asset.slug}", user.username)
        return _request_view(session, req, now)


def _tell_approvers(session: Session, rt: Runtime, org: Organization, req: AccessRequest, asset: str,
                    requester: str) -> None:
    """Waiting is the top complaint about gated access: every approver hears of a new request at once."""
    approvers = session.scalars(select(Membership.user_id).where(
        Membership.org_id == org.id, Membership.role.in_([r.value for r in ROLE_PERMISSIONS[Action.access_decide]])))
    link = f"{rt.settings.base_url.rstrip('/')}/orgs/{org.slug}/access"
    for user_id in approvers:
        _notify(session, rt, user_id, f"access-request-{req.id}-to-{user_id}",
                f"Access request #{req.id} for {asset} ({org.name})",
                f"{requester} asks for access to {asset} ({req.kind}).\nDecide at {link}\n")


def accept_agreement(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, asset_slug: str, *,
                     checkboxes: Sequence[str], version: int | None = None) -> AgreementView:
    """Accept the project's current agreement (click-through at ``registered``; re-acceptance after a change)."""
    with rt.write() as session:
        org, project, _, _ = _find_requestable(session, actor, org_slug, project_slug, asset_slug)
        agreement = _agreement(session, project.id)
        if agreement is None:
            raise NotFound(f"{project.name} has no agreement to accept.")
        if version is not None and version != agreement.version:
            raise Conflict(f"The agreement is now at version {agreement.version}; read it again and accept that.")
        _accept(session, rt, actor, org, project, agreement, checkboxes)
        return agreement


def withdraw_request(rt: Runtime, actor: Actor, request_id: int) -> RequestView:
    with rt.write() as session:
        req = session.get(AccessRequest, request_id)
        if req is None or req.requester_id != actor.user_id:
            raise NotFound("You have no such request.")
        if req.status != RequestStatus.pending.value:
            raise Conflict(f"This request is already {req.status}.")
        req.status = RequestStatus.withdrawn.value
        req.decided_at = rt.clock.now()
        record(session, rt, actor, req.org_id, "access.withdrawn", "access_request", req.id, {})
        return _request_view(session, req, rt.clock.now())


def my_requests(rt: Runtime, actor: Actor) -> list[RequestView]:
    with rt.read() as session:
        rows = session.scalars(select(AccessRequest).where(AccessRequest.requester_id == actor.user_id)
                               .order_by(AccessRequest.id.desc())).all()
        return [_request_view(session, r, rt.clock.now()) for r in rows]


# Approvers ----------------------------------------------------------------------------

def list_requests(rt: Runtime, actor: Actor, org_slug: str, *, status: str = "pending",
                  limit: int = 200) -> list[RequestView]:
    """The queue, oldest first, each with how long it has waited."""
    if status not in {s.value for s in RequestStatus} | {"all"}:
        raise InvalidInput("status must be pending, approved, rejected, withdrawn or all.", field="status")
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_view)
        query = select(AccessRequest).where(AccessRequest.org_id == org.id)
        if status != "all":
            query = query.where(AccessRequest.status == status)
        order = AccessRequest.id.asc() if status == "pending" else AccessRequest.id.desc()
        rows = session.scalars(query.order_by(order).limit(max(1, min(limit, 1000)))).all()
        return [_request_view(session, r, rt.clock.now()) for r in rows]


def _notify(session: Session, rt: Runtime, user_id: int, key: str, subject: str, body: str) -> None:
    user = session.get(User, user_id)
    if user is not None:
        outbox.enqueue(session, rt, key=key, recipient=user.email, subject=subject, body=body)


def _approve(session: Session, rt: Runtime, actor: Actor | None, org: Organization, req: AccessRequest,
             reason: str, days: int | None) -> None:
    now = rt.clock.now()
    policy = _policy_row(session, session.get(Asset, req.asset_id).project_id)  # type: ignore[union-attr]
    lifetime = days or _grant_days(session, rt, org.id, policy)
    grant = AccessGrant(org_id=org.id, asset_id=req.asset_id,
                        user_id=None if req.for_org_id else req.requester_id, grantee_org_id=req.for_org_id,
                        request_id=req.id, granted_by_id=actor.user_id if actor else None, granted_at=now,
                        expires_at=now + timedelta(days=lifetime))
    session.add(grant)
    session.flush()
    req.status, req.decided_at, req.grant_id = RequestStatus.approved.value, now, grant.id
    req.decided_by_id = actor.user_id if actor else None
    req.decided_automatically = actor is None
    req.decision_reason = reason
    record(session, rt, actor, org.id, "access.approved", "access_request", req.id,
           {"grant": grant.id, "expires_at": grant.expires_at.isoformat(), "automatic": actor is None,
            "grantee": f"org:{req.for_org_id}" if req.for_org_id else f"user:{req.requester_id}"})
    _notify(session, rt, req.requester_id, f"access-approved-{req.id}", f"Access approved ({org.name})",
            f"Your request #{req.id} was approved until {grant.expires_at:%Y-%m-%d}.\n{reason}\n")


def decide(rt: Runtime, actor: Actor, org_slug: str, request_ids: Sequence[int], *, approve: bool,
           reason: str = "", grant_days: int | None = None) -> list[RequestView]:
    """Approve or reject one or many pending requests, all in one transaction (all or nothing)."""
    ids = sorted(set(request_ids))
    if not ids:
        raise InvalidInput("Choose at least one request.", field="request_ids")
    if len(ids) > MAX_BATCH:
        raise InvalidInput(f"Decide at most {MAX_BATCH} requests at once.", field="request_ids")
    if ids[0] < 1 or ids[-1] > 2**63 - 1:  # cannot name a stored request (and would overflow the database)
        raise NotFound("Some of those requests do not exist in this organisation; reload the queue.")
    reason = clean_text(reason, "Reason", max_length=5000, required=not approve)
    if grant_days is not None and not 1 <= grant_days <= 3650:
        raise InvalidInput("Grants last between 1 and 3650 days.", field="grant_days")
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_decide)
        rows = session.scalars(select(AccessRequest).where(AccessRequest.id.in_(ids),
                                                           AccessRequest.org_id == org.id)).all()
        if len(rows) != len(ids):
            raise NotFound("Some of those requests do not exist in this organisation; reload the queue.")
        for req in rows:
            if req.status != RequestStatus.pending.value:
                raise Conflict(f"Request #{req.id} is already {req.status}; reload the queue.")
        for req in rows:
            if approve:
                _approve(session, rt, actor, org, req, reason, grant_days)
            else:
                req.status, req.decided_at = RequestStatus.rejected.value, rt.clock.now()
                req.decided_by_id, req.decision_reason = actor.user_id, reason
                record(session, rt, actor, org.id, "access.rejected", "access_request", req.id, {"reason": reason})
                _notify(session, rt, req.requester_id, f"access-rejected-{req.id}", f"Access request declined ({org.name})",
                        f"Your request #{req.id} was declined: {reason}\nYou can appeal or re-apply with a reason.\n")
        session.flush()
        return [_request_view(session, r, rt.clock.now()) for r in sorted(rows, key=lambda r: r.id)]


def revoke_grant(rt: Runtime, actor: Actor, org_slug: str, grant_id: int, *, reason: str) -> GrantView:
    """Stop a grant now; the grantee is told why."""
    reason = clean_text(reason, "Reason", max_length=5000)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_decide)
        grant = session.get(AccessGrant, grant_id)
        if grant is None or grant.org_id != org.id:
            raise NotFound(f"No grant #{grant_id} in {org.name}.")
        if grant.revoked_at is not None:
            raise Conflict("This grant is already revoked.")
        grant.revoked_at, grant.revoked_by_id, grant.revoke_reason = rt.clock.now(), actor.user_id, reason
        record(session, rt, actor, org.id, "access.revoked", "access_grant", grant.id, {"reason": reason})
        body = f"Your access grant #{grant.id} from {org.name} was revoked.\nReason: {reason}\n"
        if grant.user_id is not None:
            _notify(session, rt, grant.user_id, f"grant-revoked-{grant.id}", f"Access revoked ({org.name})", body)
        elif grant.request_id is not None:
            req = session.get(AccessRequest, grant.request_id)
            if req is not None:
                _notify(session, rt, req.requester_id, f"grant-revoked-{grant.id}", f"Access revoked ({org.name})",
                        body)
        return _grant_view(session, grant, rt.clock.now())


def list_grants(rt: Runtime, actor: Actor, org_slug: str) -> list[GrantView]:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_view)
        rows = session.scalars(select(AccessGrant).where(AccessGrant.org_id == org.id)
                               .order_by(AccessGrant.id.desc()).limit(1000)).all()
        return [_grant_view(session, g, rt.clock.now()) for g in rows]


def latency(rt: Runtime, actor: Actor, org_slug: str) -> LatencyView:
    """Approval latency (request to decision, people and rules alike), median and p90."""
    now = rt.clock.now()
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_view)
        decided = session.execute(select(AccessRequest.created_at, AccessRequest.decided_at).where(
            AccessRequest.org_id == org.id, AccessRequest.status.in_(["approved", "rejected"]))).all()
        pending = session.scalars(select(AccessRequest.created_at).where(
            AccessRequest.org_id == org.id, AccessRequest.status == "pending")).all()
        durations = [waiting_seconds(c, d) for c, d in decided if d is not None]
        return LatencyView(len(durations), len(pending), median(durations), percentile(durations, 90),
                           max((waiting_seconds(c, now) for c in pending), default=None))


# Download log ---------------------------------------------------------------------------

def downloads(rt: Runtime, actor: Actor, org_slug: str, *, limit: int = 200) -> list[DownloadView]:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_view)
        rows = session.execute(
            select(DownloadEvent, Asset.slug, Project.slug, AssetVersion.number)
            .join(Asset, Asset.id == DownloadEvent.asset_id).join(Project, Project.id == Asset.project_id)
            .join(AssetVersion, AssetVersion.id == DownloadEvent.version_id)
            .where(DownloadEvent.org_id == org.id).order_by(DownloadEvent.id.desc()).limit(max(1, min(limit, 100_000)))
        ).all()
        return [DownloadView(e.at, e.username or "(anonymous)", f"{p}/{a}", n, e.path, e.bytes, e.grant_id, e.basis,
                             e.via) for e, a, p, n in rows]


def downloads_csv(rt: Runtime, actor: Actor, org_slug: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at_utc", "user", "asset", "version", "file", "bytes", "grant_id", "basis", "via"])
    for d in downloads(rt, actor, org_slug, limit=100_000):
        writer.writerow([d.at.isoformat(), _csv_safe(d.username), d.asset, f"v{d.version}", _csv_safe(d.path),
                         d.bytes, d.grant_id or "", d.basis, d.via])
    return out.getvalue()


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in user-controlled cells."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def downloads_per_day(rt: Runtime, actor: Actor, org_slug: str, *, days: int = 30) -> list[DailyCount]:
    """Access over time: downloads, bytes and distinct people per day, oldest first (days without any included)."""
    days = max(1, min(days, 366))
    today = rt.clock.now().date()
    start = today - timedelta(days=days - 1)
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.access_view)
        rows = session.execute(select(DownloadEvent.at, DownloadEvent.bytes, DownloadEvent.username).where(
            DownloadEvent.org_id == org.id, DownloadEvent.at >= datetime.combine(start, datetime.min.time()))).all()
    buckets: dict[date, list[Any]] = {start + timedelta(days=i): [0, 0, set()] for i in range(days)}
    for at, size, who in rows:
        bucket = buckets.get(at.date())
        if bucket is not None:
            bucket[0] += 1
            bucket[1] += size
            bucket[2].add(who)
    return [DailyCount(day, b[0], b[1], len(b[2])) for day, b in buckets.items()]
