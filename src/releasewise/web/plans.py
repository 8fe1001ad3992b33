"""Web pages for release plans: the timeline, stage gates, and the plan editor."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from releasewise.domain.plans import from_yaml
from releasewise.errors import InvalidInput, NotFound, ReleasewiseError
from releasewise.services import orgs, plans
from releasewise.services.runtime import Actor, Runtime
from releasewise.web import charts
from releasewise.web.rendering import render
from releasewise.web.routes import CSRF, RT, User, redirect

router = APIRouter(include_in_schema=False)
P = "/orgs/{org_slug}/projects/{project_slug}/plan"


def _page(request: Request, rt: Runtime, actor: Actor, org_slug: str, project_slug: str, *, text: str | None = None,
          error: str = "", status_code: int = 200) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    try:
        plan: plans.PlanView | None = plans.get_plan(rt, actor, org_slug, project_slug)
    except NotFound:
        plan = None
    timeline = Markup(charts.plan_timeline([asdict(s) | {"gate_results": s.gate_results} for s in plan.stages],
                                           rt.clock.now())) if plan else None
    if text is None and plan is not None:
        text = yaml.safe_dump(plan.document, sort_keys=False, allow_unicode=True)
    return render(request, "plans/plan.html", {
        "org": org, "project_slug": project_slug, "plan": plan, "timeline": timeline, "text": text or "",
        "templates": plans.template_names(), "is_lead": org.my_role in ("owner", "release_lead"),
        "default_start": (rt.clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:00"),
        "error": error,
    }, status_code)


@router.get(P, response_class=HTMLResponse)
def plan_page(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    return _page(request, rt, actor, org_slug, project_slug)


@router.post(P + "/template", response_class=HTMLResponse, dependencies=[CSRF])
def from_template(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str,
                  template: Annotated[str, Form()] = "", start: Annotated[str, Form()] = "",
                  tz_offset: Annotated[str, Form()] = "+00:00") -> Response:
    """Fill the editor with a template for this project's assets; nothing is saved until applied."""
    try:
        try:
            when = datetime.fromisoformat(f"{start}{tz_offset}")
        except ValueError:
            raise InvalidInput("Give the first stage's date and time, and its UTC offset (e.g. +01:00).") from None
        document = plans.template_document(rt, actor, org_slug, project_slug, template, when)
    except ReleasewiseError as exc:
        return _page(request, rt, actor, org_slug, project_slug, error=exc.message, status_code=exc.status_code)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return _page(request, rt, actor, org_slug, project_slug, text=text)


@router.post(P, response_class=HTMLResponse, dependencies=[CSRF])
def apply(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str,
          document: Annotated[str, Form()] = "") -> Response:
    try:
        try:
            parsed = yaml.safe_load(document)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InvalidInput("The plan is not valid YAML" + (f" at line {mark.line + 1}" if mark else "")
                               + ". Nothing was saved.") from None
        plans.apply_plan(rt, actor, org_slug, project_slug, from_yaml(parsed))
    except ReleasewiseError as exc:
        return _page(request, rt, actor, org_slug, project_slug, text=document, error=exc.message,
                     status_code=exc.status_code)
    return redirect(f"/orgs/{org_slug}/projects/{project_slug}/plan", "Plan saved. Stages open by themselves when due.")


@router.post(P + "/stages/{key}/open", dependencies=[CSRF])
def open_stage(rt: RT, actor: User, org_slug: str, project_slug: str, key: str) -> Response:
    try:
        plans.open_stage_now(rt, actor, org_slug, project_slug, key)
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/projects/{project_slug}/plan", exc.message, error=True)
    return redirect(f"/orgs/{org_slug}/projects/{project_slug}/plan", f"Stage '{key}' opened.")


@router.post(P + "/status", dependencies=[CSRF])
def set_status(rt: RT, actor: User, org_slug: str, project_slug: str, status: Annotated[str, Form()] = "") -> Response:
    try:
        view = plans.set_status(rt, actor, org_slug, project_slug, status)
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/projects/{project_slug}/plan", exc.message, error=True)
    return redirect(f"/orgs/{org_slug}/projects/{project_slug}/plan", f"The plan is now {view.status}.")


