"""Web pages of the detection service: upload a file and read its verdict; the organisation's detection
settings (mode per project, retention, partners) and the log of checks that matched its marks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from releasewise.errors import ReleasewiseError
from releasewise.services import detection, orgs, provenance
from releasewise.web import security
from releasewise.web.rendering import render
from releasewise.web.routes import CSRF, RT, User, redirect

router = APIRouter(include_in_schema=False)


@router.get("/detect", response_class=HTMLResponse)
def detect_form(request: Request, actor: User) -> Response:
    return render(request, "detection/detect.html", {"verdict": None})


@router.post("/detect", response_class=HTMLResponse)
async def detect(request: Request, rt: RT, actor: User) -> Response:
    form = await request.form(max_files=1)
    security.check_csrf(request, str(form.get("csrf_token", "")))
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return render(request, "detection/detect.html", {"verdict": None, "error": "Choose a file to check."},
                      status_code=422)
    data = await file.read(rt.settings.detection_max_bytes + 1)
    try:
        verdict = await run_in_threadpool(detection.detect, rt, actor, data, filename=file.filename)
    except ReleasewiseError as exc:
        return render(request, "detection/detect.html", {"verdict": None, "error": exc.message},
                      status_code=exc.status_code)
    return render(request, "detection/detect.html", {"verdict": verdict, "filename": file.filename})


@router.get("/orgs/{org_slug}/detection", response_class=HTMLResponse)
def settings_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    view = detection.settings(rt, actor, org_slug)
    keys = [k for p in view.projects if p.keys for k in provenance.list_watermark_keys(rt, actor, org_slug, p.slug)]
    return render(request, "detection/settings.html", {
        "org": orgs.get_org(rt, actor, org_slug), "tab": "detection", "settings": view, "keys": keys,
        "certificate": provenance.certificate_info(rt, org_slug),
        "checks": detection.list_checks(rt, actor, org_slug, limit=50),
        "modes": ("public", "partners", "off")})


def _back(org_slug: str, action: Callable[[], object], message: str) -> Response:
    """Run a settings change and return to the settings page with its outcome."""
    try:
        action()
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/detection", exc.message, error=True)
    return redirect(f"/orgs/{org_slug}/detection", message)


@router.post("/orgs/{org_slug}/detection/mode", dependencies=[CSRF])
def set_mode(rt: RT, actor: User, org_slug: str, project: Annotated[str, Form()] = "",
             mode: Annotated[str, Form()] = "") -> Response:
    return _back(org_slug, lambda: detection.set_mode(rt, actor, org_slug, project, mode),
                 f"Detection for {project}: {mode}.")


@router.post("/orgs/{org_slug}/detection/retention", dependencies=[CSRF])
def set_retention(rt: RT, actor: User, org_slug: str, days: Annotated[str, Form()] = "") -> Response:
    if not days.strip().isdigit():
        return redirect(f"/orgs/{org_slug}/detection", "Retention is a whole number of days (0: never keep).",
                        error=True)
    return _back(org_slug, lambda: detection.set_retention(rt, actor, org_slug, int(days)),
                 f"Matched uploads are kept for {int(days)} day(s).")


@router.post("/orgs/{org_slug}/detection/partners", dependencies=[CSRF])
def add_partner(rt: RT, actor: User, org_slug: str, user: Annotated[str, Form()] = "",
                note: Annotated[str, Form()] = "") -> Response:
    return _back(org_slug, lambda: detection.add_partner(rt, actor, org_slug, user, note=note),
                 f"{user} is now a detection partner.")


@router.post("/orgs/{org_slug}/detection/keys/{project_slug}/{model}/rotate", dependencies=[CSRF])
def rotate_key(rt: RT, actor: User, org_slug: str, project_slug: str, model: str) -> Response:
    return _back(org_slug, lambda: provenance.rotate_watermark_key(rt, actor, org_slug, project_slug, model),
                 f"New watermark key for {project_slug}/{model}; media marked with the old one is still traced.")


@router.post("/orgs/{org_slug}/detection/partners/{username}/remove", dependencies=[CSRF])
def remove_partner(rt: RT, actor: User, org_slug: str, username: str) -> Response:
    return _back(org_slug, lambda: detection.remove_partner(rt, actor, org_slug, username),
                 f"{username} is no longer a detection partner.")
