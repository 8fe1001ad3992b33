"""The public release page (no sign-in) and the lead's switch for it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from releasewise.errors import ReleasewiseError
from releasewise.services import release_page
from releasewise.web import charts
from releasewise.web.rendering import render
from releasewise.web.routes import CSRF, RT, MaybeUser, User, redirect

router = APIRouter(include_in_schema=False)


@router.get("/p/{org_slug}/{project_slug}", response_class=HTMLResponse)
def public_page(request: Request, rt: RT, actor: MaybeUser, org_slug: str, project_slug: str) -> Response:
    page = release_page.public_page(rt, org_slug, project_slug)
    return render(request, "release_page.html", {
        "page": page, "timeline": public_timeline(page, rt.clock.now()), "base": rt.settings.base_url.rstrip("/")})


def public_timeline(page: release_page.PublicPage, now: datetime) -> Markup | None:
    """The plan's stages on a time axis with a marker for now, drawn like the lab's own plan page.

    Readers outside the lab see when each stage opened or may open; not which gate holds a stage
    (gates can name internal thresholds), so a stage past its date but not open is only "pending".
    """
    if not page.stages:
        return None
    stages: list[dict[str, Any]] = [{"title": s.title, "earliest_at": s.earliest_at, "opened_at": s.opened_at, "gate_results": [],
               "state": "opened" if s.opened_at else ("pending" if s.earliest_at <= now else "scheduled")}
              for s in page.stages]
    return Markup(charts.plan_timeline(stages, now))


@router.post("/orgs/{org_slug}/projects/{project_slug}/public-page", dependencies=[CSRF])
def toggle(rt: RT, actor: User, org_slug: str, project_slug: str, enabled: Annotated[str, Form()] = "") -> Response:
    try:
        on = release_page.set_public_page(rt, actor, org_slug, project_slug, enabled=enabled == "on")
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/projects/{project_slug}", exc.message, error=True)
    message = (f"The public release page is on: /p/{org_slug}/{project_slug}" if on
               else "The public release page is off.")
    return redirect(f"/orgs/{org_slug}/projects/{project_slug}", message)
