"""Release plans: applying a plan, reading its derived state, opening stages, and the reconciler.

Stage state is derived when read (domain/plans.py). Side effects — widening
assets, notifying watchers — happen only in ``reconcile`` and ``open_stage_now``,
inside one transaction per stage, guarded by the stage's ``opened_at`` and a row
lock on the plan, with idempotency keys on every notification. Running the
reconciler twice, concurrently, or after a crash therefore never opens a stage
twice, never sends a notification twice, and never leaves a stage half-applied.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from releasewise.domain import plans as rules
from releasewise.domain.decisions import steps_from_json, steps_to_json
from releasewise.domain.plan_templates import TEMPLATES, build
from releasewise.domain.roles import Action, Role
from releasewise.domain.tiers import Tier
from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services import outbox
from releasewise.services.audit import record
from releasewise.services.authz import authorize
from releasewise.services.decisions import covers_for_project
from releasewise.services.detection import apply_detection_mode
from releasewise.services.disclosure import acknowledged_count
from releasewise.services.projects import asset_slugs, load_project
from releasewise.services.runtime import Actor, Runtime
from releasewise.services.tiers import apply_tier_change
from releasewise.store.models import Asset, Membership, Organization, Project, User
from releasewise.store.models_incidents import Incident
from releasewise.store.models_plans import PlanStage, ReleasePlan

log = logging.getLogger(__name__)
SYSTEM_LABEL = "release plan (reconciler)"
STATUS_EVENTS = {rules.PlanStatus.active: "plan.resumed", rules.PlanStatus.paused: "plan.paused",
                 rules.PlanStatus.halted: "plan.halted"}


@dataclass(frozen=True)
class StageView:
    key: str
    title: str
    position: int
    earliest_at: datetime
    steps: tuple[str, ...]
    gates: dict[str, Any]
    state: str
    gate_results: tuple[rules.GateResult, ...]
    opened_at: datetime | None
    opened_by: str

    @property
    def holding_gates(self) -> tuple[rules.GateResult, ...]:
        return tuple(g for g in self.gate_results if not g.passed)


@dataclass(frozen=True)
class PlanView:
    org_slug: str
    project_slug: str
    project_name: str
    status: str
    template: str
    stages: tuple[StageView, ...]
    assets: tuple[dict[str, str], ...]
    updated_at: datetime
    document: dict[str, Any]


# Gate inputs from other capabilities ------------------------------------------------------

def open_incident_severities(session: Session, project_id: int) -> list[int]:
    """Severities of the project's open incidents (services/incidents.py files and resolves them)."""
    return [int(s) for s in session.scalars(select(Incident.severity).where(
        Incident.project_id == project_id, Incident.status == "open"))]


# Reading -------------------------------------------------------------------------------------

def _load(session: Session, org: Organization, project_slug: str, *, lock: bool = False,
          ) -> tuple[Project, ReleasePlan, list[PlanStage]]:
    project = load_project(session, org, project_slug)
    query = select(ReleasePlan).where(ReleasePlan.project_id == project.id)
    if lock:
        query = query.with_for_update()
    plan = session.scalars(query).first()
    if plan is None:
        raise NotFound(f"{project.name} has no release plan yet. Start one from a template.")
    stages = list(session.scalars(select(PlanStage).where(PlanStage.plan_id == plan.id)
                                  .order_by(PlanStage.position)))
    return project, plan, stages


def _spec(stage: PlanStage) -> rules.StageSpec:
    gates = rules.Gates(**{k: v for k, v in stage.gates.items() if v is not None})
    return rules.StageSpec(stage.key, stage.title, stage.earliest_at, steps_from_json(stage.steps), gates,
                           stage.detection)


def _evaluate(session: Session, project: Project, stages: Sequence[PlanStage], now: datetime,
              ) -> dict[str, tuple[rules.GateResult, ...]]:
    covers = covers_for_project(session, project.id)
    incidents = open_incident_severities(session, project.id)
    results = {}
    previous_opened_at: datetime | None = None
    for stage in stages:
        inputs = rules.GateInputs(now, covers, previous_opened_at,
                                  acknowledged_count(session, project.id, stage.key), incidents)
        results[stage.key] = rules.evaluate_gates(_spec(stage), inputs)
        previous_opened_at = stage.opened_at
    return results


