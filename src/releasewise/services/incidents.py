"""Misuse reports, triage, incidents and the actions taken on them (FRAMEWORK.md §6).

Anyone may file a report, signed in or not. Filing needs a solved proof-of-work
challenge (issued and verified statelessly, domain/incidents.py) and is rate
limited per IP (counted by a keyed digest of the address; the address itself is
not stored). Reporters get a private follow-up link whose secret is stored only as
a SHA-256 digest and which expires. Reports, reporters and evidence are seen only
by the organisation's responders (``report.view``); evidence bytes live under
``<data dir>/evidence`` and are served only through ``get_evidence``.

Incident actions go through the owning capabilities' public functions
(``access.revoke_grant``, ``tiers.set_asset_tier``, ``plans.set_status``), which
check their own permissions and audit themselves; the incident records the action
and audits ``incident.action`` as well.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from releasewise.blobs import LocalBlobStore, blob_store_for
from releasewise.domain import incidents as rules
from releasewise.domain.credentials import digest, new_secret
from releasewise.domain.roles import Action
from releasewise.domain.tiers import Tier
from releasewise.domain.validation import clean_email, clean_text
from releasewise.errors import Conflict, InvalidInput, NotFound, RateLimited
from releasewise.services import access, disclosure, plans, tiers
from releasewise.services.audit import append_event, record
from releasewise.services.authz import authorize
from releasewise.services.runtime import Actor, PendingAudit, Runtime
from releasewise.store.models import Asset, Organization, Project, User
from releasewise.store.models_incidents import Incident, IncidentAction, MisuseReport, ReportEvidence
from releasewise.store.models_plans import ReleasePlan

ANONYMOUS_LABEL = "anonymous reporter"
# The secret follows "/invitations/", which the access-log filter (logsafe.py) redacts.
FOLLOWUP_LINK_PATH = "/reports/followup/invitations/"


# Views -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChallengeView:
    challenge: str
    bits: int


@dataclass(frozen=True)
class ReportTargetView:
    org_slug: str
    org_name: str
    project_slug: str
    project_name: str


@dataclass(frozen=True)
class FiledView:
    report_id: int
    followup_token: str  # shown once; only its digest is stored
    followup_expires_at: datetime


@dataclass(frozen=True)
class FollowupView:
    project_name: str
    org_name: str
    harm_category: str
    status: str
    filed_at: datetime
    updated_at: datetime
    expires_at: datetime
    evidence_files: int


@dataclass(frozen=True)
class EvidenceView:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ReportView:
    id: int
    org_slug: str
    project_slug: str
    project_name: str
    status: str
    severity: int | None
    harm_category: str
    description: str
    urls: tuple[str, ...]
    observed_at: datetime | None
    reporter: str  # username, or "anonymous"
    reporter_contact: str
    incident_id: int | None
    duplicate_of_id: int | None
    created_at: datetime
    updated_at: datetime
    age_days: int
    evidence: tuple[EvidenceView, ...]
    next_statuses: tuple[str, ...]


@dataclass(frozen=True)
class ActionView:
    id: int
    kind: str
    target: str
    note: str
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class IncidentView:
    id: int
    org_slug: str
    project_slug: str
    project_name: str
    title: str
    description: str
    harm_category: str
    severity: int
    status: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    reports: tuple[ReportView, ...]
    actions: tuple[ActionView, ...]


@dataclass(frozen=True)
class DashboardView:
    open_reports_by_age: dict[str, int]
    open_incidents_by_severity: dict[int, int]


# Helpers -----------------------------------------------------------------------------------------

def evidence_store(rt: Runtime) -> LocalBlobStore:
    """Evidence lives apart from registry blobs, so no download route can ever serve it."""
    return blob_store_for(rt.settings.data_dir / "evidence")


def _key(rt: Runtime) -> bytes:
    return rt.settings.effective_secret_key().encode()


def _ip_digest(rt: Runtime, ip: str) -> str:
    return hmac.new(_key(rt), f"report-ip:{ip}".encode(), hashlib.sha256).hexdigest()


def evidence_views(session: Session, report_id: int) -> tuple[EvidenceView, ...]:
    rows = session.scalars(select(ReportEvidence).where(ReportEvidence.report_id == report_id)
                           .order_by(ReportEvidence.id))
    return tuple(EvidenceView(e.id, e.filename, e.content_type, e.size, e.sha256) for e in rows)


def _report_view(session: Session, org: Organization, r: MisuseReport, now: datetime) -> ReportView:
    project = session.get(Project, r.project_id)
    assert project is not None
    reporter = "anonymous"
    if r.reporter_user_id is not None:
        user = session.get(User, r.reporter_user_id)
        reporter = user.username if user else "deleted user"
    status = rules.ReportStatus(r.status)
    return ReportView(
        id=r.id, org_slug=org.slug, project_slug=project.slug, project_name=project.name, status=r.status,
        severity=r.severity, harm_category=r.harm_category, description=r.description, urls=tuple(r.urls),
        observed_at=r.observed_at, reporter=reporter, reporter_contact=r.reporter_contact,
        incident_id=r.incident_id, duplicate_of_id=r.duplicate_of_id, created_at=r.created_at,
        updated_at=r.updated_at, age_days=max(0, (now - r.created_at).days),
        evidence=evidence_views(session, r.id),
        next_statuses=tuple(s.value for s in rules.ReportStatus if s in rules.TRANSITIONS[status]))


def load_report(session: Session, org: Organization, report_id: int) -> MisuseReport:
    report = session.get(MisuseReport, report_id)
    if report is None or report.org_id != org.id:
        raise NotFound(f"No misuse report #{report_id} in {org.name}.")
    return report


def _load_incident(session: Session, org: Organization, incident_id: int, *, lock: bool = False) -> Incident:
    incident = session.get(Incident, incident_id, with_for_update=lock or None)
    if incident is None or incident.org_id != org.id:
        raise NotFound(f"No incident #{incident_id} in {org.name}.")
    return incident


def _incident_view(session: Session, org: Organization, i: Incident, now: datetime) -> IncidentView:
    project = session.get(Project, i.project_id)
    assert project is not None
    reports = session.scalars(select(MisuseReport).where(MisuseReport.incident_id == i.id)
                              .order_by(MisuseReport.id))
    actions = session.scalars(select(IncidentAction).where(IncidentAction.incident_id == i.id)
                              .order_by(IncidentAction.id))
    return IncidentView(
        id=i.id, org_slug=org.slug, project_slug=project.slug, project_name=project.name, title=i.title,
        description=i.description, harm_category=i.harm_category, severity=i.severity, status=i.status,
        created_at=i.created_at, updated_at=i.updated_at, resolved_at=i.resolved_at,
        reports=tuple(_report_view(session, org, r, now) for r in reports),
        actions=tuple(ActionView(a.id, a.kind, a.target, a.note, a.actor_label, a.created_at) for a in actions))


def store_evidence(rt: Runtime, session: Session, report: MisuseReport, files: Sequence[tuple[str, str, bytes]],
                    now: datetime) -> list[int]:
    """Store checked evidence (name, detected media type, bytes) under the report; the new rows' ids."""
    store = evidence_store(rt)
    rows = []
    for name, media_type, data in files:
        sha = hashlib.sha256(data).hexdigest()
        if not store.exists(sha):
            key = f"ev{report.id}x{sha[:16]}"
            store.append(key, 0, 0, data, sha)
            store.commit(key, 0, sha)
        row = ReportEvidence(report_id=report.id, filename=name, size=len(data), sha256=sha, content_type=media_type,
                             created_at=now)
        session.add(row)
        rows.append(row)
    session.flush()
    return [row.id for row in rows]


