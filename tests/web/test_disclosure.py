"""Disclosure pages over HTTP: opening a case, the party's page, timezones, errors, leaks, CSRF."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from releasewise.logsafe import redact
from releasewise.services import disclosure as svc
from tests.conftest import World
from tests.services.test_disclosure import BRIEFING, setup_case, token
from tests.web.conftest import csrf_of, sign_in


def test_lead_opens_a_case_in_their_timezone_and_bad_input_changes_nothing(browser_client: TestClient,
                                                                           sqlite_world: World) -> None:
    w = sqlite_world
    sign_in(browser_client, "leo")
    page = browser_client.get("/orgs/lab-a/disclosure")
    assert page.status_code == 200 and "Open a case" in page.text
    csrf = csrf_of(page.text)
    form = {"csrf_token": csrf, "project": "echo", "title": "Echo briefing", "briefing_md": "**Bold** claim",
            "embargo_ends_at": "2001-01-01T09:00", "timezone": "Europe/Paris"}
    r = browser_client.post("/orgs/lab-a/disclosure", data=form)
    assert r.status_code == 303 and svc.list_cases(w.rt, w.lead, "lab-a") == []
    assert "in the past" in browser_client.get(r.headers["location"]).text
    r = browser_client.post("/orgs/lab-a/disclosure", data={**form, "csrf_token": "0" * 64,
                                                            "embargo_ends_at": "2099-01-01T09:00"})
    assert r.status_code == 403 and svc.list_cases(w.rt, w.lead, "lab-a") == []
    paris = ZoneInfo("Europe/Paris")
    local = (w.rt.clock.now().replace(tzinfo=UTC) + timedelta(days=5)).astimezone(paris)
    r = browser_client.post("/orgs/lab-a/disclosure", data={**form, "embargo_ends_at": f"{local:%Y-%m-%dT%H:%M}"})
    assert r.status_code == 303
    case = svc.list_cases(w.rt, w.lead, "lab-a")[0]
    assert case.embargo_ends_at == local.replace(second=0, microsecond=0).astimezone(UTC).replace(tzinfo=None)
    page = browser_client.get(r.headers["location"])
    assert "<strong>Bold</strong>" in page.text and "UTC" in page.text
    browser_client.post("/disclosure/timezone", data={"csrf_token": csrf, "timezone": "Asia/Tokyo",
                                                      "next": f"/orgs/lab-a/disclosure/{case.id}"})
    page = browser_client.get(f"/orgs/lab-a/disclosure/{case.id}")
    assert "(Asia/Tokyo)" in page.text and f"{case.embargo_ends_at:%Y-%m-%d %H:%M} UTC" in page.text


def test_party_page_accept_ready_and_what_others_see(browser_client: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    c = setup_case(w)
    link = c.platform_link.split("://", 1)[1].split("/", 1)[1]
    page = browser_client.get("/" + link)
    assert page.status_code == 200 and "Accept the embargo" in page.text and "SECRET-DETAIL" not in page.text
    assert "Detect Lab" not in page.text and page.headers["referrer-policy"] == "no-referrer"
    csrf = csrf_of(page.text)
    assert browser_client.post("/" + link + "/state", data={"csrf_token": csrf, "state": "accepted"}).status_code == 303
    assert browser_client.post("/" + link + "/state", data={"csrf_token": csrf, "state": "ready"}).status_code == 303
    page = browser_client.get("/" + link)
    assert "SECRET-DETAIL-7731" in page.text and 'id="party-state">ready' in page.text
    assert browser_client.get("/disclosure/invitations/not-a-real-token-aaaaaaaaaaaa").status_code == 404
    # Invitation links never reach the server log in clear.
    assert token(c.platform_link) not in redact(f'"GET /{link} HTTP/1.1" 200')
    # The lab's board; a viewer in the same lab sees nothing of the open case; the public page neither.
    sign_in(browser_client, "leo")
    board = browser_client.get(f"/orgs/lab-a/disclosure/{c.id}").text
    assert 'data-column="ready"' in board and "Moderate Platform" in board
    sign_in(browser_client, "vic")
    assert browser_client.get(f"/orgs/lab-a/disclosure/{c.id}").status_code == 404
    assert BRIEFING not in browser_client.get("/orgs/lab-a/disclosure").text
    assert "No published disclosures" in browser_client.get("/orgs/lab-a/projects/echo/disclosures").text
    svc.publish(w.rt, w.lead, "lab-a", c.id, public_summary="Echo-1 is out; detector shared with platforms.")
    assert "detector shared" in browser_client.get("/orgs/lab-a/projects/echo/disclosures").text
    assert browser_client.get(f"/orgs/lab-a/disclosure/{c.id}").status_code == 200  # now every member


def test_attachments_registry_and_webhook_secret_shown_once(browser_client: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    c = setup_case(w)
    sign_in(browser_client, "leo")
    page = browser_client.get(f"/orgs/lab-a/disclosure/{c.id}")
    csrf = csrf_of(page.text)
    r = browser_client.post(f"/orgs/lab-a/disclosure/{c.id}/attachments", data={"csrf_token": csrf},
                            files={"file": ("eval.csv", b"clip,score\n1,0.9\n", "text/csv")})
    assert r.status_code == 303
    attachment = svc.get_case(w.rt, w.lead, "lab-a", c.id).attachments[0]
    got = browser_client.get(f"/orgs/lab-a/disclosure/{c.id}/attachments/{attachment.id}")
    assert got.content == b"clip,score\n1,0.9\n" and "attachment" in got.headers["content-disposition"]
    # A party reaches the attachment only after accepting the embargo.
    party_path = "/" + c.platform_link.split("://", 1)[1].split("/", 1)[1]
    assert browser_client.get(f"{party_path}/attachments/{attachment.id}").status_code == 404
    svc.party_set_state(w.rt, token(c.platform_link), "accepted")
    assert browser_client.get(f"{party_path}/attachments/{attachment.id}").content.startswith(b"clip")
    # Registry form: a malformed contact email adds nothing.
    r = browser_client.post("/orgs/lab-a/stakeholders", data={"csrf_token": csrf, "name": "Newsroom X",
                                                               "type": "newsroom", "contacts": "Ned, ned@@x"})
    assert r.status_code == 303 and "not a valid email" in browser_client.get(r.headers["location"]).text
    assert "Newsroom X" not in browser_client.get("/orgs/lab-a/stakeholders").text
    # The webhook secret is shown once, on the answer to the form, never again.
    r = browser_client.post("/orgs/lab-a/webhooks", data={"csrf_token": csrf, "url": "https://hooks.example/x"})
    assert r.status_code == 200 and 'id="new-secret"' in r.text
    secret = r.text.split('id="new-secret"')[1].split("<code>")[1].split("</code>")[0]
    assert secret.startswith("whsec_") and secret not in browser_client.get("/orgs/lab-a/webhooks").text
    # A viewer has no webhooks page and no disclosure tab.
    sign_in(browser_client, "vic")
    assert browser_client.get("/orgs/lab-a/webhooks").status_code == 403
    assert "/orgs/lab-a/disclosure" not in browser_client.get("/orgs/lab-a").text
