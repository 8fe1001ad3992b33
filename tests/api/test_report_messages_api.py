"""The responder ↔ reporter thread over the REST API: the reporter by link secret, responders by token."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from releasewise.logsafe import redact
from tests.api.conftest import bearer
from tests.api.test_incidents_api import report_body
from tests.conftest import World
from tests.services.test_incidents import released

WAV = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt audio").decode()


def test_both_sides_of_the_thread(api: TestClient, sqlite_world: World) -> None:
    w = released(sqlite_world)
    filed = api.post("/api/v1/reports", json=report_body(api)).json()
    rid, reporter = filed["report_id"], {"X-Report-Token": filed["followup_token"]}
    lead = bearer(w, w.lead)
    r = api.post(f"/api/v1/orgs/lab-a/reports/{rid}/messages", json={"body": "Can you send the full recording?"},
                 headers=lead)
    assert r.status_code == 201, r.text
    assert r.json()["author"] == "leo" and r.json()["sender"] == "responder"
    seen = api.get("/api/v1/reports/followup/messages", headers=reporter).json()
    assert [(m["author"], m["body"]) for m in seen] == [("Lab A", "Can you send the full recording?")]
    r = api.post("/api/v1/reports/followup/messages", headers=reporter, json={
        "body": "Here it is.", "evidence": [{"filename": "full.wav", "content_type": "audio/wav", "data_base64": WAV}]})
    assert r.status_code == 201, r.text
    assert r.json()["author"] == "you" and r.json()["evidence"][0]["content_type"] == "audio/wav"
    thread = api.get(f"/api/v1/orgs/lab-a/reports/{rid}/messages", headers=lead).json()
    assert [(m["sender"], m["author"]) for m in thread] == [("responder", "leo"), ("reporter", "reporter")]
    assert thread[1]["emailed"] == 2  # owner and release lead were told
    eid = thread[1]["evidence"][0]["id"]
    assert api.get(f"/api/v1/orgs/lab-a/reports/{rid}/evidence/{eid}", headers=lead).content == base64.b64decode(WAV)
    # the secret travels in a header, never in a logged path
    assert filed["followup_token"] not in redact("POST /api/v1/reports/followup/messages HTTP/1.1")


def test_thread_problems(api: TestClient, sqlite_world: World) -> None:
    w = released(sqlite_world)
    filed = api.post("/api/v1/reports", json=report_body(api)).json()
    rid, reporter = filed["report_id"], {"X-Report-Token": filed["followup_token"]}
    assert api.get("/api/v1/reports/followup/messages").status_code == 401
    assert api.get("/api/v1/reports/followup/messages", headers={"X-Report-Token": "nope"}).status_code == 404
    r = api.post("/api/v1/reports/followup/messages", headers=reporter, json={"body": "x", "evidence": [
        {"filename": "x.png", "content_type": "image/png", "data_base64": base64.b64encode(b"MZ\x90").decode()}]})
    assert r.status_code == 422 and "Windows executable" in r.json()["detail"] and "Accepted:" in r.json()["detail"]
    assert api.post("/api/v1/reports/followup/messages", headers=reporter, json={"body": ""}).status_code == 422
    assert api.post("/api/v1/reports/followup/messages", headers=reporter,
                    json={"body": "x", "extra": 1}).status_code == 422
    assert api.post(f"/api/v1/orgs/lab-a/reports/{rid}/messages", json={"body": "hi"}).status_code == 401
    r = api.post(f"/api/v1/orgs/lab-a/reports/{rid}/messages", json={"body": "hi"},
                 headers=bearer(w, w.researcher))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert api.get(f"/api/v1/orgs/lab-a/reports/{rid}/messages", headers=bearer(w, w.outsider)).status_code == 404
    assert api.get(f"/api/v1/orgs/lab-a/reports/{rid}/messages", headers=bearer(w, w.lead)).json() == []
