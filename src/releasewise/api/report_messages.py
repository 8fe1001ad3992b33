"""REST routes for the thread between responders and a misuse reporter.

The reporter's side (``/reports/followup/messages``) is opened by the secret of their private
follow-up link in ``X-Report-Token``, like ``GET /reports/followup``; no account is needed and
none is named. The responders' side lives under ``/orgs/{org}/reports/{id}/messages``.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import Field

from releasewise.api.deps import ActorDep, RuntimeDep
from releasewise.api.incidents import EvidenceIn, EvidenceOut, ReportToken, decode_evidence
from releasewise.api.schemas import Id, Out, StrictModel
from releasewise.errors import NotAuthenticated
from releasewise.services import report_messages as svc

router = APIRouter(prefix="/api/v1", tags=["incidents"])


class MessageOut(Out):
    id: int
    sender: str = Field(description="responder or reporter")
    author: str = Field(description="Responders see who wrote; the reporter sees the organisation's name or 'you'")
    body: str
    evidence: list[EvidenceOut]
    emailed: int = Field(description="Emails sent: to the reporter, or telling responders of a reply")
    created_at: datetime


class MessageIn(StrictModel):
    body: str = Field(min_length=1, max_length=svc.MAX_MESSAGE_CHARS)


class ReplyIn(StrictModel):
    body: str = Field(min_length=1, max_length=svc.MAX_MESSAGE_CHARS)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=5)


def _token(value: str | None) -> str:
    if not value or not value.strip():
        raise NotAuthenticated("Send the secret from your private follow-up link as 'X-Report-Token'.")
    return value.strip()


# The reporter ------------------------------------------------------------------------------------

@router.get("/reports/followup/messages", response_model=list[MessageOut])
def reporter_thread(rt: RuntimeDep, x_report_token: ReportToken = None) -> list[MessageOut]:
    """The thread as the reporter sees it (responders appear as the organisation)."""
    return [MessageOut.model_validate(m) for m in svc.reporter_thread(rt, _token(x_report_token)).messages]


@router.post("/reports/followup/messages", response_model=MessageOut, status_code=status.HTTP_201_CREATED)
def reporter_reply(body: ReplyIn, rt: RuntimeDep, x_report_token: ReportToken = None) -> MessageOut:
    """Reply to the organisation, optionally with more evidence (checked by content, as at filing)."""
    token = _token(x_report_token)
    return MessageOut.model_validate(svc.reply_as_reporter(rt, token, body=body.body,
                                                           evidence=[decode_evidence(e) for e in body.evidence]))


# Responders --------------------------------------------------------------------------------------

@router.get("/orgs/{org}/reports/{report_id}/messages", response_model=list[MessageOut])
def thread(org: str, report_id: Id, rt: RuntimeDep, actor: ActorDep) -> list[MessageOut]:
    return [MessageOut.model_validate(m) for m in svc.thread(rt, actor, org, report_id)]


@router.post("/orgs/{org}/reports/{report_id}/messages", response_model=MessageOut,
             status_code=status.HTTP_201_CREATED)
def send(org: str, report_id: Id, body: MessageIn, rt: RuntimeDep, actor: ActorDep) -> MessageOut:
    """Write to the reporter: on their follow-up page while the link lasts, and by email where they left one."""
    return MessageOut.model_validate(svc.send_to_reporter(rt, actor, org, report_id, body=body.body))
