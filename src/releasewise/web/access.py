"""Web pages of gated access: the request page, the approval queue, grants, the download log,
project access settings, and small-file uploads."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile

from releasewise.domain.access import median
from releasewise.errors import InvalidInput, ReleasewiseError
from releasewise.hfapi.routes import serve_file
from releasewise.services import access, orgs, outbox, registry
from releasewise.services.runtime import Actor, Runtime
from releasewise.web import security
from releasewise.api.schemas import Id
from releasewise.web.rendering import render, templates
from releasewise.web.routes import RT, User, redirect

router = APIRouter(include_in_schema=False)
ASSET = "/orgs/{org_slug}/projects/{project_slug}/assets/{asset_slug}"
MAX_WEB_UPLOAD_BYTES = 100 * 1024 * 1024

# Agreements are Markdown written by leads; raw HTML in them is not rendered.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def _render_markdown(text: str) -> Markup:
    return Markup(_markdown.render(text or ""))  # noqa: S704 - markdown-it escapes everything (html=False)


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


templates.env.filters["markdown"] = _render_markdown
templates.env.filters["duration"] = _hours


async def _form(request: Request) -> FormData:
    form = await request.form(max_part_size=MAX_WEB_UPLOAD_BYTES)
    token = form.get("csrf_token")
    security.check_csrf(request, token if isinstance(token, str) else None)
    return form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# Request page -----------------------------------------------------------------------------

def _request_page(request: Request, rt: Runtime, actor: Actor, org_slug: str, project_slug: str, asset_slug: str,
                  status_code: int = 200, **extra: Any) -> Response:
    form_view = access.request_form(rt, actor, org_slug, project_slug, asset_slug)
    files: tuple[registry.FileView, ...] = ()
    version = None
    if form_view.has_access:
        try:
            snap = registry.snapshot(rt, actor, org_slug, f"{project_slug}-{asset_slug}", "main")
            files, version = snap.files, f"v{snap.number}"
        except ReleasewiseError:
            pass
    can_upload = form_view.is_member and orgs.get_org(rt, actor, org_slug).my_role in ("owner", "release_lead",
                                                                                        "researcher")
    return render(request, "access/request.html", {
        "f": form_view, "files": files, "version": version, "can_upload": can_upload,
        "base_url": rt.settings.base_url.rstrip("/"), "values": {}, **extra}, status_code)


@router.get(ASSET + "/access")
def request_page(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str, asset_slug: str) -> Response:
    return _request_page(request, rt, actor, org_slug, project_slug, asset_slug)


@router.post(ASSET + "/access")
async def submit_request(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str,
                         asset_slug: str) -> Response:
    form = await _form(request)
    answers = {k[len("answer_"):]: v for k, v in form.items() if k.startswith("answer_") and isinstance(v, str)}
    checkboxes = [v for v in form.getlist("checkbox") if isinstance(v, str)]
    try:
        view = await run_in_threadpool(
            access.submit_request, rt, actor, org_slug, project_slug, asset_slug,
            intended_use=_text(form, "intended_use"), institution=_text(form, "institution"), answers=answers,
            checkboxes=checkboxes, for_org=_text(form, "for_org"), kind=_text(form, "kind") or "new",
            reason=_text(form, "reason"))
    except ReleasewiseError as exc:
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
        return await run_in_threadpool(_request_page, request, rt, actor, org_slug, project_slug, asset_slug,
                                       exc.status_code, error=exc.message, values=values)
    await run_in_threadpool(outbox.deliver_pending, rt)
    message = ("Access approved: " + view.decision_reason) if view.status == "approved" else \
        f"Request #{view.id} sent. You will get an email when it is decided."
    return redirect(request.url.path, message)


@router.post(ASSET + "/access/agreement")
async def accept_agreement(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str,
                           asset_slug: str) -> Response:
    form = await _form(request)
    checkboxes = [v for v in form.getlist("checkbox") if isinstance(v, str)]
    version = _text(form, "version")
    try:
        await run_in_threadpool(access.accept_agreement, rt, actor, org_slug, project_slug, asset_slug,
                                checkboxes=checkboxes, version=int(version) if version.isdigit() else None)
    except ReleasewiseError as exc:
        return await run_in_threadpool(_request_page, request, rt, actor, org_slug, project_slug, asset_slug,
                                       exc.status_code, error=exc.message)
    return redirect(ASSET.format(org_slug=org_slug, project_slug=project_slug, asset_slug=asset_slug) + "/access",
                    "Agreement accepted.")


@router.api_route(ASSET + "/download/{revision}/{path:path}", methods=["GET", "HEAD"])
def download(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str, asset_slug: str,
             revision: str, path: str) -> Response:
    ticket = registry.resolve_file(rt, actor, org_slug, f"{project_slug}-{asset_slug}", revision, path)
    return serve_file(request, rt, actor, ticket, "web")


@router.post(ASSET + "/upload")
async def upload_small_files(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str,
                             asset_slug: str) -> Response:
    """Small files from the browser, as one new version (bigger ones: `releasewise push`)."""
    form = await _form(request)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    back = ASSET.format(org_slug=org_slug, project_slug=project_slug, asset_slug=asset_slug) + "/access"
    try:
        if not uploads:
            raise InvalidInput("Choose at least one file.")
        blobs: list[tuple[str, bytes]] = [(u.filename or "", await u.read()) for u in uploads]
        if sum(len(b) for _, b in blobs) > MAX_WEB_UPLOAD_BYTES:
            raise InvalidInput("The browser upload takes up to 100 MiB; use `releasewise push` for more.")
        await run_in_threadpool(_store_version, rt, actor, org_slug, project_slug, asset_slug, blobs,
                                _text(form, "note"))
    except ReleasewiseError as exc:
        return await run_in_threadpool(_request_page, request, rt, actor, org_slug, project_slug, asset_slug,
                                       exc.status_code, error=exc.message)
    return redirect(back, f"Uploaded {len(uploads)} file(s) as a new version.")


def _store_version(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, asset_slug: str,
                   files: list[tuple[str, bytes]], note: str) -> None:
    view = registry.start_upload(rt, actor, org_slug, project_slug, asset_slug,
                                 files=[{"path": name, "size": len(data)} for name, data in files], note=note)
    by_path = dict(files)
    for f in view.files:
        if not f.completed:
            data = by_path[f.path]
            registry.upload_chunk(rt, actor, view.upload_key, f.id, offset=0, data=data,
                                  running_sha256=hashlib.sha256(data).hexdigest())


# Approvers -----------------------------------------------------------------------------------

def _queue_page(request: Request, rt: Runtime, actor: Actor, org_slug: str, status_code: int = 200,
                **extra: Any) -> Response:
    return render(request, "access/queue.html", {
        "org": orgs.get_org(rt, actor, org_slug),
        "pending": access.list_requests(rt, actor, org_slug),
        "decided": access.list_requests(rt, actor, org_slug, status="all", limit=50),
        "grants": access.list_grants(rt, actor, org_slug),
        "latency": access.latency(rt, actor, org_slug),
        **extra}, status_code)


@router.get("/orgs/{org_slug}/access")
def queue_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    return _queue_page(request, rt, actor, org_slug)


@router.post("/orgs/{org_slug}/access/decisions")
async def decide(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    form = await _form(request)
    ids = [int(v) for v in form.getlist("request_id") if isinstance(v, str) and v.isdigit()]
    days = _text(form, "grant_days")
    try:
        views = await run_in_threadpool(access.decide, rt, actor, org_slug, ids,
                                        approve=_text(form, "decision") == "approve", reason=_text(form, "reason"),
                                        grant_days=int(days) if days.isdigit() else None)
    except ReleasewiseError as exc:
        return await run_in_threadpool(_queue_page, request, rt, actor, org_slug, exc.status_code, error=exc.message)
    await run_in_threadpool(outbox.deliver_pending, rt)
    verb = "Approved" if _text(form, "decision") == "approve" else "Rejected"
    return redirect(f"/orgs/{org_slug}/access", f"{verb} {len(views)} request(s).")


@router.post("/orgs/{org_slug}/access/grants/{grant_id}/revoke")
async def revoke(request: Request, rt: RT, actor: User, org_slug: str, grant_id: Id) -> Response:
    form = await _form(request)
    try:
        await run_in_threadpool(access.revoke_grant, rt, actor, org_slug, grant_id, reason=_text(form, "reason"))
    except ReleasewiseError as exc:
        return await run_in_threadpool(_queue_page, request, rt, actor, org_slug, exc.status_code, error=exc.message)
    await run_in_threadpool(outbox.deliver_pending, rt)
    return redirect(f"/orgs/{org_slug}/access", f"Revoked grant #{grant_id}; the grantee was told why.")


@router.get("/orgs/{org_slug}/access/downloads")
def downloads_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    days = access.downloads_per_day(rt, actor, org_slug, days=30)
    peak = max((d.downloads for d in days), default=0)
    return render(request, "access/downloads.html", {
        "org": orgs.get_org(rt, actor, org_slug), "log": access.downloads(rt, actor, org_slug, limit=500),
        "days": days, "peak": max(peak, 1), "total": sum(d.downloads for d in days),
        "median_per_day": median([d.downloads for d in days]) or 0})


@router.get("/orgs/{org_slug}/access/downloads.csv")
def downloads_csv(rt: RT, actor: User, org_slug: str) -> Response:
    return Response(access.downloads_csv(rt, actor, org_slug), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{org_slug}-downloads.csv"'})


# Project settings ------------------------------------------------------------------------------

def _settings_page(request: Request, rt: Runtime, actor: Actor, org_slug: str, project_slug: str,
                   status_code: int = 200, **extra: Any) -> Response:
    return render(request, "access/settings.html", {
        "org": orgs.get_org(rt, actor, org_slug), "policy": access.get_policy(rt, actor, org_slug, project_slug),
        **extra}, status_code)


@router.get("/orgs/{org_slug}/projects/{project_slug}/access/settings")
def settings_page(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    return _settings_page(request, rt, actor, org_slug, project_slug)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _parse_fields(text: str) -> list[dict[str, Any]]:
    """One field per line: ``name | label | type | option, option`` (``?`` after the name: optional)."""
    fields: list[dict[str, Any]] = []
    for line in _lines(text):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3:
            raise InvalidInput(f"Write each field as 'name | label | type' (got '{line[:60]}').", field="form_fields")
        name = parts[0].rstrip("?")
        options = [o.strip() for o in parts[3].split(",")] if len(parts) > 3 else []
        fields.append({"name": name, "label": parts[1], "type": parts[2], "required": not parts[0].endswith("?"),
                       "options": options})
    return fields


@router.post("/orgs/{org_slug}/projects/{project_slug}/access/settings")
async def save_settings(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    form = await _form(request)
    days = _text(form, "grant_days").strip()
    try:
        await run_in_threadpool(
            lambda: access.configure_policy(
                rt, actor, org_slug, project_slug, approval_mode=_text(form, "approval_mode"),
                email_domains=_lines(_text(form, "email_domains")), trusted_orgs=_lines(_text(form, "trusted_orgs")),
                form_fields=_parse_fields(_text(form, "form_fields")),
                grant_days=int(days) if days.isdigit() else None))
    except ReleasewiseError as exc:
        return await run_in_threadpool(_settings_page, request, rt, actor, org_slug, project_slug, exc.status_code,
                                       error=exc.message)
    return redirect(request.url.path, "Access policy saved.")


@router.post("/orgs/{org_slug}/projects/{project_slug}/access/agreements")
async def publish_agreement(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    form = await _form(request)
    try:
        view = await run_in_threadpool(
            lambda: access.publish_agreement(rt, actor, org_slug, project_slug, title=_text(form, "title"),
                                             body_md=_text(form, "body_md"),
                                             checkboxes=_lines(_text(form, "checkboxes"))))
    except ReleasewiseError as exc:
        return await run_in_threadpool(_settings_page, request, rt, actor, org_slug, project_slug, exc.status_code,
                                       error=exc.message)
    return redirect(f"/orgs/{org_slug}/projects/{project_slug}/access/settings",
                    f"Published agreement version {view.version}; grantees accept it before their next download.")



