"""REST routes for provenance: the detection service, marking outputs, watermark keys, detection settings,
and the public certificates that make content credentials checkable.

Files travel as the raw request body (``curl --data-binary @photo.jpg``) or as a multipart field named
``file`` (``curl -F file=@photo.jpg``). Bodies are read with a running size check, so an oversized upload is
refused with 413 before it is buffered; the type is judged from the content (``domain/detection.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response

from releasewise.api.deps import ActorDep, RuntimeDep
from releasewise.api.schemas import Id, Out, StrictModel
from releasewise.domain import detection as rules
from releasewise.errors import InvalidInput
from releasewise.services import detection, evidence_checks, provenance
from releasewise.services.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["provenance"])

FILE_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                       "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


async def read_file(request: Request, rt: Runtime) -> tuple[bytes, str]:
    """The uploaded file and its name, refusing bodies over the limit while they stream in."""
    limit = rt.settings.detection_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        rules.check_size(max(int(declared), 1), limit + 64 * 1024)  # room for multipart framing
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("Send the file in a multipart field named 'file'.", field="file")
        data = await upload.read(limit + 1)
        name = upload.filename or ""
    else:
        chunks, size = [], 0
        async for piece in request.stream():
            size += len(piece)
            if size > limit:
                break
            chunks.append(piece)
        data, name = b"".join(chunks), request.query_params.get("filename", "")
        if size > limit:
            rules.check_size(size, limit)
    rules.check_size(len(data), limit)
    return data, name[:200]


# -- the detection service ----------------------------------------------------------------------------------
class GrantOut(Out):
    id: int
    grantee: str
    state: str


class WatermarkOut(Out):
    checked: bool
    detected: bool
    keys_checked: int
    p_value: float | None
    visibility: str | None
    organisation: str | None
    organisation_name: str | None
    project: str | None
    model: str | None
    release: str | None
    grant: GrantOut | None
    note: str


class RecoveredOut(Out):
    signer: str
    organisation: str
    model: str
    release: str
    signed_at: str
    media_type: str
    content_sha256: str


class CredentialOut(StrictModel):
    status: str
    signer: str
    issuer: str
    generator: dict[str, str] | None
    digital_source_type: str
    soft_binding: str | None
    claim_generator: str
    problems: list[str]


class VerdictOut(Out):
    check_id: int
    media_type: str
    size: int
    sha256: str
    credential: CredentialOut
    watermark: WatermarkOut
    recovered: RecoveredOut | None
    summary: str


def verdict_out(verdict: detection.DetectionVerdict) -> VerdictOut:
    return VerdictOut(check_id=verdict.check_id, media_type=verdict.media_type, size=verdict.size,
                      sha256=verdict.sha256, credential=CredentialOut(**verdict.credential),
                      watermark=WatermarkOut.model_validate(verdict.watermark),
                      recovered=RecoveredOut.model_validate(verdict.recovered) if verdict.recovered else None,
                      summary=verdict.summary)


@router.post("/detect", response_model=VerdictOut, openapi_extra=FILE_BODY)
async def detect(request: Request, rt: RuntimeDep, actor: ActorDep) -> VerdictOut:
    """Check one file: its content credential, and whether it carries a watermark you may trace."""
    data, name = await read_file(request, rt)
    verdict = await run_in_threadpool(detection.detect, rt, actor, data, filename=name)
    return verdict_out(verdict)


# -- marking ------------------------------------------------------------------------------------------------
@router.post("/orgs/{org}/projects/{project}/outputs", openapi_extra=FILE_BODY,
             responses={200: {"content": {"application/octet-stream": {}}}})
async def mark(org: str, project: str, request: Request, rt: RuntimeDep, actor: ActorDep,
               model: Annotated[str, Query(min_length=1, max_length=40)],
               release: Annotated[str, Query(min_length=1, max_length=100)],
               grant: Annotated[int, Query(ge=0, le=2**24 - 1)] = 0,
               watermark: bool = True, credential: bool = True) -> Response:
    """Watermark a generated file and attach a signed content credential; the answer is the marked file."""
    data, _ = await read_file(request, rt)
    out = await run_in_threadpool(provenance.mark_output, rt, actor, org, project, model, release=release,
                                  data=data, grant_id=grant, watermark=watermark, credential=credential)
    headers = {"X-Releasewise-Release-Id": str(out.release_id), "X-Releasewise-Grant-Id": str(out.grant_id),
               "X-Releasewise-Sha256": out.sha256}
    if out.key_ref:
        headers["X-Releasewise-Watermark-Key"] = out.key_ref
    if out.credential_id is not None:
        headers["X-Releasewise-Credential-Id"] = str(out.credential_id)
    return Response(out.data, media_type=out.media_type, headers=headers)


class WatermarkKeyOut(Out):
    key_ref: str
    org: str
    project: str
    model: str
    generation: int
    fingerprint: str
    created_at: datetime
    retired_at: datetime | None


@router.get("/orgs/{org}/projects/{project}/watermark-keys", response_model=list[WatermarkKeyOut])
def watermark_keys(org: str, project: str, rt: RuntimeDep, actor: ActorDep) -> list[WatermarkKeyOut]:
    """The project's watermark keys, active and retired (fingerprints only; secrets never leave the server)."""
    return [WatermarkKeyOut.model_validate(k) for k in provenance.list_watermark_keys(rt, actor, org, project)]


