"""The disclosure API: problems for bad input, no leaks across organisations or parties."""

from __future__ import annotations

from datetime import UTC, timedelta

from fastapi.testclient import TestClient

from releasewise.services import disclosure as svc
from tests.api.conftest import bearer
from tests.conftest import World
from tests.services.test_disclosure import setup_case, token


def test_open_invite_and_errors_as_problems(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    lead = bearer(w, w.lead)
    now = w.rt.clock.now().replace(tzinfo=UTC)
    r = api.post("/api/v1/orgs/lab-a/stakeholders", headers=lead, json={
        "name": "Detect Lab", "type": "detection_research", "contacts": [{"name": "Dan", "email": "dan@detect.example"}]})
    assert r.status_code == 201
    sid = r.json()["id"]
    body = {"project": "echo", "title": "Echo", "briefing_md": "b", "embargo_ends_at": "2030-01-01T09:00:00"}
    r = api.post("/api/v1/orgs/lab-a/disclosure", headers=lead, json=body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "no timezone" in r.json()["detail"] and r.json()["field"] == "embargo_ends_at"
    r = api.post("/api/v1/orgs/lab-a/disclosure", headers=lead, json={**body, "embargo_ends_at": "2001-01-01T09:00Z"})
    assert r.status_code == 422 and "in the past" in r.json()["detail"]
    assert api.get("/api/v1/orgs/lab-a/disclosure", headers=lead).json() == []
    r = api.post("/api/v1/orgs/lab-a/disclosure", headers=lead,
                 json={**body, "embargo_ends_at": (now + timedelta(days=9)).isoformat()})
    assert r.status_code == 201
    case_id = r.json()["id"]
    invite = {"stakeholder_id": sid, "respond_by": (now + timedelta(days=2)).isoformat()}
    r = api.post(f"/api/v1/orgs/lab-a/disclosure/{case_id}/parties", headers=lead, json=invite)
    assert r.status_code == 201 and r.json()["invited"] == ["dan@detect.example"]
    assert "link" not in r.text and "invitations/" not in r.text  # links travel only by email
    r = api.post(f"/api/v1/orgs/lab-a/disclosure/{case_id}/parties", headers=lead, json=invite)
    assert r.status_code == 409
    # Another lab, a viewer and a read-only token.
    assert api.get(f"/api/v1/orgs/lab-a/disclosure/{case_id}", headers=bearer(w, w.outsider)).status_code == 404
    assert api.get(f"/api/v1/orgs/lab-a/disclosure/{case_id}", headers=bearer(w, w.viewer)).status_code == 404
    r = api.post(f"/api/v1/orgs/lab-a/disclosure/{case_id}/publish", headers=bearer(w, w.lead, "read"), json={})
    assert r.status_code == 403
    r = api.post("/api/v1/orgs/lab-a/webhooks", headers=lead, json={"url": "http://127.0.0.1:9/hook"})
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    assert "secret" not in api.get("/api/v1/orgs/lab-a/webhooks", headers=lead).text


def test_party_api_with_the_link_secret(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    c = setup_case(w)
    assert api.get("/api/v1/party/case").status_code == 401
    assert api.get("/api/v1/party/case", headers={"X-Party-Token": "x" * 40}).status_code == 404
    h = {"X-Party-Token": token(c.platform_link)}
    assert api.get("/api/v1/party/case", headers=h).json()["briefing_md"] is None
    r = api.post("/api/v1/party/state", headers=h, json={"state": "no_response"})
    assert r.status_code == 422
    assert api.post("/api/v1/party/state", headers=h, json={"state": "accepted"}).json()["briefed"] is True
    r = api.post("/api/v1/party/messages", headers=h, json={"body": "PLATFORM-ONLY"})
    assert r.status_code == 201
    other = {"X-Party-Token": token(c.detector_link)}
    api.post("/api/v1/party/state", headers=other, json={"state": "accepted"})
    assert "PLATFORM-ONLY" not in api.get("/api/v1/party/case", headers=other).text
    r = api.post("/api/v1/party/time-requests", headers=h, json={"reason": "r", "until": "2030-01-01T00:00"})
    assert r.status_code == 422 and "no timezone" in r.json()["detail"]
    assert svc.get_case(w.rt, w.lead, "lab-a", c.id).time_requests == ()


def test_ids_too_large_for_the_database_are_refused_as_input(api: TestClient, sqlite_world: World) -> None:
    lead = bearer(sqlite_world, sqlite_world.lead)
    huge = "82978340309509102779760640"
    r = api.post(f"/api/v1/orgs/lab-a/disclosure/{huge}/messages", headers=lead, json={"party_id": 1, "body": "x"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = api.post("/api/v1/orgs/lab-a/disclosure/1/parties", headers=lead,
                 json={"stakeholder_id": int(huge), "respond_by": "2030-01-01T00:00Z"})
    assert r.status_code == 422