def _view(session: Session, org: Organization, project: Project, plan: ReleasePlan, stages: Sequence[PlanStage],
          now: datetime) -> PlanView:
    gates = _evaluate(session, project, stages, now)
    views = []
    for index, stage in enumerate(stages):
        previous_opened = index == 0 or stages[index - 1].opened_at is not None
        state = rules.stage_state(_spec(stage), opened_at=stage.opened_at, previous_opened=previous_opened, now=now,
                                  gates=gates[stage.key])
        if plan.status != rules.PlanStatus.active.value and state is rules.StageState.ready:
            state = rules.StageState.waiting
        steps = tuple(s.label() for s in steps_from_json(stage.steps))
        if stage.detection:
            steps += (f"detection → {stage.detection}",)
        views.append(StageView(stage.key, stage.title, stage.position, stage.earliest_at, steps, dict(stage.gates),
                               state.value, gates[stage.key], stage.opened_at, stage.opened_by))
    assets = tuple({"slug": a.slug, "name": a.name, "current_tier": a.current_tier, "high_water_tier": a.high_water_tier}
                   for a in session.scalars(select(Asset).where(Asset.project_id == project.id).order_by(Asset.id)))
    return PlanView(org.slug, project.slug, project.name, plan.status, plan.template, tuple(views), assets,
                    plan.updated_at, rules.to_document([_spec(s) for s in stages]))


def get_plan(rt: Runtime, actor: Actor, org_slug: str, project_slug: str) -> PlanView:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.plan_view)
        project, plan, stages = _load(session, org, project_slug)
        return _view(session, org, project, plan, stages, rt.clock.now())


@dataclass(frozen=True)
class WaitingStage:
    project_slug: str
    project_name: str
    stage: StageView


def waiting_stages(rt: Runtime, actor: Actor, org_slug: str) -> list[WaitingStage]:
    """Stages whose time has come but a gate holds them, across the organisation's active plans."""
    now = rt.clock.now()
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.plan_view)
        result: list[WaitingStage] = []
        for plan in session.scalars(select(ReleasePlan).where(ReleasePlan.org_id == org.id,
                                                              ReleasePlan.status == rules.PlanStatus.active.value)):
            stages = list(session.scalars(select(PlanStage).where(PlanStage.plan_id == plan.id)
                                          .order_by(PlanStage.position)))
            view = _view(session, org, plan.project, plan, stages, now)
            result.extend(WaitingStage(view.project_slug, view.project_name, s) for s in view.stages
                          if s.state == rules.StageState.waiting.value)
        return result


def template_document(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, template: str,
                      start: datetime) -> dict[str, Any]:
    """A plan document built from a template for this project's assets, to edit before applying."""
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.plan_view)
        project = load_project(session, org, project_slug)
        assets = [(a.slug, a.kind) for a in session.scalars(select(Asset).where(Asset.project_id == project.id)
                                                             .order_by(Asset.id))]
    return build(template, assets, start)


# Changing ------------------------------------------------------------------------------------

def apply_plan(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, document: Any) -> PlanView:
    """Create the plan, or replace its unopened stages. Opened stages cannot change."""
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.plan_edit)
        project = load_project(session, org, project_slug)
        plan = session.scalars(select(ReleasePlan).where(ReleasePlan.project_id == project.id)
                               .with_for_update()).first()
        existing = list(session.scalars(select(PlanStage).where(PlanStage.plan_id == plan.id))) if plan else []
        if plan is not None and plan.status == rules.PlanStatus.halted.value:
            raise Conflict("This plan was halted; a halted plan never opens again. Its record stays as it is.")
        opened = {s.key: _spec(s) for s in existing if s.opened_at is not None}
        specs = rules.parse_plan(document, known_assets=asset_slugs(session, project), now=now, opened=opened)
        template = str(document.get("template", "")) if isinstance(document, dict) else ""
        if plan is None:
            plan = ReleasePlan(org_id=org.id, project_id=project.id, status=rules.PlanStatus.active.value,
                               template=template[:40], created_by_id=actor.user_id, created_at=now, updated_at=now)
            session.add(plan)
            session.flush()
        plan.updated_at = now
        keep = {s.key: s for s in existing if s.opened_at is not None}
        for stage in existing:
            if stage.opened_at is None:
                session.delete(stage)
        session.flush()
        for position, spec in enumerate(specs):
            if spec.key in keep:
                keep[spec.key].position = position
                continue
            session.add(PlanStage(plan_id=plan.id, position=position, key=spec.key, title=spec.title,
                                  earliest_at=spec.earliest_at, steps=steps_to_json(spec.steps),
                                  gates={k: v for k, v in vars(spec.gates).items() if v is not None},
                                  detection=spec.detection, opened_at=None, opened_by=""))
        session.flush()
        record(session, rt, actor, org.id, "plan.applied", "plan", project.slug,
               {"stages": [f"{s.key} @ {s.earliest_at:%Y-%m-%d %H:%M} UTC: {', '.join(x.label() for x in s.steps)}"
                           for s in specs]})
        stages = list(session.scalars(select(PlanStage).where(PlanStage.plan_id == plan.id)
                                      .order_by(PlanStage.position)))
        return _view(session, org, project, plan, stages, now)