def _move(report: MisuseReport, target: rules.ReportStatus, now: datetime) -> str:
    before = report.status
    report.status = rules.next_status(rules.ReportStatus(report.status), target).value
    report.updated_at = now
    return before


# Filing (anyone) ---------------------------------------------------------------------------------

def challenge(rt: Runtime) -> ChallengeView:
    """A fresh proof-of-work challenge, valid for ten minutes; the server keeps no state."""
    bits = rt.settings.report_pow_bits
    return ChallengeView(rules.issue_challenge(_key(rt), rt.clock.now(), bits=bits, ttl_seconds=600), bits)


def _reportable(session: Session, org_slug: str, project_slug: str) -> tuple[Organization, Project]:
    """The project a public report names, if it has ever been released outside the lab.

    Projects whose assets never went beyond the team and its reviewers do not exist for the
    public: the answer is the same as for a project that does not exist, so nothing leaks.
    """
    missing = NotFound(f"No project '{org_slug}/{project_slug}' accepts misuse reports here. Check the address, "
                       "or write to the lab directly.")
    org = session.scalar(select(Organization).where(Organization.slug == (org_slug or "").strip().lower()))
    if org is None:
        raise missing
    project = session.scalar(select(Project).where(Project.org_id == org.id,
                                                   Project.slug == (project_slug or "").strip().lower()))
    if project is None:
        raise missing
    outside = [t.value for t in Tier if t.wider_than(Tier.reviewers)]
    released = session.scalar(select(Asset.id).where(Asset.project_id == project.id,
                                                     Asset.high_water_tier.in_(outside)).limit(1))
    if released is None:
        raise missing
    return org, project


