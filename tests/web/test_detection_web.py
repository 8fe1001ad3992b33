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
