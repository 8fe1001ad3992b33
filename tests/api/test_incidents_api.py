"""Misuse reports and incidents over the REST API: anonymous filing, problems, follow-up, responders only."""

from __future__ import annotations

import base64
from typing import Any

from fastapi.testclient import TestClient

from releasewise.domain import incidents as rules
from releasewise.logsafe import redact
from tests.api.conftest import bearer
from tests.conftest import World
from tests.services.test_incidents import released

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()


def report_body(api: TestClient, **kw: Any) -> dict[str, Any]:
    c = api.get("/api/v1/reports/challenge").json()
    body: dict[str, Any] = {"org": "lab-a", "project": "echo", "description": "Voice clone used in scam calls.",
                            "harm_category": "fraud", "urls": ["https://video.example/1"],
                            "observed_at": "2026-01-05T10:00:00Z",
                            "evidence": [{"filename": "a.png", "content_type": "image/png", "data_base64": PNG}],
                            "challenge": c["challenge"], "solution": rules.solve(c["challenge"])}
    body.update(kw)
    return body


def test_anonymous_filing_followup_and_responder_views(api: TestClient, sqlite_world: World) -> None:
    w = released(sqlite_world)
    r = api.post("/api/v1/reports", json=report_body(api))
    assert r.status_code == 201, r.text
    filed = r.json()
    assert filed["followup_url"].endswith(filed["followup_token"]) and "/invitations/" in filed["followup_url"]
    assert filed["followup_token"] not in redact(f"GET {filed['followup_url']} HTTP/1.1")  # access logs
    r = api.get("/api/v1/reports/followup", headers={"X-Report-Token": filed["followup_token"]})
    assert r.status_code == 200 and r.json()["status"] == "new"
    assert api.get("/api/v1/reports/followup").status_code == 401
    assert api.get("/api/v1/reports/followup", headers={"X-Report-Token": "nope"}).status_code == 404
    lead = bearer(w, w.lead)
    queue = api.get("/api/v1/orgs/lab-a/reports", headers=lead).json()
    assert [(q["id"], q["reporter"]) for q in queue] == [(filed["report_id"], "anonymous")]
    rid, eid = filed["report_id"], queue[0]["evidence"][0]["id"]
    ev = api.get(f"/api/v1/orgs/lab-a/reports/{rid}/evidence/{eid}", headers=lead)
    assert ev.content == base64.b64decode(PNG) and ev.headers["content-type"] == "application/octet-stream"
    # no one else sees it: anonymous 401, other roles 403, other orgs 404
    assert api.get("/api/v1/orgs/lab-a/reports").status_code == 401
    assert api.get(f"/api/v1/orgs/lab-a/reports/{rid}/evidence/{eid}").status_code == 401
    assert api.get("/api/v1/orgs/lab-a/reports", headers=bearer(w, w.researcher)).status_code == 403
    assert api.get(f"/api/v1/orgs/lab-a/reports/{rid}", headers=bearer(w, w.outsider)).status_code == 404
    # triage → incident → action → export
    r = api.post(f"/api/v1/orgs/lab-a/reports/{rid}/triage", json={"status": "triaged", "severity": 4}, headers=lead)
    assert r.status_code == 200 and r.json()["status"] == "triaged"
    r = api.post(f"/api/v1/orgs/lab-a/reports/{rid}/triage", json={"status": "resolved"}, headers=lead)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    r = api.post("/api/v1/orgs/lab-a/incidents", json={"report_ids": [rid], "title": "Scam calls", "severity": 4},
                 headers=lead)
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    r = api.post(f"/api/v1/orgs/lab-a/incidents/{iid}/actions/narrow-tier",
                 json={"asset": "weights-1b", "tier": "public", "reason": "Contain"}, headers=lead)
    assert r.status_code == 422 and "only narrow" in r.json()["detail"]  # never widen from an incident
    r = api.post(f"/api/v1/orgs/lab-a/incidents/{iid}/actions/narrow-tier",
                 json={"asset": "weights-1b", "tier": "team", "reason": "Contain"}, headers=lead)
    assert r.status_code == 200 and r.json()["actions"][0]["kind"] == "tier_narrowed"
    r = api.post(f"/api/v1/orgs/lab-a/incidents/{iid}/actions/pause-plan", json={"reason": "x"}, headers=lead)
    assert r.status_code == 404 and "no release plan" in r.json()["detail"]
    r = api.get("/api/v1/orgs/lab-a/incidents/export?format=csv", headers=lead)
    assert r.status_code == 200 and r.text.startswith("title,description,incident_date")
    assert api.get("/api/v1/orgs/lab-a/incidents/dashboard", headers=lead).json()["open_incidents_by_severity"][
        "4"] == 1