def report_target(rt: Runtime, org_slug: str, project_slug: str) -> ReportTargetView:
    """What the public report form names (org and project names only)."""
    with rt.read() as session:
        org, project = _reportable(session, org_slug, project_slug)
        return ReportTargetView(org.slug, org.name, project.slug, project.name)


def _observed(value: datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if value > now + timedelta(days=1):
        raise InvalidInput("When the misuse happened cannot be in the future.", field="observed_at")
    if value.year < 2000:
        raise InvalidInput("When the misuse happened must be a date after 2000.", field="observed_at")
    return value


def submit_report(rt: Runtime, actor: Actor | None, org_slug: str, project_slug: str, *, description: str,
                  harm_category: str, urls: Sequence[str] = (), observed_at: datetime | None = None,
                  contact: str = "", evidence: Sequence[tuple[str, str, bytes]] = (), challenge: str,
                  solution: str, ip: str) -> FiledView:
    """File a misuse report; everything is checked before anything is stored."""
    now = rt.clock.now()
    description = clean_text(description, "What happened", max_length=20_000)
    harm = rules.parse_harm(harm_category)
    url_list = rules.clean_urls(list(urls))
    observed = _observed(observed_at, now)
    contact = clean_email(contact) if (contact or "").strip() else ""
    files = rules.check_evidence(list(evidence), rt.settings.report_max_evidence_bytes)
    rules.verify_challenge(_key(rt), challenge, solution, now, min_bits=rt.settings.report_pow_bits)
    ip_digest = _ip_digest(rt, ip)
    raw = new_secret()
    expires = now + timedelta(days=rt.settings.report_followup_days)
    with rt.write() as session:
        org, project = _reportable(session, org_slug, project_slug)
        recent = session.scalar(select(func.count()).select_from(MisuseReport).where(
            MisuseReport.ip_digest == ip_digest, MisuseReport.created_at >= now - timedelta(hours=1))) or 0
        if recent >= rt.settings.report_max_per_ip_per_hour:
            error = RateLimited("Too many reports from your network in the last hour. Try again in an hour, or "
                                "write to the lab directly.", retry_after_seconds=3600)
            error.pending_audit = PendingAudit(
                org_id=org.id, actor_user_id=actor.user_id if actor else None,
                actor_label=actor.label if actor else ANONYMOUS_LABEL, action="report.rate_limited",
                target_type="project", target_id=project.slug, summary={"per_hour": recent})
            raise error
        pow_digest = hashlib.sha256(challenge.encode()).hexdigest()
        if session.scalar(select(MisuseReport.id).where(MisuseReport.pow_digest == pow_digest)) is not None:
            raise InvalidInput("This challenge was already used; fetch a new one and solve it.", field="challenge")
        report = MisuseReport(
            org_id=org.id, project_id=project.id, status=rules.ReportStatus.new.value, severity=None,
            harm_category=harm.value, description=description, urls=url_list, observed_at=observed,
            reporter_user_id=actor.user_id if actor else None, reporter_contact=contact,
            followup_digest=digest(raw), followup_expires_at=expires, ip_digest=ip_digest, pow_digest=pow_digest,
            created_at=now, updated_at=now)
        session.add(report)
        try:
            session.flush()
        except IntegrityError:
            raise InvalidInput("This challenge was already used; fetch a new one and solve it.",
                               field="challenge") from None
        store_evidence(rt, session, report, files, now)
        append_event(session, now, org_id=org.id, actor_user_id=actor.user_id if actor else None,
                     actor_label=actor.label if actor else ANONYMOUS_LABEL, action="report.filed",
                     target_type="misuse_report", target_id=report.id,
                     summary={"project": project.slug, "harm_category": harm.value, "evidence_files": len(files),
                              "anonymous": actor is None})
        return FiledView(report.id, raw, expires)


def report_for_link(session: Session, raw: str, now: datetime) -> MisuseReport:
    """The report a follow-up link secret opens (looked up by its digest), or NotFound if unknown or expired."""
    report = session.scalar(select(MisuseReport).where(MisuseReport.followup_digest == digest(raw or "")))
    if report is None or report.followup_expires_at is None:
        raise NotFound("This follow-up link is not valid. Check that you copied all of it.")
    if report.followup_expires_at <= now:
        raise NotFound("This follow-up link has expired. File a new report if the misuse continues.")
    return report


def followup(rt: Runtime, raw: str) -> FollowupView:
    """What a reporter sees through their private link: status only, no responder identities."""
    now = rt.clock.now()
    with rt.read() as session:
        report = report_for_link(session, raw, now)
        project = session.get(Project, report.project_id)
        org = session.get(Organization, report.org_id)
        assert project is not None and org is not None
        assert report.followup_expires_at is not None  # report_for_link refuses links without an expiry
        files = session.scalar(select(func.count()).select_from(ReportEvidence)
                               .where(ReportEvidence.report_id == report.id)) or 0
        return FollowupView(project.name, org.name, report.harm_category, report.status, report.created_at,
                            report.updated_at, report.followup_expires_at, files)


# Triage (responders) -----------------------------------------------------------------------------

def list_reports(rt: Runtime, actor: Actor, org_slug: str, *, status: str = "") -> list[ReportView]:
    """The triage queue: open reports first (oldest first), then the rest, newest first."""
    now = rt.clock.now()
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_view)
        query = select(MisuseReport).where(MisuseReport.org_id == org.id)
        if status:
            query = query.where(MisuseReport.status == rules.parse_status(status).value)
        rows = session.scalars(query.order_by(MisuseReport.created_at).limit(1000)).all()
        open_values = {s.value for s in rules.OPEN_REPORT_STATUSES}
        ordered = [r for r in rows if r.status in open_values] + \
            sorted((r for r in rows if r.status not in open_values), key=lambda r: r.created_at, reverse=True)
        return [_report_view(session, org, r, now) for r in ordered]


