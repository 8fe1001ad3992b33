"""Precedent library pages: publishing from the decision (leads, CSRF), public search and records with no
private detail, and clear errors for bad filters."""

from __future__ import annotations

from fastapi.testclient import TestClient

from releasewise.services import precedent_search, precedents
from tests.conftest import World
from tests.services.precedent_fixtures import COMMENT, decide, second_lab
from tests.web.conftest import csrf_of, sign_in

PRIVATE = ("fiona", "fiona@example.org", "Fiona", COMMENT, "gale", "ceo-fraud", "Cloned executive voice",
           "threat-modelling", "Echo clones a voice", "Pixel forge makes photorealistic faces")


def test_a_lead_publishes_from_the_decision_page_and_others_cannot(browser_client: TestClient,
                                                                   sqlite_world: World) -> None:
    w = sqlite_world
    decision_id = decide(w)
    page = f"/orgs/lab-a/decisions/{decision_id}/precedent"
    sign_in(browser_client, "vic")  # viewer: sees the status, no form; a forged post is refused
    html = browser_client.get(page).text
    assert "unpublished" in html and 'id="publish-form"' not in html
    r = browser_client.post(page, data={"csrf_token": csrf_of(html), "options": ["staged_release"]})
    assert r.status_code == 303 and precedent_search.search(w.rt).total == 0
    assert "does not allow" in browser_client.get(r.headers["location"]).text
    browser_client.cookies.clear()

    sign_in(browser_client, "leo")
    assert page in browser_client.get(f"/orgs/lab-a/decisions/{decision_id}").text
    html = browser_client.get(page).text
    assert 'id="publish-form"' in html and 'value="tiered_access" checked' in html  # the suggestion is ticked
    for private in PRIVATE[:4]:
        assert private not in html.split('class="preview"')[1], private
    assert browser_client.post(page, data={"options": ["staged_release"]}).status_code == 403  # no CSRF token
    r = browser_client.post(page, data={"csrf_token": csrf_of(html), "options": ["staged_release", "bogus"]})
    assert "Unknown release option(s): bogus" in browser_client.get(r.headers["location"]).text
    assert precedent_search.search(w.rt).total == 0
    r = browser_client.post(page, data={"csrf_token": csrf_of(html), "options": ["staged_release", "detector_first"],
                                        "note": "Ask platforms early."})
    assert r.status_code == 303 and r.headers["location"].startswith("/precedents/")
    record = browser_client.get(r.headers["location"]).text
    assert "Staged release" in record and "Detector first" in record and "Ask platforms early." in record

    html = browser_client.get(page).text
    assert "published" in html and 'id="withdraw-form"' in html
    r = browser_client.post(page + "/withdraw", data={"csrf_token": csrf_of(html)})
    assert r.status_code == 303 and precedent_search.search(w.rt).total == 0
    assert "withdrawn" in browser_client.get(page).text


def test_anyone_searches_and_reads_records_without_private_detail(browser_client: TestClient,
                                                                  sqlite_world: World) -> None:
    w = sqlite_world
    precedents.publish(w.rt, w.lead, "lab-a", decide(w), options=["staged_release"])
    pid = precedents.publish(w.rt, w.outsider, "lab-b", second_lab(w), options=["structured_access"])

    home = browser_client.get("/").text
    assert 'href="/precedents"' in home  # in the navigation for visitors too
    r = browser_client.get("/precedents")
    assert r.status_code == 200
    assert "Echo" in r.text and "Pixel forge" in r.text and "2</strong> precedents" in r.text
    assert 'href="/precedents?modality=image"' in r.text  # facet links with counts
    images = browser_client.get("/precedents", params={"modality": "image", "q": "consent"}).text
    assert "Pixel forge" in images and 'id="precedent-1"' not in images and "1</strong> precedent" in images
    assert 'href="/precedents?q=consent"' in images  # the chip that removes the modality filter

    record = browser_client.get(f"/precedents/{pid}")
    assert record.status_code == 200
    text = record.text
    assert "API only, with consent checks on faces." in text and "Structured access" in text
    assert "No incidents since the decision." in text and "<svg" in text and 'style="' not in text
    for path in ("/precedents", f"/precedents/{pid}", "/precedents/1"):
        body = browser_client.get(path).text
        for private in PRIVATE:
            assert private not in body, (path, private)

    bad = browser_client.get("/precedents", params={"hazard": "fire"})
    assert bad.status_code == 422 and "Unknown hazard" in bad.text and "product, data, attention" in bad.text
    assert browser_client.get("/precedents", params={"page": "x"}).status_code == 422
    assert browser_client.get("/precedents/424242").status_code == 404
