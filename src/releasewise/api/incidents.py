"""REST routes for misuse reports and incidents.

Filing (``POST /reports``) is open to anyone: a bearer token is optional and, when
sent, names the reporter to the organisation's responders. A reporter follows up
with the secret of their private link in the ``X-Report-Token`` header. Everything
under ``/orgs/{org}/reports`` and ``/orgs/{org}/incidents`` is for responders.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import Field

from releasewise.api.deps import RuntimeDep, client_ip, get_actor
from releasewise.api.deps import ActorDep
from releasewise.api.schemas import MAX_ID, Id, Out, StrictModel
from releasewise.domain.disclosure import parse_instant
from releasewise.domain.incidents import HarmCategory
from releasewise.errors import InvalidInput, NotAuthenticated
from releasewise.services import incidents as svc
from releasewise.services.runtime import Actor, Runtime

router = APIRouter(prefix="/api/v1", tags=["incidents"])
R = "/orgs/{org}/reports"
INC = "/orgs/{org}/incidents"


def optional_actor(request: Request, rt: RuntimeDep) -> Actor | None:
    """Reports may be filed anonymously; a sent token must still be valid."""
    if not request.headers.get("authorization", "").strip():
        return None
    return get_actor(request, rt)


MaybeActor = Annotated[Actor | None, Depends(optional_actor)]
ReportToken = Annotated[str | None, Header(alias="X-Report-Token")]


class ChallengeOut(Out):
    challenge: str
    bits: int


class EvidenceIn(StrictModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=1, max_length=100)
    data_base64: str = Field(min_length=1, max_length=30_000_000)


class ReportIn(StrictModel):
    org: str = Field(min_length=1, max_length=40)
    project: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=20_000)
    harm_category: Annotated[HarmCategory, Field(strict=False)]
    urls: list[str] = Field(default_factory=list, max_length=20)
    observed_at: str | None = Field(default=None, min_length=10, max_length=40,
                                    description="ISO 8601 with a timezone, e.g. 2026-11-20T09:00:00Z")
    contact: str = Field(default="", max_length=254, description="Optional email for questions from the lab")
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=5)
    challenge: str = Field(min_length=1, max_length=200, description="From GET /api/v1/reports/challenge")
    solution: str = Field(min_length=1, max_length=64)


class FiledOut(Out):
    report_id: int
    followup_token: str
    followup_url: str
    followup_expires_at: datetime


class FollowupOut(Out):
    project_name: str
    org_name: str
    harm_category: str
    status: str
    filed_at: datetime
    updated_at: datetime
    expires_at: datetime
    evidence_files: int


class EvidenceOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class ReportOut(Out):
    id: int
    org_slug: str
    project_slug: str
    project_name: str
    status: str
    severity: int | None
    harm_category: str
    description: str
    urls: list[str]
    observed_at: datetime | None
    reporter: str
    reporter_contact: str
    incident_id: int | None
    duplicate_of_id: int | None
    created_at: datetime
    updated_at: datetime
    age_days: int
    evidence: list[EvidenceOut]
    next_statuses: list[str]


class TriageIn(StrictModel):
    status: Literal["triaged", "confirmed", "not_misuse", "resolved"] | None = None
    severity: int | None = Field(default=None, ge=1, le=5)


class MergeIn(StrictModel):
    duplicate_of: int = Field(ge=1, le=MAX_ID)


class ActionOut(Out):
    id: int
    kind: str
    target: str
    note: str
    actor: str
    created_at: datetime


class IncidentOut(Out):
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
    reports: list[ReportOut]
    actions: list[ActionOut]


class IncidentIn(StrictModel):
    report_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    severity: int = Field(ge=1, le=5)
    description: str = Field(default="", max_length=20_000)


class LinkIn(StrictModel):
    report_id: int = Field(ge=1, le=MAX_ID)


class IncidentUpdateIn(StrictModel):
    severity: int | None = Field(default=None, ge=1, le=5)
    resolve: bool = False
    note: str = Field(default="", max_length=5000)


class RevokeIn(StrictModel):
    grant_id: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=2000)


class NarrowIn(StrictModel):
    asset: str = Field(min_length=1, max_length=40)
    tier: str = Field(min_length=1, max_length=30)
    reason: str = Field(min_length=1, max_length=2000)


class PauseIn(StrictModel):
    reason: str = Field(min_length=1, max_length=2000)


class NotifyIn(StrictModel):
    message: str = Field(min_length=1, max_length=5000)


class DashboardOut(Out):
    open_reports_by_age: dict[str, int]
    open_incidents_by_severity: dict[int, int]


def decode_evidence(item: EvidenceIn) -> tuple[str, str, bytes]:
    try:
        return item.filename, item.content_type, base64.b64decode(item.data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"Evidence '{item.filename}' is not valid base64.", field="evidence") from None


def followup_url(rt: Runtime, token: str) -> str:
    return rt.settings.base_url.rstrip("/") + svc.FOLLOWUP_LINK_PATH + token


# Anyone ------------------------------------------------------------------------------------------

@router.get("/reports/challenge", response_model=ChallengeOut)
def challenge(rt: RuntimeDep) -> ChallengeOut:
    """A proof-of-work challenge: find ``solution`` so SHA-256(challenge ":" solution) starts with ``bits`` zero bits."""
    return ChallengeOut.model_validate(svc.challenge(rt))


@router.post("/reports", response_model=FiledOut, status_code=status.HTTP_201_CREATED)
def file_report(body: ReportIn, request: Request, rt: RuntimeDep, actor: MaybeActor) -> FiledOut:
    observed = parse_instant(body.observed_at, "observed_at").replace(tzinfo=UTC) if body.observed_at else None
    filed = svc.submit_report(rt, actor, body.org, body.project, description=body.description,
                              harm_category=body.harm_category.value, urls=body.urls, observed_at=observed,
                              contact=body.contact, evidence=[decode_evidence(e) for e in body.evidence],
                              challenge=body.challenge, solution=body.solution, ip=client_ip(request))
    return FiledOut(report_id=filed.report_id, followup_token=filed.followup_token,
                    followup_url=followup_url(rt, filed.followup_token),
                    followup_expires_at=filed.followup_expires_at)


@router.get("/reports/followup", response_model=FollowupOut)
def followup(rt: RuntimeDep, x_report_token: ReportToken = None) -> FollowupOut:
    if not x_report_token or not x_report_token.strip():
        raise NotAuthenticated("Send the secret from your private follow-up link as 'X-Report-Token'.")
    return FollowupOut.model_validate(svc.followup(rt, x_report_token.strip()))


# Responders --------------------------------------------------------------------------------------

@router.get(R, response_model=list[ReportOut])
def list_reports(org: str, rt: RuntimeDep, actor: ActorDep,
                 status_: Annotated[str, Query(alias="status", max_length=20)] = "") -> list[ReportOut]:
    return [ReportOut.model_validate(r) for r in svc.list_reports(rt, actor, org, status=status_)]


@router.get(R + "/{report_id}", response_model=ReportOut)
def get_report(org: str, report_id: Id, rt: RuntimeDep, actor: ActorDep) -> ReportOut:
    return ReportOut.model_validate(svc.get_report(rt, actor, org, report_id))


@router.get(R + "/{report_id}/evidence/{evidence_id}")
def evidence(org: str, report_id: Id, evidence_id: Id, rt: RuntimeDep, actor: ActorDep) -> Response:
    view, data = svc.get_evidence(rt, actor, org, report_id, evidence_id)
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="evidence-{view.id}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store", "X-Evidence-Content-Type": view.content_type})


@router.post(R + "/{report_id}/triage", response_model=ReportOut)
def triage(org: str, report_id: Id, body: TriageIn, rt: RuntimeDep, actor: ActorDep) -> ReportOut:
    return ReportOut.model_validate(svc.triage(rt, actor, org, report_id, status=body.status,
                                               severity=body.severity))


@router.post(R + "/{report_id}/merge", response_model=ReportOut)
def merge(org: str, report_id: Id, body: MergeIn, rt: RuntimeDep, actor: ActorDep) -> ReportOut:
    return ReportOut.model_validate(svc.merge_duplicate(rt, actor, org, report_id, duplicate_of=body.duplicate_of))


@router.get(INC + "/export")
def export(org: str, rt: RuntimeDep, actor: ActorDep,
           format: Annotated[Literal["json", "csv"], Query()] = "json") -> Response:
    """Incidents in the AI Incident Database's submission fields (no reporter identities, no evidence)."""
    media, body = svc.export(rt, actor, org, format)
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{org}-incidents-aiid.{format}"'})