@router.post("/orgs/{org}/projects/{project}/watermark-keys/{model}/rotate", response_model=WatermarkKeyOut)
def rotate_key(org: str, project: str, model: str, rt: RuntimeDep, actor: ActorDep) -> WatermarkKeyOut:
    """Retire the model's key and make a new one; media marked with the old key is still traced."""
    return WatermarkKeyOut.model_validate(provenance.rotate_watermark_key(rt, actor, org, project, model))


# -- public certificates ------------------------------------------------------------------------------------
@router.get("/credentials/trust-anchors", response_class=PlainTextResponse)
def anchors(rt: RuntimeDep) -> PlainTextResponse:
    """The certificate authorities whose content credentials this instance trusts (PEM; no token needed)."""
    return PlainTextResponse(provenance.trust_anchors(rt), media_type="application/x-pem-file")


@router.get("/orgs/{org}/credential-certificate", response_class=PlainTextResponse)
def certificate(org: str, rt: RuntimeDep) -> PlainTextResponse:
    """The organisation's content-credential certificate chain (PEM; no token needed)."""
    return PlainTextResponse(provenance.certificate_chain(rt, org), media_type="application/x-pem-file")


# -- detection settings and the check log -------------------------------------------------------------------
class PartnerOut(Out):
    username: str
    email: str
    note: str
    added_at: datetime


class ProjectModeOut(Out):
    slug: str
    name: str
    mode: str
    keys: int


class SettingsOut(Out):
    org: str
    retention_days: int
    partners: list[PartnerOut]
    projects: list[ProjectModeOut]


class ModeIn(StrictModel):
    mode: str


class RetentionIn(StrictModel):
    days: int


class PartnerIn(StrictModel):
    user: str
    note: str = ""


class CheckOut(Out):
    id: int
    created_at: datetime
    caller: str
    media_type: str
    sha256: str
    summary: str
    visibility: str | None
    retained_until: datetime | None


@router.get("/orgs/{org}/detection", response_model=SettingsOut)
def get_settings(org: str, rt: RuntimeDep, actor: ActorDep) -> SettingsOut:
    """Detection per project (public, partners, off), retention of matched uploads, and detection partners."""
    view = detection.settings(rt, actor, org)
    return SettingsOut(org=view.org, retention_days=view.retention_days,
                       partners=[PartnerOut.model_validate(p) for p in view.partners],
                       projects=[ProjectModeOut.model_validate(p) for p in view.projects])


@router.put("/orgs/{org}/projects/{project}/detection", response_model=ModeIn)
def set_mode(org: str, project: str, body: ModeIn, rt: RuntimeDep, actor: ActorDep) -> ModeIn:
    """Who may trace this project's marks: public (anyone signed in), partners, or off."""
    return ModeIn(mode=detection.set_mode(rt, actor, org, project, body.mode))


@router.put("/orgs/{org}/detection/retention", response_model=RetentionIn)
def set_retention(org: str, body: RetentionIn, rt: RuntimeDep, actor: ActorDep) -> RetentionIn:
    """Days to keep uploads that matched your marks (0: never keep them)."""
    return RetentionIn(days=detection.set_retention(rt, actor, org, body.days))


@router.post("/orgs/{org}/detection/partners", response_model=PartnerOut, status_code=201)
def add_partner(org: str, body: PartnerIn, rt: RuntimeDep, actor: ActorDep) -> PartnerOut:
    """Let an account outside the organisation trace its partners-only marks (model and release, no grants)."""
    return PartnerOut.model_validate(detection.add_partner(rt, actor, org, body.user, note=body.note))


@router.delete("/orgs/{org}/detection/partners/{username}", status_code=204)
def remove_partner(org: str, username: str, rt: RuntimeDep, actor: ActorDep) -> Response:
    detection.remove_partner(rt, actor, org, username)
    return Response(status_code=204)


@router.get("/orgs/{org}/detection/checks", response_model=list[CheckOut])
def checks(org: str, rt: RuntimeDep, actor: ActorDep,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[CheckOut]:
    """Checks that matched this organisation's marks: who traced them, when, and what they were told."""
    return [CheckOut.model_validate(c) for c in detection.list_checks(rt, actor, org, limit=limit)]


class EvidenceCheckOut(Out):
    evidence_id: int
    checked_at: datetime
    detected: bool
    credential_status: str
    grant_id: int | None
    summary: str


@router.get("/orgs/{org}/reports/{report_id}/evidence-checks", response_model=list[EvidenceCheckOut])
def report_evidence_checks(org: str, report_id: Id, rt: RuntimeDep, actor: ActorDep) -> list[EvidenceCheckOut]:
    """Detection results of a report's evidence files (responders); files not listed are still pending."""
    checks = evidence_checks.for_report(rt, actor, org, report_id)
    return [EvidenceCheckOut.model_validate(c) for _, c in sorted(checks.items())]