def get_report(rt: Runtime, actor: Actor, org_slug: str, report_id: int) -> ReportView:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_view)
        return _report_view(session, org, load_report(session, org, report_id), rt.clock.now())


def get_evidence(rt: Runtime, actor: Actor, org_slug: str, report_id: int, evidence_id: int,
                 ) -> tuple[EvidenceView, bytes]:
    """An evidence file for a responder; each viewing is audited."""
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_view)
        report = load_report(session, org, report_id)
        row = session.get(ReportEvidence, evidence_id)
        if row is None or row.report_id != report.id:
            raise NotFound(f"No evidence file #{evidence_id} on report #{report_id}.")
        record(session, rt, actor, org.id, "report.evidence_viewed", "misuse_report", report.id,
               {"evidence": row.id, "file": row.filename})
        data = evidence_store(rt).path(row.sha256).read_bytes()
        return EvidenceView(row.id, row.filename, row.content_type, row.size, row.sha256), data


def triage(rt: Runtime, actor: Actor, org_slug: str, report_id: int, *, status: str | None = None,
           severity: int | None = None) -> ReportView:
    """Move a report along new → triaged → confirmed | not_misuse | duplicate → resolved and/or set its severity."""
    target = rules.parse_status(status) if status else None
    if severity is not None:
        rules.check_severity(severity)
    if target is None and severity is None:
        raise InvalidInput("Give a new status, a severity, or both.", field="status")
    if target == rules.ReportStatus.duplicate:
        raise InvalidInput("Mark duplicates with merge, naming the report they duplicate.", field="status")
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_triage)
        report = load_report(session, org, report_id)
        summary: dict[str, Any] = {}
        if target is not None:
            summary["before"] = _move(report, target, now)
            summary["after"] = target.value
        if severity is not None:
            summary["severity"] = [report.severity, severity]
            report.severity, report.updated_at = severity, now
        record(session, rt, actor, org.id, "report.triaged", "misuse_report", report.id, summary)
        return _report_view(session, org, report, now)


