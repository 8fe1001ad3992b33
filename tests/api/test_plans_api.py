from __future__ import annotations

from datetime import timedelta, timezone

from fastapi.testclient import TestClient

from tests.api.conftest import bearer
from tests.api.test_api import assert_problem
from tests.conftest import World

P = "/api/v1/orgs/lab-a/projects/echo/plan"


def test_plan_api_permissions_and_validation(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    lead, viewer, outsider = bearer(w, w.lead), bearer(w, w.viewer), bearer(w, w.outsider)
    when = (w.rt.clock.now() + timedelta(days=3)).replace(tzinfo=timezone.utc).isoformat()
    doc = {"stages": [{"key": "one", "earliest": when, "steps": ["weights-1b:vetted_researchers"]}]}
    assert_problem(api.get(P, headers=lead), 404, "no release plan")
    assert_problem(api.put(P, json=doc, headers=viewer), 403, "plan.edit")
    assert_problem(api.put(P, json=doc, headers=outsider), 404)
    bad = {"stages": [{"key": "one", "earliest": when.replace("+00:00", ""), "steps": ["weights-1b:public"]}]}
    assert_problem(api.put(P, json=bad, headers=lead), 422, "no timezone")
    assert_problem(api.get(P, headers=lead), 404)
    r = api.put(P, json=doc, headers=lead)
    assert r.status_code == 200 and r.json()["stages"][0]["state"] == "scheduled"
    stage = api.get(P, headers=viewer).json()["stages"][0]
    assert stage["gate_results"][0]["passed"] is False
    assert_problem(api.post(P + "/stages/one/open", headers=lead), 403, "no decision names this step")
    assert_problem(api.post(P + "/status", json={"status": "stopped"}, headers=lead), 422)
    assert api.post(P + "/status", json={"status": "halted"}, headers=lead).json()["status"] == "halted"
    assert_problem(api.get(P, headers=outsider), 404)
    templates = api.get("/api/v1/plan-templates", headers=viewer).json()
    assert {t["name"] for t in templates} == {"gpt2-staged", "detector-first", "paper-api-only"}
    tpl = api.get(P + "/template", params={"name": "gpt2-staged"}, headers=lead)
    assert tpl.status_code == 200 and tpl.json()["stages"][0]["steps"][0] == "weights-1b:public"
    assert_problem(api.get(P + "/template", params={"name": "nope"}, headers=lead), 422, "Unknown template")
