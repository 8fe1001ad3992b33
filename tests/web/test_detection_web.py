"""Detection pages: sign-in required, forms need CSRF, roles and organisations are enforced, bad files explained."""

from __future__ import annotations

from fastapi.testclient import TestClient

from releasewise.services import detection
from tests.conftest import World
from tests.services.test_detection import photo_bytes
from tests.web.conftest import csrf_of, sign_in


def test_check_a_file_needs_sign_in_and_csrf(browser_client: TestClient) -> None:
    assert browser_client.get("/detect").status_code in (302, 303)
    sign_in(browser_client, "vic")
    page = browser_client.get("/detect")
    assert page.status_code == 200
    forged = browser_client.post("/detect", files={"file": ("a.jpg", photo_bytes(size=96), "image/jpeg")},
                                 data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
    ok = browser_client.post("/detect", files={"file": ("a.jpg", photo_bytes(size=96), "image/jpeg")},
                             data={"csrf_token": csrf_of(page.text)})
    assert ok.status_code == 200 and "No content credential" in ok.text
    bad = browser_client.post("/detect", files={"file": ("a.jpg", b"plain text", "image/jpeg")},
                              data={"csrf_token": csrf_of(page.text)})
    assert bad.status_code == 415 and "not a JPEG, PNG, WebP" in bad.text


def test_settings_page_is_for_leads_of_the_org(browser_client: TestClient, sqlite_world: World) -> None:
    sign_in(browser_client, "vic")
    assert browser_client.get("/orgs/lab-a/detection").status_code == 403
    sign_in(browser_client, "oscar")
    assert browser_client.get("/orgs/lab-a/detection").status_code == 404
    sign_in(browser_client, "leo")
    page = browser_client.get("/orgs/lab-a/detection")
    assert page.status_code == 200 and "Who may trace" in page.text
    token = csrf_of(page.text)
    assert browser_client.post("/orgs/lab-a/detection/mode", data={"project": "echo", "mode": "public"}).status_code \
        == 403  # no CSRF token
    r = browser_client.post("/orgs/lab-a/detection/mode", data={"project": "echo", "mode": "public",
                                                                "csrf_token": token})
    assert r.status_code == 303
    bad = browser_client.post("/orgs/lab-a/detection/retention", data={"days": "a week", "csrf_token": token})
    assert bad.status_code == 303
    assert detection.settings(sqlite_world.rt, sqlite_world.lead, "lab-a").projects[0].mode == "public"
    assert detection.settings(sqlite_world.rt, sqlite_world.lead, "lab-a").retention_days == 0


def test_evidence_check_shows_on_report_queue_and_incident(browser_client: TestClient, sqlite_world: World) -> None:
    from releasewise.services import evidence_checks, incidents, provenance
    from tests.hfapi.support import gated_setup, request_and_approve
    from tests.services.test_detection import MODEL, strip
    from tests.services.test_incidents import file_report, released

    rt = released(sqlite_world).rt
    gated_setup(rt, sqlite_world.lead)
    grant = request_and_approve(rt, sqlite_world.viewer, sqlite_world.lead)
    out = provenance.mark_output(rt, sqlite_world.lead, "lab-a", "echo", MODEL, release="v3", data=photo_bytes(),
                                 grant_id=grant)
    filed = file_report(rt, evidence=[("frame.jpg", "image/jpeg", strip(out.data))])
    sign_in(browser_client, "leo")
    pending = browser_client.get(f"/orgs/lab-a/reports/{filed.report_id}").text
    assert "Detection check pending" in pending
    evidence_checks.check_pending(rt)
    page = browser_client.get(f"/orgs/lab-a/reports/{filed.report_id}").text
    assert f"grant #{grant}" in page and "watermark traced" in page
    assert "watermark traced" in browser_client.get("/orgs/lab-a/reports").text
    incident = incidents.open_incident(rt, sqlite_world.lead, "lab-a", report_ids=[filed.report_id], title="Leak",
                                       severity=3)
    assert "traced by evidence" in browser_client.get(f"/orgs/lab-a/incidents/{incident.id}").text


def test_settings_page_lists_keys_and_rotates_them(browser_client: TestClient, sqlite_world: World) -> None:
    from releasewise.services import provenance

    provenance.mark_output(sqlite_world.rt, sqlite_world.lead, "lab-a", "echo", "weights-1b", release="v1",
                           data=photo_bytes(size=128))
    sign_in(browser_client, "leo")
    page = browser_client.get("/orgs/lab-a/detection").text
    assert "echo / weights-1b" in page and "content credentials" in page.lower() and "valid until" in page
    r = browser_client.post("/orgs/lab-a/detection/keys/echo/weights-1b/rotate", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303
    keys = provenance.list_watermark_keys(sqlite_world.rt, sqlite_world.lead, "lab-a", "echo")
    assert [k.generation for k in keys] == [0, 1] and keys[0].retired_at is not None
    assert "retired" in browser_client.get("/orgs/lab-a/detection").text
