from __future__ import annotations

import threading
from datetime import timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services import audit, outbox, plans, projects, reviews
from releasewise.services.runtime import Runtime
from releasewise.store.models import AuditEvent, OutboxMessage
from tests.conftest import PASSWORD, World
from tests.services.assessment_fixtures import expert, open_review, vote, with_submitted_assessment


def at(rt: Runtime, days: float) -> str:
    return (rt.clock.now() + timedelta(days=days)).replace(tzinfo=timezone.utc).isoformat()


def two_stage_plan(rt: Runtime, second_gates: dict[str, int] | None = None) -> dict[str, Any]:
    return {"stages": [
        {"key": "paper", "title": "Paper public", "earliest": at(rt, 1), "steps": ["paper:public"]},
        {"key": "weights", "title": "Weights to researchers", "earliest": at(rt, 10),
         "steps": ["weights-1b:vetted_researchers"], "gates": second_gates or {}},
    ]}


@pytest.fixture
def planned(world: World) -> World:
    """Echo has a submitted assessment and an approved decision covering paper → public only."""
    from releasewise.services import accounts

    with_submitted_assessment(world)
    expert(world, "fiona", ["fraud"])
    review_id = open_review(world, ["fiona"], steps=["paper:public"])
    vote(world, accounts.authenticate_password(world.rt, login="fiona", password=PASSWORD, ip="x"), review_id,
         "approve")
    reviews.close_review(world.rt, world.lead, "lab-a", review_id, rationale="Paper is fine.")
    return world


def assets(w: World) -> dict[str, tuple[str, str]]:
    return {a.slug: (a.current_tier, a.high_water_tier) for a in projects.list_assets(w.rt, w.lead, "lab-a", "echo")}


def test_stages_open_when_due_and_wait_on_missing_decisions(planned: World) -> None:
    w = planned
    view = plans.apply_plan(w.rt, w.lead, "lab-a", "echo", two_stage_plan(w.rt))
    assert [s.state for s in view.stages] == ["scheduled", "scheduled"]
    assert plans.reconcile(w.rt) == 0
    w.rt.clock.advance(days=2)  # type: ignore[attr-defined]
    assert plans.reconcile(w.rt) == 1
    assert plans.reconcile(w.rt) == 0  # idempotent
    assert assets(w)["paper"] == ("public", "public")
    w.rt.clock.advance(days=10)  # type: ignore[attr-defined]
    assert plans.reconcile(w.rt) == 0
    view = plans.get_plan(w.rt, w.viewer, "lab-a", "echo")
    assert [s.state for s in view.stages] == ["opened", "waiting"]
    holding = view.stages[1].holding_gates
    assert holding and "no decision names this step" in holding[0].detail
    assert plans.reconcile(w.rt) == 0
    outbox.deliver_pending(w.rt)
    subjects = [m.subject for m in w.rt.mailer.sent]  # type: ignore[attr-defined]
    # Two watchers (owner, lead): one "opened" mail each, one "waiting" mail each despite three passes.
    assert sum("opened" in s for s in subjects) == 2 and sum("waiting on a gate" in s for s in subjects) == 2
    events = audit.list_events(w.rt, w.owner, "lab-a", action_prefix="plan.stage_opened")
    assert len(events) == 1 and events[0].actor == "system"
    widened = audit.list_events(w.rt, w.owner, "lab-a", action_prefix="asset.tier_widened")
    assert widened[0].summary["plan_stage"] == "paper" and widened[0].summary["decision"]


def test_pause_halt_and_early_opening(planned: World) -> None:
    w = planned
    plans.apply_plan(w.rt, w.lead, "lab-a", "echo", two_stage_plan(w.rt))
    plans.set_status(w.rt, w.lead, "lab-a", "echo", "paused")
    w.rt.clock.advance(days=2)  # type: ignore[attr-defined]
    assert plans.reconcile(w.rt) == 0
    with pytest.raises(Conflict, match="resume it"):
        plans.open_stage_now(w.rt, w.lead, "lab-a", "echo", "paper")
    plans.set_status(w.rt, w.lead, "lab-a", "echo", "active")
    with pytest.raises(Conflict, match="'paper' must open first"):
        plans.open_stage_now(w.rt, w.lead, "lab-a", "echo", "weights")
    plans.open_stage_now(w.rt, w.lead, "lab-a", "echo", "paper")
    with pytest.raises(PermissionDenied, match="weights-1b → vetted_researchers"):
        plans.open_stage_now(w.rt, w.lead, "lab-a", "echo", "weights")
    plans.set_status(w.rt, w.owner, "lab-a", "echo", "halted")
    w.rt.clock.advance(days=30)  # type: ignore[attr-defined]
    assert plans.reconcile(w.rt) == 0
    with pytest.raises(Conflict, match="halted"):
        plans.set_status(w.rt, w.owner, "lab-a", "echo", "active")
    with pytest.raises(Conflict, match="halted"):
        plans.apply_plan(w.rt, w.lead, "lab-a", "echo", two_stage_plan(w.rt))


