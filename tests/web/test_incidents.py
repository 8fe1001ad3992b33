"""Misuse-report pages over HTTP: the public form, the private follow-up page, triage and incident pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from releasewise.domain import incidents as rules
from releasewise.services import incidents as svc
from tests.conftest import World
from tests.services.test_incidents import released
from tests.web.conftest import csrf_of, sign_in

CHALLENGE_RE = re.compile(r'name="challenge" value="([^"]+)"')


def form_fields(html: str, **kw: str) -> dict[str, str]:
    match = CHALLENGE_RE.search(html)
    assert match is not None
    fields = {"csrf_token": csrf_of(html), "challenge": match.group(1), "solution": rules.solve(match.group(1)),
              "harm_category": "impersonation", "description": "A fake video of a mayor.",
              "urls": "https://video.example/1\nhttps://video.example/2", "observed_at": "2026-01-02", "contact": ""}
    fields.update(kw)
    return fields


def test_anonymous_report_form_followup_page_and_errors(browser_client: TestClient, sqlite_world: World) -> None:
    w = released(sqlite_world)
    page = browser_client.get("/report/lab-a/echo")
    assert page.status_code == 200 and "Report misuse of Echo" in page.text and "report-pow.js" in page.text
    assert browser_client.get("/report/lab-a/nope").status_code == 404
    too_big = b"x" * (w.rt.settings.report_max_evidence_bytes + 1)
    r = browser_client.post("/report/lab-a/echo", data=form_fields(page.text),
                            files=[("evidence", ("big.png", too_big, "image/png"))])
    assert r.status_code == 413 and "limit is" in r.text and "A fake video of a mayor." in r.text  # kept typing
    r = browser_client.post("/report/lab-a/echo", data=form_fields(page.text, csrf_token="0" * 64))
    assert r.status_code == 403
    assert svc.list_reports(w.rt, w.lead, "lab-a") == []
    r = browser_client.post("/report/lab-a/echo", data=form_fields(page.text),
                            files=[("evidence", ("clip.wav", b"RIFF....WAVE", "audio/wav"))])
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    link = re.search(r'id="followup-link" href="([^"]+)"', r.text)
    assert link is not None and svc.FOLLOWUP_LINK_PATH in link.group(1)
    path = link.group(1).split("127.0.0.1:8000", 1)[-1]
    followup = browser_client.get(path)
    assert followup.status_code == 200 and 'id="report-status">new<' in followup.text
    assert browser_client.get(svc.FOLLOWUP_LINK_PATH + "x" * 43).status_code == 404
    report = svc.list_reports(w.rt, w.lead, "lab-a")[0]
    assert report.reporter == "anonymous" and report.urls == ("https://video.example/1", "https://video.example/2")
    assert report.evidence[0].content_type == "audio/wav"


def test_responder_pages_and_boundaries(browser_client: TestClient, sqlite_world: World) -> None:
    w = released(sqlite_world)
    c = svc.challenge(w.rt)
    filed = svc.submit_report(w.rt, None, "lab-a", "echo", description="Fake CEO voice.", harm_category="fraud",
                              evidence=[("a.png", "image/png", b"\x89PNG\r\n\x1a\n x")], challenge=c.challenge,
                              solution=rules.solve(c.challenge), ip="192.0.2.1")
    rid = filed.report_id
    assert browser_client.get("/orgs/lab-a/reports").status_code == 303  # sign in first
    sign_in(browser_client, "rita")
    assert browser_client.get("/orgs/lab-a/reports").status_code == 403
    assert browser_client.get(f"/orgs/lab-a/reports/{rid}/evidence/1").status_code == 403
    browser_client.cookies.clear()
    sign_in(browser_client, "oscar")
    assert browser_client.get(f"/orgs/lab-a/reports/{rid}").status_code == 404
    browser_client.cookies.clear()
    sign_in(browser_client, "leo")
    queue = browser_client.get("/orgs/lab-a/reports")
    assert queue.status_code == 200 and f"#{rid}" in queue.text and "Misuse reports" in queue.text
    page = browser_client.get(f"/orgs/lab-a/reports/{rid}")
    assert "anonymous" in page.text and "a.png" in page.text
    csrf = csrf_of(page.text)
    r = browser_client.post(f"/orgs/lab-a/reports/{rid}/triage", data={"csrf_token": csrf, "status": "resolved"})
    assert r.status_code == 303 and svc.get_report(w.rt, w.lead, "lab-a", rid).status == "new"
    r = browser_client.post(f"/orgs/lab-a/reports/{rid}/incident", data={"csrf_token": csrf, "title": "",
                                                                       "severity": "4"})
    assert r.status_code == 303 and "must not be empty" in browser_client.get(r.headers["location"]).text
    r = browser_client.post(f"/orgs/lab-a/reports/{rid}/incident", data={"csrf_token": csrf, "title": "CEO clone",
                                                                       "severity": "4"})
    assert r.status_code == 303 and "/incidents/" in r.headers["location"]
    incident = browser_client.get(r.headers["location"])
    assert "CEO clone" in incident.text and "narrow-form" in incident.text and "notify-form" in incident.text
    iid = svc.list_incidents(w.rt, w.lead, "lab-a")[0].id
    r = browser_client.post(f"/orgs/lab-a/incidents/{iid}", data={"csrf_token": csrf, "note": "Called the bank."})
    assert "Called the bank." in browser_client.get(r.headers["location"]).text
    export = browser_client.get("/orgs/lab-a/incidents/export.csv")
    assert export.status_code == 200 and "CEO clone" in export.text
    assert browser_client.get("/orgs/lab-a/incidents/export.xml").status_code == 422
