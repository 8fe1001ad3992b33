"""REST routes of the artifact registry and gated access (docs/access.md)."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field

from releasewise.api.deps import ActorDep, RuntimeDep, client_ip
from releasewise.api.schemas import Id, StrictModel
from releasewise.errors import InvalidInput
from releasewise.hfapi.routes import serve_file
from releasewise.services import access, outbox, registry
from releasewise.services.access import (
    AgreementView,
    DailyCount,
    DownloadView,
    GrantView,
    LatencyView,
    PolicyView,
    RequestFormView,
    RequestView,
)
from releasewise.services.registry import FileView, VersionView

router = APIRouter(prefix="/api/v1")
ASSET = "/orgs/{org}/projects/{project}/assets/{asset}"
_BATCH_BYTES = 1024 * 1024


# Requests ------------------------------------------------------------------------

class FileDeclaration(StrictModel):
    path: str = Field(min_length=1, max_length=500)
    size: int = Field(ge=0)
    sha256: str = Field(default="", max_length=64)


class UploadStart(StrictModel):
    files: list[FileDeclaration] = Field(min_length=1, max_length=registry.MAX_FILES_PER_VERSION)
    note: str = Field(default="", max_length=200)


class FormFieldIn(StrictModel):
    name: str = Field(min_length=1, max_length=40)
    label: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=20)
    required: bool = True
    options: list[str] = Field(default_factory=list, max_length=100)


class PolicyIn(StrictModel):
    approval_mode: str = Field(min_length=1, max_length=20)
    email_domains: list[str] = Field(default_factory=list, max_length=200)
    trusted_orgs: list[str] = Field(default_factory=list, max_length=200)
    form_fields: list[FormFieldIn] = Field(default_factory=list, max_length=20)
    grant_days: int | None = Field(default=None, ge=1, le=3650)


class OrgAccessSettingsIn(StrictModel):
    default_grant_days: int = Field(ge=1, le=3650)


class AgreementIn(StrictModel):
    title: str = Field(min_length=1, max_length=200)
    body_md: str = Field(min_length=1, max_length=100_000)
    checkboxes: list[str] = Field(default_factory=list, max_length=20)


class AccessRequestIn(StrictModel):
    intended_use: str = Field(min_length=1, max_length=5000)
    institution: str = Field(min_length=1, max_length=200)
    answers: dict[str, Any] = Field(default_factory=dict)
    checkboxes: list[str] = Field(default_factory=list, max_length=20)
    for_org: str = Field(default="", max_length=40)
    kind: str = Field(default="new", max_length=20)
    reason: str = Field(default="", max_length=5000)


class AcceptIn(StrictModel):
    checkboxes: list[str] = Field(default_factory=list, max_length=20)
    version: int | None = None


class DecisionIn(StrictModel):
    request_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=access.MAX_BATCH)
    approve: bool
    reason: str = Field(default="", max_length=5000)
    grant_days: int | None = Field(default=None, ge=1, le=3650)


class RevokeIn(StrictModel):
    reason: str = Field(min_length=1, max_length=5000)


# Uploads and versions ------------------------------------------------------------

@router.post(ASSET + "/uploads", response_model=VersionView, status_code=status.HTTP_201_CREATED, tags=["registry"])
def start_upload(org: str, project: str, asset: str, body: UploadStart, rt: RuntimeDep,
                 actor: ActorDep) -> VersionView:
    """Open a new version; then PUT each file's chunks. The version is visible once every file is complete."""
    return registry.start_upload(rt, actor, org, project, asset, files=[f.model_dump() for f in body.files],
                                 note=body.note)


@router.get("/uploads/{upload_key}", response_model=VersionView, tags=["registry"])
def get_upload(upload_key: str, rt: RuntimeDep, actor: ActorDep) -> VersionView:
    """Bytes received per file, to resume an interrupted upload."""
    return registry.get_upload(rt, actor, upload_key)