def set_status(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, status: str) -> PlanView:
    """Pause, resume (to active) or halt. Halting is final."""
    try:
        target = rules.PlanStatus(status)
    except ValueError:
        raise InvalidInput("Status must be active, paused or halted.", field="status") from None
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.plan_edit)
        project, plan, stages = _load(session, org, project_slug, lock=True)
        if plan.status == rules.PlanStatus.halted.value:
            raise Conflict("This plan was halted; it cannot be resumed or paused.")
        if plan.status == target.value:
            raise Conflict(f"The plan is already {target.value}.")
        before, plan.status, plan.updated_at = plan.status, target.value, now
        record(session, rt, actor, org.id, STATUS_EVENTS[target], "plan", project.slug,
               {"before": before, "after": target.value})
        return _view(session, org, project, plan, stages, now)


def _watchers(session: Session, plan: ReleasePlan) -> list[User]:
    leads = session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.org_id == plan.org_id, Membership.role.in_([Role.owner.value, Role.release_lead.value])))
    return sorted({u.id: u for u in leads}.values(), key=lambda u: u.id)


def _open(session: Session, rt: Runtime, actor: Actor | None, org: Organization, project: Project,
          plan: ReleasePlan, stage: PlanStage, now: datetime, *, early: bool) -> None:
    """Apply every step of the stage and mark it opened, in the caller's transaction."""
    label = actor.label if actor else SYSTEM_LABEL
    context: dict[str, object] = {"plan_stage": stage.key, "opened_by": label}
    for step in steps_from_json(stage.steps):
        asset = session.scalars(select(Asset).where(Asset.project_id == project.id,
                                                    Asset.slug == step.asset)).first()
        if asset is not None and not step.tier.wider_than(Tier(asset.current_tier)):
            continue  # already there (e.g. widened by hand under the same decision)
        apply_tier_change(session, rt, actor, org.id, project, step.asset, step.tier,
                          reason=f"Stage '{stage.title}' of the release plan", context=context)
    if stage.detection:
        apply_detection_mode(session, rt, actor, org.id, project, stage.detection, context=context)
    stage.opened_at, stage.opened_by = now, label
    record(session, rt, actor, org.id, "plan.stage_opened", "plan_stage", f"{project.slug}/{stage.key}",
           {"steps": [s.label() for s in steps_from_json(stage.steps)], "early": early})
    for user in _watchers(session, plan):
        outbox.enqueue(session, rt, key=f"stage-opened:{stage.id}:{user.id}", recipient=user.email,
                       subject=f"{project.name}: stage '{stage.title}' opened",
                       body=(f"The release plan of {project.name} opened stage '{stage.title}' at "
                             f"{now:%Y-%m-%d %H:%M} UTC.\n\nWidened: "
                             f"{', '.join(s.label() for s in steps_from_json(stage.steps))}.\n\n"
                             f"{rt.settings.base_url.rstrip('/')}/orgs/{org.slug}/projects/{project.slug}/plan\n"))