def test_malformed_reports_are_clear_problems_and_change_nothing(api: TestClient, sqlite_world: World) -> None:
    w = released(sqlite_world)
    big = base64.b64encode(b"x" * (w.rt.settings.report_max_evidence_bytes + 1)).decode()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"harm_category": "spam"}, 422, "harm_category"),
        ({"evidence": [{"filename": "a.png", "content_type": "image/png", "data_base64": "!!"}]}, 422, "base64"),
        ({"evidence": [{"filename": "a.png", "content_type": "image/png", "data_base64": big}]}, 413, "limit is"),
        ({"observed_at": "yesterday at noon"}, 422, "ISO 8601"),
        ({"solution": "x"}, 422, "does not solve"),
        ({"project": "secret", "org": "lab-b", "urls": ["ftp://x"]}, 422, "not a web address"),
        ({"project": "missing"}, 404, "missing"),
    ]
    for kw, code, text in cases:
        r = api.post("/api/v1/reports", json=report_body(api, **kw))
        assert r.status_code == code, (kw, r.text)
        assert r.headers["content-type"] == "application/problem+json" and text in r.text, r.text
    assert api.get("/api/v1/orgs/lab-a/reports", headers=bearer(w, w.lead)).json() == []
    # a bad token is refused, not silently treated as anonymous
    r = api.post("/api/v1/reports", json=report_body(api), headers={"Authorization": "Bearer rwt_nope_nope"})
    assert r.status_code == 401
    # rate limit per IP answers 429 with Retry-After
    for _ in range(w.rt.settings.report_max_per_ip_per_hour):
        assert api.post("/api/v1/reports", json=report_body(api, evidence=[])).status_code == 201
    r = api.post("/api/v1/reports", json=report_body(api, evidence=[]))
    assert r.status_code == 429 and r.headers["retry-after"] == "3600"


def test_signed_in_reporter_is_named_to_responders_only(api: TestClient, sqlite_world: World) -> None:
    w = released(sqlite_world)
    r = api.post("/api/v1/reports", json=report_body(api), headers=bearer(w, w.outsider))
    assert r.status_code == 201
    followup = api.get("/api/v1/reports/followup", headers={"X-Report-Token": r.json()["followup_token"]}).json()
    assert "oscar" not in str(followup)
    queue = api.get("/api/v1/orgs/lab-a/reports", headers=bearer(w, w.owner)).json()
    assert queue[0]["reporter"] == "oscar"


def test_evidence_is_accepted_by_its_content_and_mismatches_store_nothing(api: TestClient,
                                                                          sqlite_world: World) -> None:
    w = released(sqlite_world)
    exe = base64.b64encode(b"MZ\x90\x00 not a picture").decode()
    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0 a real jpeg").decode()
    cases = [
        ({"filename": "cat.png", "content_type": "image/png", "data_base64": exe}, "Windows executable"),
        ({"filename": "cat.png", "content_type": "image/png", "data_base64": jpeg}, "sent as image/png"),
        ({"filename": "cat.gif", "content_type": "application/octet-stream", "data_base64": jpeg}, "named .gif"),
    ]
    for item, detected in cases:
        r = api.post("/api/v1/reports", json=report_body(api, evidence=[item]))
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
        problem = r.json()
        assert detected in problem["detail"] and "Accepted: PNG image" in problem["detail"], problem
    assert api.get("/api/v1/orgs/lab-a/reports", headers=bearer(w, w.lead)).json() == []
    assert not (w.rt.settings.data_dir / "evidence").exists() or not any(
        p.is_file() for p in (w.rt.settings.data_dir / "evidence").rglob("*"))
    # declared generically, stored with the type its content shows
    r = api.post("/api/v1/reports", json=report_body(api, evidence=[
        {"filename": "frame", "content_type": "application/octet-stream", "data_base64": jpeg}]))
    assert r.status_code == 201, r.text
    report = api.get("/api/v1/orgs/lab-a/reports", headers=bearer(w, w.lead)).json()[0]
    assert report["evidence"][0]["content_type"] == "image/jpeg"