def merge_duplicate(rt: Runtime, actor: Actor, org_slug: str, report_id: int, *, duplicate_of: int) -> ReportView:
    """Mark ``report_id`` a duplicate of another report of the same project; it joins that report's incident."""
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_triage)
        report = load_report(session, org, report_id)
        original = load_report(session, org, duplicate_of)
        if original.id == report.id:
            raise InvalidInput("A report cannot duplicate itself.", field="duplicate_of")
        if original.project_id != report.project_id:
            raise InvalidInput("Duplicates must be about the same project.", field="duplicate_of")
        if original.status == rules.ReportStatus.duplicate.value:
            raise InvalidInput(f"Report #{original.id} is itself a duplicate; merge into #{original.duplicate_of_id}.",
                               field="duplicate_of")
        before = _move(report, rules.ReportStatus.duplicate, now)
        report.duplicate_of_id = original.id
        if original.incident_id is not None:
            report.incident_id = original.incident_id
        if report.severity is None:
            report.severity = original.severity
        record(session, rt, actor, org.id, "report.merged", "misuse_report", report.id,
               {"duplicate_of": original.id, "before": before, "incident": report.incident_id})
        return _report_view(session, org, report, now)


# Incidents ---------------------------------------------------------------------------------------

def _link(session: Session, report: MisuseReport, incident: Incident, now: datetime) -> None:
    if report.project_id != incident.project_id:
        raise InvalidInput(f"Report #{report.id} is about another project than incident #{incident.id}.",
                           field="report_ids")
    if report.incident_id is not None and report.incident_id != incident.id:
        raise Conflict(f"Report #{report.id} already belongs to incident #{report.incident_id}.")
    status = rules.ReportStatus(report.status)
    if status == rules.ReportStatus.new:
        _move(report, rules.ReportStatus.triaged, now)
        status = rules.ReportStatus.triaged
    if status == rules.ReportStatus.triaged:
        _move(report, rules.ReportStatus.confirmed, now)
    report.incident_id = incident.id
    if report.severity is None:
        report.severity = incident.severity
    report.updated_at = now
    for dup in session.scalars(select(MisuseReport).where(MisuseReport.duplicate_of_id == report.id)):
        dup.incident_id = incident.id


def open_incident(rt: Runtime, actor: Actor, org_slug: str, *, report_ids: Sequence[int], title: str,
                  severity: int, description: str = "") -> IncidentView:
    """Open an incident from one or more reports of one project (they become confirmed)."""
    title = clean_text(title, "Title", max_length=200)
    description = clean_text(description, "Description", max_length=20_000, required=False)
    rules.check_severity(severity)
    ids = sorted(set(report_ids))
    if not ids or len(ids) > 100:
        raise InvalidInput("Name 1 to 100 reports to open an incident from.", field="report_ids")
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_manage)
        reports = [load_report(session, org, rid) for rid in ids]
        if len({r.project_id for r in reports}) != 1:
            raise InvalidInput("All reports of an incident must be about the same project.", field="report_ids")
        incident = Incident(org_id=org.id, project_id=reports[0].project_id, title=title, description=description,
                            harm_category=reports[0].harm_category, severity=severity,
                            status=rules.IncidentStatus.open.value, created_by_id=actor.user_id, created_at=now,
                            updated_at=now, resolved_at=None)
        session.add(incident)
        session.flush()
        for report in reports:
            _link(session, report, incident, now)
        record(session, rt, actor, org.id, "incident.opened", "incident", incident.id,
               {"title": title, "severity": severity, "reports": ids})
        return _incident_view(session, org, incident, now)