@router.get(INC + "/dashboard", response_model=DashboardOut)
def dashboard(org: str, rt: RuntimeDep, actor: ActorDep) -> DashboardOut:
    return DashboardOut.model_validate(svc.dashboard(rt, actor, org))


@router.get(INC, response_model=list[IncidentOut])
def list_incidents(org: str, rt: RuntimeDep, actor: ActorDep) -> list[IncidentOut]:
    return [IncidentOut.model_validate(i) for i in svc.list_incidents(rt, actor, org)]


@router.post(INC, response_model=IncidentOut, status_code=status.HTTP_201_CREATED)
def open_incident(org: str, body: IncidentIn, rt: RuntimeDep, actor: ActorDep) -> IncidentOut:
    return IncidentOut.model_validate(svc.open_incident(rt, actor, org, report_ids=body.report_ids, title=body.title,
                                                        severity=body.severity, description=body.description))


@router.get(INC + "/{incident_id}", response_model=IncidentOut)
def get_incident(org: str, incident_id: Id, rt: RuntimeDep, actor: ActorDep) -> IncidentOut:
    return IncidentOut.model_validate(svc.get_incident(rt, actor, org, incident_id))


@router.post(INC + "/{incident_id}", response_model=IncidentOut)
def update_incident(org: str, incident_id: Id, body: IncidentUpdateIn, rt: RuntimeDep,
                    actor: ActorDep) -> IncidentOut:
    return IncidentOut.model_validate(svc.update_incident(rt, actor, org, incident_id, severity=body.severity,
                                                          resolve=body.resolve, note=body.note))


