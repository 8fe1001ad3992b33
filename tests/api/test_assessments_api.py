from __future__ import annotations

from datetime import timedelta

import yaml
from fastapi.testclient import TestClient

from releasewise.services import projects
from tests.api.conftest import bearer
from tests.api.test_api import assert_problem
from tests.conftest import World
from tests.services.assessment_fixtures import STANCES, echo_document, expert

P = "/api/v1/orgs/lab-a/projects/echo"


def test_assessment_review_decision_and_tier_through_the_api(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    projects.create_asset(w.rt, w.lead, "lab-a", "echo", name="Paper", kind="paper")
    expert(w, "fiona", ["fraud", "audio"])
    researcher, lead = bearer(w, w.researcher), bearer(w, w.lead)

    r = api.post(P + "/assessment/import", json={"text": yaml.safe_dump(echo_document()), "submit": True},
                 headers=researcher)
    assert r.status_code == 201 and r.json()["imported_as"] == "version" and r.json()["number"] == 1
    version = api.get(P + "/assessment/versions/1", headers=lead).json()
    weights = next(a for a in version["profile"]["assets"] if a["asset"] == "weights-1b")
    assert weights["recommended_tier"] in {"trusted_partners", "vetted_researchers"}

    suggestions = api.get(P + "/assessment/versions/1/suggested-reviewers", headers=lead).json()
    assert suggestions[0]["username"] == "fiona"
    due = (w.rt.clock.now() + timedelta(days=5)).isoformat() + "Z"
    r = api.post(P + "/reviews", json={"version": 1, "reviewers": ["fiona"], "steps": ["weights-1b:trusted_partners"],
                                       "due_at": due}, headers=lead)
    assert r.status_code == 201, r.text
    review_id = r.json()["id"]

    from releasewise.services import accounts
    from tests.conftest import PASSWORD

    fiona = bearer(w, accounts.authenticate_password(w.rt, login="fiona", password=PASSWORD, ip="x"))
    assert api.get(P + "/assessment/versions/1", headers=fiona).status_code == 200
    assert [x["id"] for x in api.get("/api/v1/me/reviews", headers=fiona).json()] == [review_id]
    assert api.post(f"/api/v1/orgs/lab-a/reviews/{review_id}/conflict", json={"has_conflict": False},
                    headers=fiona).status_code == 200
    r = api.post(f"/api/v1/orgs/lab-a/reviews/{review_id}/vote",
                 json={"vote": "approve_with_conditions", "conditions": ["Partners sign the RAIL terms"],
                       "stances": STANCES}, headers=fiona)
    assert r.status_code == 200, r.text
    assert_problem(api.post(f"/api/v1/orgs/lab-a/reviews/{review_id}/vote",
                            json={"vote": "approve", "stances": STANCES}, headers=fiona), 409, "already voted")

    r = api.post(f"/api/v1/orgs/lab-a/reviews/{review_id}/close", json={"rationale": "Partners only, for now."},
                 headers=lead)
    assert r.status_code == 201 and r.json()["outcome"] == "approved"
    decision_id = r.json()["id"]
    md = api.get(f"/api/v1/orgs/lab-a/decisions/{decision_id}/export", headers=lead)
    assert md.headers["content-type"].startswith("text/markdown") and "Partners sign the RAIL terms" in md.text
    card = api.get(f"/api/v1/orgs/lab-a/decisions/{decision_id}/export?format=model-card", headers=lead)
    assert "## Release considerations" in card.text

    tier = {"tier": "trusted_partners", "reason": "Stage 1"}
    assert_problem(api.post(P + "/assets/weights-1b/tier", json=tier, headers=lead), 403, "condition")
    api.post(f"/api/v1/orgs/lab-a/decisions/{decision_id}/conditions/0/met", headers=lead)
    r = api.post(P + "/assets/weights-1b/tier", json=tier, headers=lead)
    assert r.json()["current_tier"] == "trusted_partners" and r.json()["high_water_tier"] == "trusted_partners"


def test_bad_imports_name_the_line_and_change_nothing(api: TestClient, sqlite_world: World) -> None:
    researcher = bearer(sqlite_world, sqlite_world.researcher)
    text = "summary: x\nscenarios:\n  - id: s1\n    actor: hacker\n"
    body = assert_problem(api.post(P + "/assessment/import", json={"text": text}, headers=researcher), 422)
    assert "scenarios[0].actor (line 4)" in body["detail"]
    assert_problem(api.post(P + "/assessment/import", json={"text": "a: [1"}, headers=researcher), 422, "line")
    assert api.get(P + "/assessment/versions", headers=researcher).json() == []
    assert api.get(P + "/assessment", headers=researcher).json()["latest_version"] is None


def test_outsiders_and_unassigned_reviewers_see_nothing(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    projects.create_asset(w.rt, w.lead, "lab-a", "echo", name="Paper", kind="paper")
    api.put(P + "/assessment", json=echo_document(), headers=bearer(w, w.researcher))
    api.post(P + "/assessment/submit", headers=bearer(w, w.researcher))
    outsider, reviewer = bearer(w, w.outsider), bearer(w, w.reviewer)
    for path in ["/assessment", "/assessment/versions", "/assessment/versions/1"]:
        assert_problem(api.get(P + path, headers=outsider), 404)
    assert_problem(api.get(P + "/assessment/versions/1", headers=reviewer), 404)
    assert_problem(api.get(P + "/assessment/versions", headers=reviewer), 403)
    assert_problem(api.get("/api/v1/orgs/lab-a/decisions", headers=outsider), 404)
    assert_problem(api.patch("/api/v1/orgs/lab-a/policy", json={"scoring": {"max_marginal_risk": 5}},
                             headers=bearer(w, w.owner)), 422, "max_marginal_risk")
    assert_problem(api.post(P + "/assets/weights-1b/tier", json={"tier": "public", "reason": "x"},
                            headers=bearer(w, w.viewer)), 403)
