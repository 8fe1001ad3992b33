"""REST routes for release plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from releasewise.api.deps import ActorDep, RuntimeDep
from releasewise.api.schemas import Out, StrictModel
from releasewise.errors import InvalidInput
from releasewise.services import plans

router = APIRouter(prefix="/api/v1", tags=["plans"])
P = "/orgs/{org}/projects/{project}/plan"


class GateOut(Out):
    name: str
    passed: bool
    detail: str


class StageOut(Out):
    key: str
    title: str
    position: int
    earliest_at: datetime
    steps: list[str]
    gates: dict[str, Any]
    state: str
    gate_results: list[GateOut]
    opened_at: datetime | None
    opened_by: str


class PlanOut(Out):
    org_slug: str
    project_slug: str
    project_name: str
    status: str
    template: str
    stages: list[StageOut]
    assets: list[dict[str, str]]
    updated_at: datetime
    document: dict[str, Any]


class StatusIn(StrictModel):
    status: Literal["active", "paused", "halted"]


class TemplateOut(BaseModel):
    name: str
    title: str
    description: str


@router.get(P, response_model=PlanOut)
def get_plan(org: str, project: str, rt: RuntimeDep, actor: ActorDep) -> PlanOut:
    """The plan with each stage's derived state and the gates that hold it."""
    return PlanOut.model_validate(plans.get_plan(rt, actor, org, project))


@router.put(P, response_model=PlanOut)
def apply_plan(org: str, project: str, document: dict[str, Any], rt: RuntimeDep, actor: ActorDep) -> PlanOut:
    """Create the plan or replace its unopened stages (schema: docs/plans.md)."""
    return PlanOut.model_validate(plans.apply_plan(rt, actor, org, project, document))


@router.get("/plan-templates", response_model=list[TemplateOut])
def list_templates() -> list[TemplateOut]:
    return [TemplateOut(name=n, title=t, description=d) for n, t, d in plans.template_names()]


@router.get(P + "/template")
def template(org: str, project: str, rt: RuntimeDep, actor: ActorDep, name: Annotated[str, Query(max_length=40)],
             start: Annotated[datetime | None, Query(description="ISO 8601 with timezone; default tomorrow")] = None,
             ) -> dict[str, Any]:
    """A plan document built from a template for this project's assets, to edit and PUT."""
    when = start or (datetime.now(UTC) + timedelta(days=1))
    if when.tzinfo is None:
        raise InvalidInput("start needs a timezone, e.g. 2027-01-10T09:00:00+00:00.", field="start")
    return plans.template_document(rt, actor, org, project, name, when)


@router.post(P + "/stages/{key}/open", response_model=PlanOut)
def open_stage(org: str, project: str, key: str, rt: RuntimeDep, actor: ActorDep) -> PlanOut:
    """Open the next stage now, before its date, if every gate passes."""
    return PlanOut.model_validate(plans.open_stage_now(rt, actor, org, project, key))


@router.post(P + "/status", response_model=PlanOut)
def set_status(org: str, project: str, body: StatusIn, rt: RuntimeDep, actor: ActorDep) -> PlanOut:
    """Pause, resume (`active`) or halt (final) the plan."""
    return PlanOut.model_validate(plans.set_status(rt, actor, org, project, body.status))