@router.post(INC + "/{incident_id}/reports", response_model=IncidentOut)
def link_report(org: str, incident_id: Id, body: LinkIn, rt: RuntimeDep, actor: ActorDep) -> IncidentOut:
    return IncidentOut.model_validate(svc.link_report(rt, actor, org, incident_id, body.report_id))


@router.post(INC + "/{incident_id}/actions/revoke-grant", response_model=IncidentOut)
def revoke_grant(org: str, incident_id: Id, body: RevokeIn, rt: RuntimeDep, actor: ActorDep) -> IncidentOut:
    return IncidentOut.model_validate(svc.revoke_grant(rt, actor, org, incident_id, body.grant_id,
                                                       reason=body.reason))


@router.post(INC + "/{incident_id}/actions/narrow-tier", response_model=IncidentOut)
def narrow_tier(org: str, incident_id: Id, body: NarrowIn, rt: RuntimeDep, actor: ActorDep) -> IncidentOut:
    return IncidentOut.model_validate(svc.narrow_tier(rt, actor, org, incident_id, body.asset, body.tier,
                                                      reason=body.reason))


@router.post(INC + "/{incident_id}/actions/pause-plan", response_model=IncidentOut)
def pause_plan(org: str, incident_id: Id, body: PauseIn, rt: RuntimeDep, actor: ActorDep) -> IncidentOut:
    return IncidentOut.model_validate(svc.pause_plan(rt, actor, org, incident_id, reason=body.reason))


@router.post(INC + "/{incident_id}/actions/notify-partners", response_model=IncidentOut)
def notify_partners(org: str, incident_id: Id, body: NotifyIn, rt: RuntimeDep, actor: ActorDep) -> IncidentOut:
    return IncidentOut.model_validate(svc.notify_partners(rt, actor, org, incident_id, message=body.message))
