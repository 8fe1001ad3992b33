"""REST routes for coordinated disclosure: the registry, cases, parties, webhooks.

Lab members authenticate with personal API tokens. Parties (people outside the lab)
authenticate with their private link's secret in the ``X-Party-Token`` header.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from releasewise.api.deps import ActorDep, RuntimeDep
from releasewise.api.schemas import MAX_ID, Id, Out, StrictModel
from releasewise.domain.disclosure import parse_instant
from releasewise.errors import NotAuthenticated
from releasewise.services import disclosure as svc

router = APIRouter(prefix="/api/v1", tags=["disclosure"])
C = "/orgs/{org}/disclosure/{case_id}"
Instant = Annotated[str, Field(min_length=10, max_length=40,
                               description="ISO 8601 with a timezone, e.g. 2026-12-01T09:00:00Z")]


class ContactIn(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=254)
    pgp_key: str = Field(default="", max_length=20000)


class StakeholderIn(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    type: str = Field(max_length=30)
    interests: list[str] = Field(default_factory=list, max_length=20)
    shared: bool = False
    note: str = Field(default="", max_length=2000)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=10)


class ContactOut(Out):
    id: int
    name: str
    email: str
    has_pgp_key: bool


class StakeholderOut(Out):
    id: int
    name: str
    type: str
    interests: list[str]
    note: str
    shared: bool
    editable: bool
    contacts: list[ContactOut]


class CaseIn(StrictModel):
    project: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    briefing_md: str = Field(min_length=1, max_length=100_000)
    embargo_ends_at: Instant
    stage_key: str | None = Field(default=None, max_length=60)
    assets: list[str] = Field(default_factory=list, max_length=50)


class PartyOut(Out):
    id: int
    stakeholder_id: int
    name: str
    type: str
    state: str
    column: str
    respond_by: datetime
    invited_at: datetime
    state_changed_at: datetime
    contacts: list[str]
    access_until: datetime | None = None


class MessageOut(Out):
    id: int
    party_id: int | None
    party_name: str
    author_kind: str
    author_label: str
    body: str
    created_at: datetime
    shared: bool


class TimeRequestOut(Out):
    id: int
    party_id: int
    party_name: str
    reason: str
    requested_until: datetime
    status: str
    created_at: datetime
    decision_note: str


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class CaseOut(Out):
    id: int
    org_slug: str
    project_slug: str
    project_name: str
    title: str
    briefing_md: str
    embargo_ends_at: datetime = Field(description="UTC")
    stage_key: str | None
    assets: list[str]
    status: str
    public_summary: str
    created_at: datetime
    published_at: datetime | None
    parties: list[PartyOut]
    attachments: list[AttachmentOut]
    messages: list[MessageOut]
    time_requests: list[TimeRequestOut]
    board: dict[str, list[str]]


class InviteIn(StrictModel):
    stakeholder_id: int = Field(ge=1, le=MAX_ID)
    respond_by: Instant


class InviteOut(BaseModel):
    party: PartyOut
    invited: list[str] = Field(description="Contacts emailed a private link (links are only in the emails)")


class MessageIn(StrictModel):
    party_id: int = Field(ge=1, le=MAX_ID)
    body: str = Field(min_length=1, max_length=20000)


class ExtendIn(StrictModel):
    new_end: Instant
    reason: str = Field(min_length=1, max_length=5000)


class TimeDecisionIn(StrictModel):
    extend: bool
    note: str = Field(default="", max_length=5000)
    new_end: Instant | None = None


class PublishIn(StrictModel):
    public_summary: str = Field(default="", max_length=20000)


class AttachmentIn(StrictModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(default="text/plain", max_length=100)
    text: str = Field(min_length=1, max_length=1_000_000, description="Text attachments; upload files in the web UI")


class WebhookIn(StrictModel):
    url: str = Field(min_length=8, max_length=500)
    stakeholder_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class WebhookOut(Out):
    id: int
    url: str
    stakeholder: str | None
    created_at: datetime
    disabled: bool


class NewWebhookOut(BaseModel):
    webhook: WebhookOut
    secret: str = Field(description="Shown once; verify X-Releasewise-Signature with it")


class DeliveryOut(Out):
    id: int
    endpoint_id: int
    url: str
    event_type: str
    idempotency_key: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime


class PartyCaseOut(Out):
    case_id: int
    party_name: str
    contact_name: str
    org_name: str
    project_name: str
    title: str
    embargo_ends_at: datetime
    status: str
    state: str
    respond_by: datetime
    briefed: bool
    briefing_md: str | None
    assets: list[str]
    attachments: list[AttachmentOut]
    messages: list[MessageOut]
    time_requests: list[TimeRequestOut]
    choices: list[str]


class PartyStateIn(StrictModel):
    state: Literal["accepted", "declined", "reviewing", "ready", "not_relevant", "concerns_raised"]


class PartyMessageIn(StrictModel):
    body: str = Field(min_length=1, max_length=20000)


class PartyTimeIn(StrictModel):
    reason: str = Field(min_length=1, max_length=5000)
    until: Instant


# Registry -----------------------------------------------------------------------------------------

@router.get("/orgs/{org}/stakeholders", response_model=list[StakeholderOut])
def list_stakeholders(org: str, rt: RuntimeDep, actor: ActorDep) -> list[StakeholderOut]:
    return [StakeholderOut.model_validate(s) for s in svc.list_stakeholders(rt, actor, org)]


@router.post("/orgs/{org}/stakeholders", response_model=StakeholderOut, status_code=status.HTTP_201_CREATED)
def add_stakeholder(org: str, body: StakeholderIn, rt: RuntimeDep, actor: ActorDep) -> StakeholderOut:
    view = svc.add_stakeholder(rt, actor, org, name=body.name, type=body.type, interests=body.interests,
                               shared=body.shared, note=body.note,
                               contacts=[(c.name, c.email, c.pgp_key) for c in body.contacts])
    return StakeholderOut.model_validate(view)


@router.post("/orgs/{org}/stakeholders/{stakeholder_id}/contacts", response_model=StakeholderOut,
             status_code=status.HTTP_201_CREATED)
def add_contact(org: str, stakeholder_id: Id, body: ContactIn, rt: RuntimeDep, actor: ActorDep) -> StakeholderOut:
    view = svc.add_contact(rt, actor, org, stakeholder_id, name=body.name, email=body.email, pgp_key=body.pgp_key)
    return StakeholderOut.model_validate(view)


# Cases ------------------------------------------------------------------------------------------------

@router.get("/orgs/{org}/disclosure", response_model=list[CaseOut])
def list_cases(org: str, rt: RuntimeDep, actor: ActorDep) -> list[CaseOut]:
    return [CaseOut.model_validate(c) for c in svc.list_cases(rt, actor, org)]


@router.post("/orgs/{org}/disclosure", response_model=CaseOut, status_code=status.HTTP_201_CREATED)
def open_case(org: str, body: CaseIn, rt: RuntimeDep, actor: ActorDep) -> CaseOut:
    ends = _instant(body.embargo_ends_at, "embargo_ends_at")
    view = svc.open_case(rt, actor, org, body.project, title=body.title, briefing_md=body.briefing_md,
                         embargo_ends_at=ends, stage_key=body.stage_key, assets=body.assets)
    return CaseOut.model_validate(view)


def _instant(text: str, field: str) -> datetime:
    return parse_instant(text, field).replace(tzinfo=UTC)


@router.get(C, response_model=CaseOut)
def get_case(org: str, case_id: Id, rt: RuntimeDep, actor: ActorDep) -> CaseOut:
    return CaseOut.model_validate(svc.get_case(rt, actor, org, case_id))


@router.post(C + "/parties", response_model=InviteOut, status_code=status.HTTP_201_CREATED)
def invite(org: str, case_id: Id, body: InviteIn, rt: RuntimeDep, actor: ActorDep) -> InviteOut:
    party, links = svc.invite(rt, actor, org, case_id, stakeholder_id=body.stakeholder_id,
                              respond_by=_instant(body.respond_by, "respond_by"))
    return InviteOut(party=PartyOut.model_validate(party), invited=[email for email, _ in links])


@router.post(C + "/messages", response_model=MessageOut, status_code=status.HTTP_201_CREATED)
def post_message(org: str, case_id: Id, body: MessageIn, rt: RuntimeDep, actor: ActorDep) -> MessageOut:
    return MessageOut.model_validate(svc.lab_message(rt, actor, org, case_id, party_id=body.party_id, body=body.body))


@router.post(C + "/messages/{message_id}/share", response_model=MessageOut)
def share_message(org: str, case_id: Id, message_id: Id, rt: RuntimeDep, actor: ActorDep) -> MessageOut:
    return MessageOut.model_validate(svc.share_message(rt, actor, org, case_id, message_id))


@router.post(C + "/extend", response_model=CaseOut)
def extend(org: str, case_id: Id, body: ExtendIn, rt: RuntimeDep, actor: ActorDep) -> CaseOut:
    view = svc.extend_embargo(rt, actor, org, case_id, new_end=_instant(body.new_end, "new_end"), reason=body.reason)
    return CaseOut.model_validate(view)


@router.post(C + "/time-requests/{request_id}", response_model=CaseOut)
def decide_time(org: str, case_id: Id, request_id: Id, body: TimeDecisionIn, rt: RuntimeDep,
                actor: ActorDep) -> CaseOut:
    end = _instant(body.new_end, "new_end") if body.new_end else None
    return CaseOut.model_validate(svc.decide_time_request(rt, actor, org, case_id, request_id, extend=body.extend,
                                                          note=body.note, new_end=end))


@router.post(C + "/publish", response_model=CaseOut)
def publish(org: str, case_id: Id, body: PublishIn, rt: RuntimeDep, actor: ActorDep) -> CaseOut:
    return CaseOut.model_validate(svc.publish(rt, actor, org, case_id, public_summary=body.public_summary))


@router.post(C + "/attachments", response_model=AttachmentOut, status_code=status.HTTP_201_CREATED)
def add_attachment(org: str, case_id: Id, body: AttachmentIn, rt: RuntimeDep, actor: ActorDep) -> AttachmentOut:
    view = svc.add_attachment(rt, actor, org, case_id, filename=body.filename, content_type=body.content_type,
                              data=body.text.encode())
    return AttachmentOut.model_validate(view)


# Webhooks -------------------------------------------------------------------------------------------

@router.get("/orgs/{org}/webhooks", response_model=list[WebhookOut])
def list_webhooks(org: str, rt: RuntimeDep, actor: ActorDep) -> list[WebhookOut]:
    return [WebhookOut.model_validate(w) for w in svc.list_webhooks(rt, actor, org)]


@router.post("/orgs/{org}/webhooks", response_model=NewWebhookOut, status_code=status.HTTP_201_CREATED)
def add_webhook(org: str, body: WebhookIn, rt: RuntimeDep, actor: ActorDep) -> NewWebhookOut:
    view, secret = svc.add_webhook(rt, actor, org, url=body.url, stakeholder_id=body.stakeholder_id)
    return NewWebhookOut(webhook=WebhookOut.model_validate(view), secret=secret)


@router.delete("/orgs/{org}/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def disable_webhook(org: str, webhook_id: Id, rt: RuntimeDep, actor: ActorDep) -> Response:
    svc.disable_webhook(rt, actor, org, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/orgs/{org}/webhooks/deliveries", response_model=list[DeliveryOut])
def deliveries(org: str, rt: RuntimeDep, actor: ActorDep) -> list[DeliveryOut]:
    return [DeliveryOut.model_validate(d) for d in svc.list_deliveries(rt, actor, org)]


# The party side -------------------------------------------------------------------------------------

def _party_token(value: str | None) -> str:
    if not value or not value.strip():
        raise NotAuthenticated("Send the secret from your private disclosure link as 'X-Party-Token'.")
    return value.strip()


PartyToken = Annotated[str | None, Header(alias="X-Party-Token")]


@router.get("/party/case", response_model=PartyCaseOut)
def party_case(rt: RuntimeDep, x_party_token: PartyToken = None) -> PartyCaseOut:
    return PartyCaseOut.model_validate(svc.party_view(rt, _party_token(x_party_token)))


class AccessGrantIn(StrictModel):
    until: str = Field(min_length=10, max_length=40, description="ISO 8601 instant with a timezone")


@router.post(C + "/parties/{party_id}/access", response_model=PartyOut)
def grant_party_access(org: str, case_id: Id, party_id: Id, body: AccessGrantIn, rt: RuntimeDep,
                       actor: ActorDep) -> PartyOut:
    """Keep a party's access to the case's assets after publication, until ``until`` (a past date ends it)."""
    view = svc.grant_party_access(rt, actor, org, case_id, party_id, until=parse_instant(body.until, "until"))
    return PartyOut.model_validate(view)


class PartyFileOut(Out):
    asset: str
    version: int
    path: str
    size: int
    sha256: str


@router.get("/party/files", response_model=list[PartyFileOut])
def party_files(rt: RuntimeDep, x_party_token: PartyToken = None) -> list[PartyFileOut]:
    """Pre-release files shared with your party until the embargo lifts (after you accept it)."""
    return [PartyFileOut.model_validate(f) for f in svc.party_files(rt, _party_token(x_party_token))]


@router.get("/party/files/{asset}/{path:path}")
def party_file(asset: str, path: str, rt: RuntimeDep, x_party_token: PartyToken = None) -> FileResponse:
    """Download one shared file; every download is logged for the lab."""
    shared, blob = svc.party_file(rt, _party_token(x_party_token), asset, path)
    return FileResponse(blob, media_type="application/octet-stream", filename=shared.path.rsplit("/", 1)[-1],
                        headers={"Cache-Control": "no-store", "ETag": f'"{shared.sha256}"'})


@router.post("/party/state", response_model=PartyCaseOut)
def party_state(body: PartyStateIn, rt: RuntimeDep, x_party_token: PartyToken = None) -> PartyCaseOut:
    return PartyCaseOut.model_validate(svc.party_set_state(rt, _party_token(x_party_token), body.state))


@router.post("/party/messages", response_model=PartyCaseOut, status_code=status.HTTP_201_CREATED)
def party_message(body: PartyMessageIn, rt: RuntimeDep, x_party_token: PartyToken = None) -> PartyCaseOut:
    return PartyCaseOut.model_validate(svc.party_message(rt, _party_token(x_party_token), body.body))


@router.post("/party/time-requests", response_model=PartyCaseOut, status_code=status.HTTP_201_CREATED)
def party_time(body: PartyTimeIn, rt: RuntimeDep, x_party_token: PartyToken = None) -> PartyCaseOut:
    view = svc.party_request_time(rt, _party_token(x_party_token), reason=body.reason,
                                  until=_instant(body.until, "until"))
    return PartyCaseOut.model_validate(view)