def link_report(rt: Runtime, actor: Actor, org_slug: str, incident_id: int, report_id: int) -> IncidentView:
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_manage)
        incident = _load_incident(session, org, incident_id, lock=True)
        report = load_report(session, org, report_id)
        if report.incident_id == incident.id:
            raise Conflict(f"Report #{report.id} is already part of incident #{incident.id}.")
        _link(session, report, incident, now)
        incident.updated_at = now
        record(session, rt, actor, org.id, "incident.report_linked", "incident", incident.id, {"report": report.id})
        return _incident_view(session, org, incident, now)


def update_incident(rt: Runtime, actor: Actor, org_slug: str, incident_id: int, *, severity: int | None = None,
                    resolve: bool = False, note: str = "") -> IncidentView:
    """Change severity and/or resolve (which resolves its confirmed reports too); a note may be recorded."""
    if severity is not None:
        rules.check_severity(severity)
    note = clean_text(note, "Note", max_length=5000, required=False)
    if severity is None and not resolve and not note:
        raise InvalidInput("Give a severity, resolve, or a note.", field="severity")
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_manage)
        incident = _load_incident(session, org, incident_id, lock=True)
        if incident.status == rules.IncidentStatus.resolved.value and (resolve or severity is not None):
            raise Conflict(f"Incident #{incident.id} is resolved; it can take notes only.")
        summary: dict[str, Any] = {}
        if severity is not None:
            summary["severity"] = [incident.severity, severity]
            incident.severity = severity
        if resolve:
            incident.status, incident.resolved_at = rules.IncidentStatus.resolved.value, now
            summary["status"] = "resolved"
            for report in session.scalars(select(MisuseReport).where(MisuseReport.incident_id == incident.id)):
                if rules.ReportStatus.resolved in rules.TRANSITIONS[rules.ReportStatus(report.status)]:
                    _move(report, rules.ReportStatus.resolved, now)
        if note:
            session.add(IncidentAction(incident_id=incident.id, kind="note", target="", note=note,
                                       actor_label=actor.label, created_at=now))
            summary["note"] = note
        incident.updated_at = now
        record(session, rt, actor, org.id, "incident.updated", "incident", incident.id, summary)
        return _incident_view(session, org, incident, now)


def list_incidents(rt: Runtime, actor: Actor, org_slug: str) -> list[IncidentView]:
    now = rt.clock.now()
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_view)
        rows = session.scalars(select(Incident).where(Incident.org_id == org.id)
                               .order_by(Incident.status, Incident.severity.desc(), Incident.id.desc()).limit(1000))
        return [_incident_view(session, org, i, now) for i in rows]


def get_incident(rt: Runtime, actor: Actor, org_slug: str, incident_id: int) -> IncidentView:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_view)
        return _incident_view(session, org, _load_incident(session, org, incident_id), rt.clock.now())


@dataclass(frozen=True)
class ActionChoices:
    """What the one-click actions on an incident page can act on."""

    assets: tuple[tuple[str, str, tuple[str, ...]], ...]  # slug, current tier, narrower tiers
    grants: tuple[access.GrantView, ...]
    plan_status: str | None


def action_choices(rt: Runtime, actor: Actor, org_slug: str, incident_id: int) -> ActionChoices:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_manage)
        incident = _load_incident(session, org, incident_id)
        project = session.get(Project, incident.project_id)
        assert project is not None
        assets = session.scalars(select(Asset).where(Asset.project_id == project.id).order_by(Asset.slug)).all()
        plan_status = session.scalar(select(ReleasePlan.status).where(
            ReleasePlan.project_id == project.id))
        slug = project.slug
    grants = tuple(g for g in access.list_grants(rt, actor, org_slug)
                   if g.project_slug == slug and g.status == "active")
    return ActionChoices(
        tuple((a.slug, a.current_tier, tuple(t.value for t in Tier if Tier(a.current_tier).wider_than(t)))
              for a in assets), grants, plan_status)


def _record_action(rt: Runtime, actor: Actor, org_slug: str, incident_id: int, kind: str, target: str,
                   note: str) -> IncidentView:
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_manage)
        incident = _load_incident(session, org, incident_id)
        session.add(IncidentAction(incident_id=incident.id, kind=kind, target=target, note=note,
                                   actor_label=actor.label, created_at=now))
        incident.updated_at = now
        record(session, rt, actor, org.id, "incident.action", "incident", incident.id,
               {"kind": kind, "target": target, "note": note})
        return _incident_view(session, org, incident, now)