def test_opened_stages_are_kept_when_the_plan_is_edited(planned: World) -> None:
    w = planned
    plans.apply_plan(w.rt, w.lead, "lab-a", "echo", two_stage_plan(w.rt))
    w.rt.clock.advance(days=2)  # type: ignore[attr-defined]
    plans.reconcile(w.rt)
    doc = plans.get_plan(w.rt, w.lead, "lab-a", "echo").document
    doc["stages"][1]["earliest"] = at(w.rt, 3)
    view = plans.apply_plan(w.rt, w.lead, "lab-a", "echo", doc)
    assert view.stages[0].opened_at is not None and view.stages[1].earliest_at < w.rt.clock.now() + timedelta(days=4)


def test_permissions_and_bad_input_change_nothing(planned: World) -> None:
    w = planned
    with pytest.raises(NotFound, match="no release plan"):
        plans.get_plan(w.rt, w.lead, "lab-a", "echo")
    with pytest.raises(PermissionDenied, match="plan.edit"):
        plans.apply_plan(w.rt, w.researcher, "lab-a", "echo", two_stage_plan(w.rt))
    bad = two_stage_plan(w.rt)
    bad["stages"][0]["earliest"] = "2020-01-01T00:00:00Z"
    with pytest.raises(InvalidInput, match="in the past"):
        plans.apply_plan(w.rt, w.lead, "lab-a", "echo", bad)
    with pytest.raises(NotFound):
        plans.get_plan(w.rt, w.outsider, "lab-a", "echo")
    plans.apply_plan(w.rt, w.lead, "lab-a", "echo", two_stage_plan(w.rt))
    with pytest.raises(PermissionDenied):
        plans.set_status(w.rt, w.researcher, "lab-a", "echo", "halted")
    with pytest.raises(InvalidInput, match="active, paused or halted"):
        plans.set_status(w.rt, w.lead, "lab-a", "echo", "stopped")
    assert plans.get_plan(w.rt, w.viewer, "lab-a", "echo").status == "active"


def test_templates_fill_in_the_projects_assets(planned: World) -> None:
    from datetime import datetime

    w = planned
    doc = plans.template_document(w.rt, w.lead, "lab-a", "echo", "gpt2-staged",
                                  datetime.now(timezone.utc) + timedelta(days=30))
    assert doc["stages"][0]["steps"][0] == "weights-1b:public"
    view = plans.apply_plan(w.rt, w.lead, "lab-a", "echo", doc)
    assert view.template == "gpt2-staged"


def test_concurrent_reconcilers_open_each_stage_once(planned: World) -> None:
    """Eight reconcilers at once (on PostgreSQL: really concurrent) — one opening, one mail per watcher."""
    w = planned
    plans.apply_plan(w.rt, w.lead, "lab-a", "echo", two_stage_plan(w.rt))
    w.rt.clock.advance(days=2)  # type: ignore[attr-defined]
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        try:
            barrier.wait()
            results.append(plans.reconcile(w.rt))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(results) == 1
    with w.rt.db.unit_of_work(write=False) as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "plan.stage_opened")) == 1
        assert s.scalar(select(func.count()).where(AuditEvent.action == "asset.tier_widened")) == 1
        assert s.scalar(select(func.count()).where(OutboxMessage.subject.contains("opened"))) == 2
    assert audit.verify_org_chain(w.rt, w.owner, "lab-a").intact


def test_waiting_stages_are_listed_for_the_organisation(planned: World) -> None:
    w = planned
    plans.apply_plan(w.rt, w.lead, "lab-a", "echo", two_stage_plan(w.rt))
    assert plans.waiting_stages(w.rt, w.lead, "lab-a") == []
    w.rt.clock.advance(days=11)  # type: ignore[attr-defined]
    plans.reconcile(w.rt)  # stage 1 opens; stage 2 is due but has no covering decision
    waiting = plans.waiting_stages(w.rt, w.viewer, "lab-a")
    assert [(x.project_slug, x.stage.key) for x in waiting] == [("echo", "weights")]
    assert "no decision names this step" in waiting[0].stage.holding_gates[0].detail
    with pytest.raises(NotFound):
        plans.waiting_stages(w.rt, w.outsider, "lab-a")


def test_a_stage_can_open_detection_when_it_opens(planned: World) -> None:
    """Detector-first: the first stage opens watermark tracing to partners before the generator ships."""
    from releasewise.services import detection

    w = planned
    doc = two_stage_plan(w.rt)
    doc["stages"][0]["detection"] = "off"
    doc["stages"][1]["detection"] = "public"
    with pytest.raises(InvalidInput, match="public, partners, off"):
        plans.apply_plan(w.rt, w.lead, "lab-a", "echo", {"stages": [{**doc["stages"][0], "detection": "all"}]})
    view = plans.apply_plan(w.rt, w.lead, "lab-a", "echo", doc)
    assert "detection → off" in view.stages[0].steps
    assert view.document["stages"][1]["detection"] == "public"
    w.rt.clock.advance(days=2)  # type: ignore[attr-defined]
    assert plans.reconcile(w.rt) == 1
    assert detection.settings(w.rt, w.lead, "lab-a").projects[0].mode == "off"
    events = [e for e in audit.list_events(w.rt, w.owner, "lab-a") if e.action == "detection.mode_set"]
    assert events and events[0].summary["plan_stage"] == "paper"