@router.put("/uploads/{upload_key}/files/{file_id}", response_model=FileView, tags=["registry"])
async def upload_chunk(upload_key: str, file_id: Id, request: Request, rt: RuntimeDep, actor: ActorDep,
                       offset: Annotated[int, Query(ge=0)],
                       x_running_sha256: Annotated[str, Header(min_length=64, max_length=64)]) -> FileView:
    """One chunk of raw bytes at ``offset``. ``X-Running-SHA256``: SHA-256 of the file from byte 0 through
    the end of this chunk. A mismatch is refused (422) and nothing is stored; resume from the same offset."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise InvalidInput("Send the chunk with a Content-Length header (no chunked transfer encoding).")
    length = int(declared)
    if length > registry.MAX_CHUNK_BYTES:
        raise InvalidInput(f"Chunks are at most {registry.MAX_CHUNK_BYTES} bytes; send smaller chunks.")
    # Hash and write while the body arrives: a worker thread consumes what the event loop receives,
    # handed over in batches (lists, not joined: the blob store copies each piece once, into its buffer).
    arrived: queue.SimpleQueue[list[bytes] | None] = queue.SimpleQueue()

    def pieces() -> Iterator[bytes]:
        while (batch := arrived.get()) is not None:
            yield from batch

    work = asyncio.ensure_future(run_in_threadpool(
        registry.upload_chunk_stream, rt, actor, upload_key, file_id, offset=offset, length=length,
        pieces=pieces(), running_sha256=x_running_sha256))
    batch: list[bytes] = []
    batched = 0
    try:
        async for piece in request.stream():
            if work.done():
                break  # refused before reading the body (wrong offset, unknown upload, …)
            batch.append(piece)
            batched += len(piece)
            if batched >= _BATCH_BYTES:
                arrived.put(batch)
                batch, batched = [], 0
        if batch:
            arrived.put(batch)
    finally:
        arrived.put(None)
    return await work


@router.delete("/uploads/{upload_key}", response_model=VersionView, tags=["registry"])
def abort_upload(upload_key: str, rt: RuntimeDep, actor: ActorDep) -> VersionView:
    return registry.abort_upload(rt, actor, upload_key)


@router.get(ASSET + "/versions", response_model=list[VersionView], tags=["registry"])
def list_versions(org: str, project: str, asset: str, rt: RuntimeDep, actor: ActorDep) -> list[VersionView]:
    return registry.list_versions(rt, actor, org, project, asset)


@router.head(ASSET + "/files/{revision}/{path:path}", tags=["registry"])
def file_metadata(org: str, project: str, asset: str, revision: str, path: str, request: Request, rt: RuntimeDep,
                  actor: ActorDep) -> Response:
    """Size and SHA-256 (ETag) of a file, without its bytes."""
    return download_file(org, project, asset, revision, path, request, rt, actor)


@router.get(ASSET + "/files/{revision}/{path:path}", tags=["registry"])
def download_file(org: str, project: str, asset: str, revision: str, path: str, request: Request, rt: RuntimeDep,
                  actor: ActorDep) -> Response:
    """A file of a complete version (``main`` = newest), with ranges; logged."""
    ticket = registry.resolve_file(rt, actor, org, f"{project}-{asset}", revision, path)
    via = "cli" if "releasewise-cli" in request.headers.get("user-agent", "") else "api"
    return serve_file(request, rt, actor, ticket, via)


@router.get(ASSET + "/snapshot/{revision}", tags=["registry"])
def snapshot(org: str, project: str, asset: str, revision: str, rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """The files of a complete version you may download."""
    snap = registry.snapshot(rt, actor, org, f"{project}-{asset}", revision)
    return {"repo_id": snap.context.repo_id, "version": f"v{snap.number}", "commit_sha": snap.commit_sha,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in snap.files]}


# Policy and agreements (leads) -------------------------------------------------------

@router.get("/orgs/{org}/projects/{project}/access/policy", response_model=PolicyView, tags=["access"])
def get_policy(org: str, project: str, rt: RuntimeDep, actor: ActorDep) -> PolicyView:
    return access.get_policy(rt, actor, org, project)


@router.put("/orgs/{org}/projects/{project}/access/policy", response_model=PolicyView, tags=["access"])
def configure_policy(org: str, project: str, body: PolicyIn, rt: RuntimeDep, actor: ActorDep) -> PolicyView:
    return access.configure_policy(rt, actor, org, project, approval_mode=body.approval_mode,
                                   email_domains=body.email_domains, trusted_orgs=body.trusted_orgs,
                                   form_fields=[f.model_dump() for f in body.form_fields], grant_days=body.grant_days)


@router.put("/orgs/{org}/access/settings", tags=["access"])
def org_settings(org: str, body: OrgAccessSettingsIn, rt: RuntimeDep, actor: ActorDep) -> dict[str, int]:
    return {"default_grant_days": access.set_default_grant_days(rt, actor, org, body.default_grant_days)}


@router.post("/orgs/{org}/projects/{project}/access/agreements", response_model=AgreementView,
             status_code=status.HTTP_201_CREATED, tags=["access"])
def publish_agreement(org: str, project: str, body: AgreementIn, rt: RuntimeDep, actor: ActorDep) -> AgreementView:
    """A new agreement version; current grantees must accept it before their next download."""
    return access.publish_agreement(rt, actor, org, project, title=body.title, body_md=body.body_md,
                                    checkboxes=body.checkboxes)


# Requesters -----------------------------------------------------------------------------

@router.get(ASSET + "/access", response_model=RequestFormView, tags=["access"])
def request_form(org: str, project: str, asset: str, rt: RuntimeDep, actor: ActorDep) -> RequestFormView:
    """The request form, the current agreement, and your requests and grants for this asset."""
    return access.request_form(rt, actor, org, project, asset)


@router.post(ASSET + "/access/requests", response_model=RequestView, status_code=status.HTTP_201_CREATED,
             tags=["access"])
def submit_request(org: str, project: str, asset: str, body: AccessRequestIn, rt: RuntimeDep,
                   actor: ActorDep) -> RequestView:
    view = access.submit_request(rt, actor, org, project, asset, intended_use=body.intended_use,
                                 institution=body.institution, answers=body.answers, checkboxes=body.checkboxes,
                                 for_org=body.for_org, kind=body.kind, reason=body.reason)
    outbox.deliver_pending(rt)
    return view


@router.post(ASSET + "/access/agreement", response_model=AgreementView, tags=["access"])
def accept_agreement(org: str, project: str, asset: str, body: AcceptIn, rt: RuntimeDep,
                     actor: ActorDep) -> AgreementView:
    return access.accept_agreement(rt, actor, org, project, asset, checkboxes=body.checkboxes, version=body.version)


@router.get("/access/requests", response_model=list[RequestView], tags=["access"])
def my_requests(rt: RuntimeDep, actor: ActorDep) -> list[RequestView]:
    return access.my_requests(rt, actor)


@router.delete("/access/requests/{request_id}", response_model=RequestView, tags=["access"])
def withdraw_request(request_id: Id, rt: RuntimeDep, actor: ActorDep) -> RequestView:
    return access.withdraw_request(rt, actor, request_id)


# Approvers --------------------------------------------------------------------------------

@router.get("/orgs/{org}/access/requests", response_model=list[RequestView], tags=["access"])
def list_requests(org: str, rt: RuntimeDep, actor: ActorDep,
                  status_: Annotated[str, Query(alias="status", max_length=20)] = "pending") -> list[RequestView]:
    return access.list_requests(rt, actor, org, status=status_)


@router.post("/orgs/{org}/access/decisions", response_model=list[RequestView], tags=["access"])
def decide(org: str, body: DecisionIn, rt: RuntimeDep, actor: ActorDep) -> list[RequestView]:
    """Approve or reject one or many pending requests (all or nothing); rejections need a reason."""
    views = access.decide(rt, actor, org, body.request_ids, approve=body.approve, reason=body.reason,
                          grant_days=body.grant_days)
    outbox.deliver_pending(rt)
    return views


@router.get("/orgs/{org}/access/grants", response_model=list[GrantView], tags=["access"])
def list_grants(org: str, rt: RuntimeDep, actor: ActorDep) -> list[GrantView]:
    return access.list_grants(rt, actor, org)


@router.post("/orgs/{org}/access/grants/{grant_id}/revoke", response_model=GrantView, tags=["access"])
def revoke_grant(org: str, grant_id: Id, body: RevokeIn, rt: RuntimeDep, actor: ActorDep) -> GrantView:
    view = access.revoke_grant(rt, actor, org, grant_id, reason=body.reason)
    outbox.deliver_pending(rt)
    return view


@router.get("/orgs/{org}/access/latency", response_model=LatencyView, tags=["access"])
def latency(org: str, rt: RuntimeDep, actor: ActorDep) -> LatencyView:
    return access.latency(rt, actor, org)


@router.get("/orgs/{org}/access/downloads", response_model=list[DownloadView], tags=["access"])
def downloads(org: str, rt: RuntimeDep, actor: ActorDep,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> list[DownloadView]:
    return access.downloads(rt, actor, org, limit=limit)


@router.get("/orgs/{org}/access/downloads.csv", tags=["access"])
def downloads_csv(org: str, rt: RuntimeDep, actor: ActorDep) -> Response:
    return Response(access.downloads_csv(rt, actor, org), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{org}-downloads.csv"'})


@router.get("/orgs/{org}/access/downloads/daily", response_model=list[DailyCount], tags=["access"])
def downloads_daily(org: str, rt: RuntimeDep, actor: ActorDep,
                    days: Annotated[int, Query(ge=1, le=366)] = 30) -> list[DailyCount]:
    return access.downloads_per_day(rt, actor, org, days=days)


__all__ = ["router", "client_ip"]
