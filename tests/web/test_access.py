"""Access pages over HTTP (TestClient): request form, queue, settings, uploads, log, CSV, CSRF."""

from __future__ import annotations

from fastapi.testclient import TestClient

from releasewise.services import access, registry
from tests.conftest import World, make_user
from tests.hfapi.support import gated_setup, publish
from tests.web.conftest import csrf_of, sign_in

PAGE = "/orgs/lab-a/projects/echo/assets/weights-1b/access"


def test_request_form_errors_keep_the_input_and_change_nothing(browser_client: TestClient,
                                                              sqlite_world: World) -> None:
    w = sqlite_world
    publish(w.rt, w.researcher, {"w.bin": b"weights"})
    gated_setup(w.rt, w.lead)
    sam = make_user(w.rt, "sam")
    sign_in(browser_client, "sam")
    page = browser_client.get(PAGE)
    assert page.status_code == 200 and "No voice cloning" in page.text and "<h1>Terms</h1>" in page.text
    assert "w.bin" not in page.text  # no file names before access
    form = {"csrf_token": csrf_of(page.text), "intended_use": "Detector research", "institution": "Uni",
            "answer_country": "Narnia", "checkbox": ["No impersonation", "Consent of speakers"]}
    r = browser_client.post(PAGE, data=form)
    assert r.status_code == 422 and "ISO country" in r.text and "Detector research" in r.text
    assert access.my_requests(w.rt, sam) == []
    r = browser_client.post(PAGE, data={**form, "answer_country": "ke", "checkbox": ["No impersonation"]})
    assert r.status_code == 422 and "Accept every statement" in r.text
    r = browser_client.post(PAGE, data={**form, "csrf_token": "0" * 64, "answer_country": "KE"})
    assert r.status_code == 403 and access.my_requests(w.rt, sam) == []
    r = browser_client.post(PAGE, data={**form, "answer_country": "KE"})
    assert r.status_code == 303
    assert access.my_requests(w.rt, sam)[0].answers == {"country": "KE"}


def test_queue_batch_decision_revocation_and_downloads_page(browser_client: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    publish(w.rt, w.researcher, {"w.bin": b"weights"})
    gated_setup(w.rt, w.lead)
    people = [make_user(w.rt, n) for n in ("sam", "tara")]
    ids = [access.submit_request(w.rt, p, "lab-a", "echo", "weights-1b", intended_use="x", institution="y",
                                 answers={"country": "DE"},
                                 checkboxes=["No impersonation", "Consent of speakers"]).id for p in people]
    sign_in(browser_client, "leo")
    page = browser_client.get("/orgs/lab-a/access")
    assert page.status_code == 200 and "sam" in page.text and "tara" in page.text and "Median" in page.text
    token = csrf_of(page.text)
    r = browser_client.post("/orgs/lab-a/access/decisions", data={"csrf_token": token, "request_id": ids,
                                                                  "decision": "reject", "reason": ""})
    assert r.status_code == 422 and "Reason" in r.text
    r = browser_client.post("/orgs/lab-a/access/decisions", data={"csrf_token": token, "request_id": ids,
                                                                  "decision": "approve"})
    assert r.status_code == 303
    assert {g.grantee for g in access.list_grants(w.rt, w.lead, "lab-a")} == {"sam", "tara"}
    ticket = registry.resolve_file(w.rt, people[0], "lab-a", "echo-weights-1b", "main", "w.bin")
    registry.log_download(w.rt, people[0], ticket, sent_bytes=7, range_start=0, via="web", ip="1.2.3.4")
    grant = access.list_grants(w.rt, w.lead, "lab-a")[0]
    r = browser_client.post(f"/orgs/lab-a/access/grants/{grant.id}/revoke", data={"csrf_token": token,
                                                                                  "reason": "Leaked"})
    assert r.status_code == 303
    downloads = browser_client.get("/orgs/lab-a/access/downloads")
    assert downloads.status_code == 200 and "<svg" in downloads.text and "1 downloads" in downloads.text
    csv_text = browser_client.get("/orgs/lab-a/access/downloads.csv").text
    assert csv_text.splitlines()[1].split(",")[1:6] == ["sam", "echo/weights-1b", "v1", "w.bin", "7"]


def test_outsiders_and_non_leads_cannot_see_queue_or_log(browser_client: TestClient, sqlite_world: World) -> None:
    sign_in(browser_client, "rita")
    assert browser_client.get("/orgs/lab-a/access").status_code == 403
    assert browser_client.get("/orgs/lab-a/access/downloads.csv").status_code == 403
    sign_in(browser_client, "oscar")
    assert browser_client.get("/orgs/lab-a/access/downloads").status_code == 404
    assert browser_client.get(PAGE).status_code == 404  # team tier: not even requestable


def test_settings_and_small_file_upload(browser_client: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    sign_in(browser_client, "leo")
    page = browser_client.get("/orgs/lab-a/projects/echo/access/settings")
    token = csrf_of(page.text)
    r = browser_client.post("/orgs/lab-a/projects/echo/access/settings", data={
        "csrf_token": token, "approval_mode": "rules", "email_domains": "uni.example\n", "trusted_orgs": "",
        "form_fields": "country | Country | country\npurpose? | Purpose | select | research, teaching"})
    assert r.status_code == 303
    policy = access.get_policy(w.rt, w.lead, "lab-a", "echo")
    assert policy.approval_mode == "rules" and [f["name"] for f in policy.form_fields] == ["country", "purpose"]
    r = browser_client.post("/orgs/lab-a/projects/echo/access/settings", data={
        "csrf_token": token, "approval_mode": "manual", "form_fields": "broken line"})
    assert r.status_code == 422 and "name | label | type" in r.text
    assert access.get_policy(w.rt, w.lead, "lab-a", "echo").approval_mode == "rules"
    r = browser_client.post("/orgs/lab-a/projects/echo/access/agreements", data={
        "csrf_token": token, "title": "Licence", "body_md": "Be **good**.", "checkboxes": "I will be good"})
    assert r.status_code == 303 and access.get_policy(w.rt, w.lead, "lab-a", "echo").agreement is not None
    r = browser_client.post(PAGE.replace("/access", "/upload"), data={"csrf_token": token},
                            files=[("files", ("notes.txt", b"hello", "text/plain")),
                                   ("files", ("cfg.json", b"{}", "application/json"))])
    assert r.status_code == 303, r.text
    page = browser_client.get(PAGE)
    assert "notes.txt" in page.text and "v1" in page.text
    got = browser_client.get("/orgs/lab-a/projects/echo/assets/weights-1b/download/v1/notes.txt")
    assert got.content == b"hello"
    assert access.downloads(w.rt, w.lead, "lab-a")[0].via == "web"