def _open_incident_for_action(rt: Runtime, actor: Actor, org_slug: str, incident_id: int) -> Project:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_manage)
        incident = _load_incident(session, org, incident_id)
        if incident.status != rules.IncidentStatus.open.value:
            raise Conflict(f"Incident #{incident.id} is resolved; reopen work in a new incident.")
        project = session.get(Project, incident.project_id)
        assert project is not None
        session.expunge(project)
        return project


def revoke_grant(rt: Runtime, actor: Actor, org_slug: str, incident_id: int, grant_id: int, *,
                 reason: str) -> IncidentView:
    """Revoke an access grant to one of the incident's project's assets (through the access service)."""
    reason = clean_text(reason, "Reason", max_length=2000)
    project = _open_incident_for_action(rt, actor, org_slug, incident_id)
    grants = {g.id: g for g in access.list_grants(rt, actor, org_slug)}
    grant = grants.get(grant_id)
    if grant is None or grant.project_slug != project.slug:
        raise NotFound(f"No grant #{grant_id} on {project.name}.")
    access.revoke_grant(rt, actor, org_slug, grant_id, reason=f"Incident #{incident_id}: {reason}")
    return _record_action(rt, actor, org_slug, incident_id, "grant_revoked",
                          f"grant #{grant_id} ({grant.grantee} → {grant.asset_slug})", reason)


def narrow_tier(rt: Runtime, actor: Actor, org_slug: str, incident_id: int, asset_slug: str, tier: str, *,
                reason: str) -> IncidentView:
    """Narrow an asset of the incident's project (never widen: that needs a decision, not an incident)."""
    reason = clean_text(reason, "Reason", max_length=2000)
    target = tiers.parse_tier(tier)
    project = _open_incident_for_action(rt, actor, org_slug, incident_id)
    with rt.read() as session:
        asset = session.scalar(select(Asset).where(Asset.project_id == project.id, Asset.slug == asset_slug))
        if asset is None:
            raise NotFound(f"No asset '{asset_slug}' in {project.name}.")
        current = Tier(asset.current_tier)
    if not current.wider_than(target):
        raise InvalidInput(f"'{asset_slug}' is at {current.value}; an incident can only narrow it to a tier "
                           "narrower than that.", field="tier")
    tiers.set_asset_tier(rt, actor, org_slug, project.slug, asset_slug, target.value,
                         reason=f"Incident #{incident_id}: {reason}")
    return _record_action(rt, actor, org_slug, incident_id, "tier_narrowed",
                          f"{asset_slug}: {current.value} → {target.value}", reason)


def pause_plan(rt: Runtime, actor: Actor, org_slug: str, incident_id: int, *, reason: str) -> IncidentView:
    """Pause the project's release plan (through the plans service)."""
    reason = clean_text(reason, "Reason", max_length=2000)
    project = _open_incident_for_action(rt, actor, org_slug, incident_id)
    plans.set_status(rt, actor, org_slug, project.slug, "paused")
    return _record_action(rt, actor, org_slug, incident_id, "plan_paused", f"release plan of {project.name}",
                          reason)


def notify_partners(rt: Runtime, actor: Actor, org_slug: str, incident_id: int, *, message: str) -> IncidentView:
    """Tell the disclosure partners of the project's cases, in each party's private thread
    (``disclosure.lab_message``: email and webhooks once they have accepted the embargo).

    The message names the incident, its harm and severity, never reporters or evidence.
    """
    message = clean_text(message, "Message", max_length=5000)
    project = _open_incident_for_action(rt, actor, org_slug, incident_id)
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_manage)
        incident = _load_incident(session, org, incident_id)
        heading = (f"Misuse incident #{incident.id} on {project.name}: {incident.title} "
                   f"({rules.HARM_LABELS[rules.HarmCategory(incident.harm_category)]}, severity {incident.severity}/5)")
    targets = [(case.id, party.id) for summary in disclosure.list_cases(rt, actor, org_slug)
               if summary.project_slug == project.slug
               for case in [disclosure.get_case(rt, actor, org_slug, summary.id)]
               for party in case.parties if party.state not in ("declined", "not_relevant")]
    if not targets:
        raise Conflict(f"{project.name} has no disclosure partners to notify. Open a disclosure case and invite "
                       "parties first.")
    for case_id, party_id in targets:
        disclosure.lab_message(rt, actor, org_slug, case_id, party_id=party_id, body=f"{heading}\n\n{message}")
    cases = len({c for c, _ in targets})
    return _record_action(rt, actor, org_slug, incident_id, "partners_notified",
                          f"{len(targets)} parties in {cases} disclosure case(s)", message)