def open_stage_now(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, key: str) -> PlanView:
    """Open the next stage before its date — only if the plan is active and every gate passes."""
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.plan_edit)
        project, plan, stages = _load(session, org, project_slug, lock=True)
        if plan.status != rules.PlanStatus.active.value:
            raise Conflict(f"The plan is {plan.status}; resume it before opening stages.")
        stage = next((s for s in stages if s.key == key), None)
        if stage is None:
            raise NotFound(f"The plan has no stage '{key}'.")
        if stage.opened_at is not None:
            raise Conflict(f"Stage '{key}' opened on {stage.opened_at:%Y-%m-%d %H:%M} UTC already.")
        index = stages.index(stage)
        if index and stages[index - 1].opened_at is None:
            raise Conflict(f"Stage '{stages[index - 1].key}' must open first.")
        failing = [g for g in _evaluate(session, project, stages, now)[key] if not g.passed]
        if failing:
            raise PermissionDenied("Stage '" + key + "' cannot open: " + "; ".join(
                f"{g.name}: {g.detail}" for g in failing) + ".")
        _open(session, rt, actor, org, project, plan, stage, now, early=now < stage.earliest_at)
        return _view(session, org, project, plan, stages, now)


def reconcile(rt: Runtime) -> int:
    """Open every stage that is due; tell watchers once about a stage held by a gate. Returns stages opened.

    One transaction per plan, with the plan row locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a
    second reconciler skips a plan the first is handling; SQLite serialises writers anyway).
    """
    opened = 0
    with rt.read() as session:
        plan_ids = list(session.scalars(select(ReleasePlan.id).where(
            ReleasePlan.status == rules.PlanStatus.active.value)))
    for plan_id in plan_ids:
        try:
            opened += _reconcile_plan(rt, plan_id)
        except Exception:  # noqa: BLE001 - one broken plan must not stop the others; it is logged
            log.exception("Reconciling plan %s failed; will retry on the next pass", plan_id)
    return opened


def _reconcile_plan(rt: Runtime, plan_id: int) -> int:
    now = rt.clock.now()
    opened = 0
    with rt.write() as session:
        query = select(ReleasePlan).where(ReleasePlan.id == plan_id)
        if rt.db.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        plan = session.scalars(query).first()
        if plan is None or plan.status != rules.PlanStatus.active.value:
            return 0
        project = session.get(Project, plan.project_id)
        org = session.get(Organization, plan.org_id)
        if project is None or org is None:
            return 0
        stages = list(session.scalars(select(PlanStage).where(PlanStage.plan_id == plan.id)
                                      .order_by(PlanStage.position)))
        while True:
            gates = _evaluate(session, project, stages, now)
            due = rules.next_due([_spec(s) for s in stages], {s.key: s.opened_at for s in stages},
                                 rules.PlanStatus(plan.status), now, gates)
            if due is None:
                break
            stage = next(s for s in stages if s.key == due.key)
            _open(session, rt, None, org, project, plan, stage, now, early=False)
            opened += 1
        _notify_waiting(session, rt, org, project, plan, stages, now)
    return opened


def _notify_waiting(session: Session, rt: Runtime, org: Organization, project: Project, plan: ReleasePlan,
                    stages: Sequence[PlanStage], now: datetime) -> None:
    """Once per distinct set of holding gates, tell watchers why a due stage has not opened."""
    gates = _evaluate(session, project, stages, now)
    for index, stage in enumerate(stages):
        if stage.opened_at is not None:
            continue
        if (index and stages[index - 1].opened_at is None) or now < stage.earliest_at:
            return
        failing = [g for g in gates[stage.key] if not g.passed]
        if not failing:
            return
        signature = hashlib.sha256("|".join(f"{g.name}:{g.detail}" for g in failing).encode()).hexdigest()[:16]
        reasons = "\n".join(f"- {g.name}: {g.detail}" for g in failing)
        for user in _watchers(session, plan):
            outbox.enqueue(session, rt, key=f"stage-waiting:{stage.id}:{signature}:{user.id}", recipient=user.email,
                           subject=f"{project.name}: stage '{stage.title}' is waiting on a gate",
                           body=(f"Stage '{stage.title}' was due {stage.earliest_at:%Y-%m-%d %H:%M} UTC but has not "
                                 f"opened:\n{reasons}\n\n"
                                 f"{rt.settings.base_url.rstrip('/')}/orgs/{org.slug}/projects/{project.slug}/plan\n"))
        return


def template_names() -> list[tuple[str, str, str]]:
    return [(t.name, t.title, t.description) for t in TEMPLATES.values()]
