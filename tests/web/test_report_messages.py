"""The responder ↔ reporter thread in the browser pages: report and incident pages, the follow-up page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from releasewise.domain import incidents as rules
from releasewise.services import incidents as svc
from releasewise.services import report_messages as msgs
from tests.conftest import World
from tests.services.test_incidents import released
from tests.web.conftest import csrf_of, sign_in


def _file(w: World) -> svc.FiledView:
    c = svc.challenge(w.rt)
    return svc.submit_report(w.rt, None, "lab-a", "echo", description="Fake CEO voice.", harm_category="fraud",
                             evidence=[("a.png", "image/png", b"\x89PNG\r\n\x1a\n x")], challenge=c.challenge,
                             solution=rules.solve(c.challenge), ip="192.0.2.1")


def test_responders_write_from_report_and_incident_pages_and_the_reporter_replies(
        browser_client: TestClient, sqlite_world: World) -> None:
    w = released(sqlite_world)
    filed = _file(w)
    rid, path = filed.report_id, svc.FOLLOWUP_LINK_PATH + filed.followup_token
    sign_in(browser_client, "leo")
    page = browser_client.get(f"/orgs/lab-a/reports/{rid}")
    assert 'id="message-form"' in page.text and "No messages yet." in page.text
    csrf = csrf_of(page.text)
    r = browser_client.post(f"/orgs/lab-a/reports/{rid}/messages", data={"csrf_token": csrf,
                                                                       "body": "When did the call happen?"})
    assert r.status_code == 303 and r.headers["location"].endswith("#thread")
    assert browser_client.post(f"/orgs/lab-a/reports/{rid}/messages",
                               data={"csrf_token": "0" * 64, "body": "forged"}).status_code == 403
    svc.open_incident(w.rt, w.lead, "lab-a", report_ids=[rid], title="CEO clone", severity=4)
    iid = svc.list_incidents(w.rt, w.lead, "lab-a")[0].id
    incident = browser_client.get(f"/orgs/lab-a/incidents/{iid}")
    assert 'id="incident-message-form"' in incident.text
    r = browser_client.post(f"/orgs/lab-a/incidents/{iid}/message-reporter",
                            data={"csrf_token": csrf, "report_id": str(rid), "body": "We opened an incident."})
    assert r.status_code == 303 and "Message sent" in browser_client.get(r.headers["location"]).text
    r = browser_client.post(f"/orgs/lab-a/incidents/{iid}/message-reporter",
                            data={"csrf_token": csrf, "report_id": str(rid + 50), "body": "x"})
    assert "is not part of incident" in browser_client.get(r.headers["location"]).text

    # the reporter, signed out, on the private page: the organisation's name, never the responder's
    browser_client.cookies.clear()
    followup = browser_client.get(path)
    assert followup.status_code == 200 and followup.headers["cache-control"] == "no-store"
    assert "When did the call happen?" in followup.text and "We opened an incident." in followup.text
    assert "leo" not in followup.text and 'id="reply-form"' in followup.text
    csrf = csrf_of(followup.text)
    r = browser_client.post(path, data={"csrf_token": csrf, "body": "Yesterday at noon."},
                            files=[("evidence", ("second.png", b"MZ\x90 not an image", "image/png"))])
    assert r.status_code == 422 and "Windows executable" in r.text and "Yesterday at noon." in r.text  # kept
    r = browser_client.post(path, data={"csrf_token": csrf, "body": "Yesterday at noon."},
                            files=[("evidence", ("second.png", b"\x89PNG\r\n\x1a\n second", "image/png"))])
    assert r.status_code == 303 and r.headers["cache-control"] == "no-store"
    assert "Yesterday at noon." in browser_client.get(path).text
    assert browser_client.post(path, data={"csrf_token": "0" * 64, "body": "forged"}).status_code == 403
    assert browser_client.post(svc.FOLLOWUP_LINK_PATH + "x" * 43,
                               data={"csrf_token": csrf, "body": "guess"}).status_code == 404

    sign_in(browser_client, "leo")
    page = browser_client.get(f"/orgs/lab-a/reports/{rid}")
    assert "Yesterday at noon." in page.text and "second.png" in page.text
    assert [m.sender for m in msgs.thread(w.rt, w.lead, "lab-a", rid)] == ["responder", "responder", "reporter"]
    # other members cannot write
    browser_client.cookies.clear()
    sign_in(browser_client, "rita")
    r = browser_client.post(f"/orgs/lab-a/reports/{rid}/messages",
                            data={"csrf_token": csrf_of(browser_client.get("/").text), "body": "hi"})
    assert r.status_code == 303 and len(msgs.thread(w.rt, w.lead, "lab-a", rid)) == 3