# Export (AI Incident Database submission fields) -------------------------------------------------

AIID_FIELDS = ("title", "description", "incident_date", "date_published", "url", "source_domain", "text",
               "deployers", "developers", "harmed_parties", "implicated_systems", "submitters", "tags",
               "language")


def export_rows(rt: Runtime, actor: Actor, org_slug: str) -> list[dict[str, str]]:
    """One row per incident in the AIID submission form's fields. No reporter identity, no evidence."""
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_view)
        incidents = session.scalars(select(Incident).where(Incident.org_id == org.id).order_by(Incident.id)).all()
        rows = []
        for i in incidents:
            project = session.get(Project, i.project_id)
            assert project is not None
            reports = session.scalars(select(MisuseReport).where(MisuseReport.incident_id == i.id)
                                      .order_by(MisuseReport.id)).all()
            urls = [u for r in reports for u in r.urls]
            observed = [r.observed_at or r.created_at for r in reports] or [i.created_at]
            first_url = urls[0] if urls else ""
            rows.append({
                "title": i.title,
                "description": i.description or i.title,
                "incident_date": min(observed).date().isoformat(),
                "date_published": i.created_at.date().isoformat(),
                "url": first_url,
                "source_domain": urlsplit(first_url).hostname or "" if first_url else "",
                "text": "\n\n".join([i.description] + [f"Also seen at: {u}" for u in urls[1:]]).strip(),
                "deployers": "unknown",
                "developers": org.name,
                "harmed_parties": rules.HARM_LABELS[rules.HarmCategory(i.harm_category)],
                "implicated_systems": project.name,
                "submitters": org.name,
                "tags": f"{i.harm_category};severity-{i.severity};{i.status}",
                "language": "en",
            })
        record(session, rt, actor, org.id, "incident.exported", "org", org.slug, {"incidents": len(rows)})
        return rows


def export(rt: Runtime, actor: Actor, org_slug: str, fmt: str) -> tuple[str, str]:
    """(media type, body) of the AIID export as ``json`` or ``csv``."""
    if fmt not in ("json", "csv"):
        raise InvalidInput("Export format must be json or csv.", field="format")
    rows = export_rows(rt, actor, org_slug)
    if fmt == "json":
        return "application/json", json.dumps(rows, indent=2, ensure_ascii=False)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=AIID_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("'" + v if v[:1] in ("=", "+", "-", "@") else v) for k, v in row.items()})
    return "text/csv", out.getvalue()


# Dashboard ---------------------------------------------------------------------------------------

AGE_BUCKETS = (("under 1 day", 1), ("1–7 days", 7), ("7–30 days", 30), ("over 30 days", 10**6))


def dashboard(rt: Runtime, actor: Actor, org_slug: str) -> DashboardView:
    now = rt.clock.now()
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_view)
        created = session.scalars(select(MisuseReport.created_at).where(
            MisuseReport.org_id == org.id,
            MisuseReport.status.in_([s.value for s in rules.OPEN_REPORT_STATUSES]))).all()
        by_age = {label: 0 for label, _ in AGE_BUCKETS}
        for at in created:
            days = (now - at).total_seconds() / 86400
            label = next(label for label, limit in AGE_BUCKETS if days < limit)
            by_age[label] += 1
        counts = session.execute(select(Incident.severity, func.count()).where(
            Incident.org_id == org.id, Incident.status == rules.IncidentStatus.open.value)
            .group_by(Incident.severity)).all()
        by_severity = {s: 0 for s in range(5, 0, -1)}
        for severity, count in counts:
            by_severity[int(severity)] = int(count)
        return DashboardView(by_age, by_severity)
