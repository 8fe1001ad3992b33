"""The opt-in public release page shows what was released and why, and nothing private."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from releasewise.errors import PermissionDenied
from releasewise.services import accounts, release_page, reviews
from tests.conftest import PASSWORD, World
from tests.services.assessment_fixtures import STANCES, expert, open_review, vote, with_submitted_assessment
from tests.web.conftest import csrf_of, sign_in


def test_public_page_is_opt_in_and_shows_no_private_detail(browser_client: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    with_submitted_assessment(w)
    expert(w, "fiona", ["fraud"])
    review_id = open_review(w, ["fiona"], steps=["paper:public"])
    vote(w, accounts.authenticate_password(w.rt, login="fiona", password=PASSWORD, ip="x"), review_id,
         "approve_with_conditions", ["Detector shared first"], {**STANCES, "misuse_risk": 1})
    reviews.close_review(w.rt, w.lead, "lab-a", review_id, rationale="Paper carries limited marginal risk.")

    assert browser_client.get("/p/lab-a/echo").status_code == 404  # off by default
    with pytest.raises(PermissionDenied):
        release_page.set_public_page(w.rt, w.researcher, "lab-a", "echo", enabled=True)
    sign_in(browser_client, "leo")
    page = browser_client.get("/orgs/lab-a/projects/echo").text
    r = browser_client.post("/orgs/lab-a/projects/echo/public-page", data={"csrf_token": csrf_of(page), "enabled": "on"})
    assert r.status_code == 303 and "/p/lab-a/echo" in browser_client.get("/orgs/lab-a/projects/echo").text

    with TestClient(browser_client.app) as anonymous:
        public = anonymous.get("/p/lab-a/echo")
    assert public.status_code == 200
    text = public.text
    assert "Paper carries limited marginal risk." in text and "Detector shared first" in text
    assert "Weights 1B" in text and "Paper" in text  # assets by name, with their tiers
    for private in ("fiona", "olivia", "rita", "ceo-fraud", "Cloned executive voice", "threat-modelling"):
        assert private not in text, private  # no reviewer, member, scenario or assessment detail
    assert "/report/lab-a/echo" in text and "signing-keys" in text
    release_page.set_public_page(w.rt, w.lead, "lab-a", "echo", enabled=False)
    assert browser_client.get("/p/lab-a/echo").status_code == 404
    assert browser_client.get("/p/lab-b/secret").status_code == 404


def test_public_page_says_how_outputs_are_marked_and_who_may_trace_them(browser_client: TestClient,
                                                                       sqlite_world: World) -> None:
    from releasewise.services import detection, provenance
    from tests.services.test_detection import photo_bytes

    w = sqlite_world
    release_page.set_public_page(w.rt, w.lead, "lab-a", "echo", enabled=True)
    assert "detection-access" not in browser_client.get("/p/lab-a/echo").text  # nothing marked yet
    provenance.mark_output(w.rt, w.researcher, "lab-a", "echo", "weights-1b", release="v1",
                           data=photo_bytes(size=128))
    text = browser_client.get("/p/lab-a/echo").text
    assert "credential-certificate" in text and "detection partners" in text
    detection.set_mode(w.rt, w.lead, "lab-a", "echo", "public")
    assert '/detect">check a file</a>' in browser_client.get("/p/lab-a/echo").text
    detection.set_mode(w.rt, w.lead, "lab-a", "echo", "off")
    assert "not offered" in browser_client.get("/p/lab-a/echo").text


def test_a_reviewer_chooses_on_the_review_page_to_be_named(browser_client: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    with_submitted_assessment(w)
    expert(w, "fiona", ["fraud"])
    review_id = open_review(w, ["fiona"], steps=["paper:public"])
    vote(w, accounts.authenticate_password(w.rt, login="fiona", password=PASSWORD, ip="x"), review_id, "approve")
    reviews.close_review(w.rt, w.lead, "lab-a", review_id, rationale="Fine.")
    release_page.set_public_page(w.rt, w.lead, "lab-a", "echo", enabled=True)
    assert "Reviewed by" not in browser_client.get("/p/lab-a/echo").text
    sign_in(browser_client, "fiona")
    page = browser_client.get(f"/orgs/lab-a/reviews/{review_id}").text
    assert "Name me as a reviewer" in page
    r = browser_client.post(f"/orgs/lab-a/reviews/{review_id}/public-credit",
                            data={"csrf_token": csrf_of(page), "named": "yes"})
    assert r.status_code == 303
    assert "Reviewed by Fiona." in browser_client.get("/p/lab-a/echo").text
    page = browser_client.get(f"/orgs/lab-a/reviews/{review_id}").text
    browser_client.post(f"/orgs/lab-a/reviews/{review_id}/public-credit",
                        data={"csrf_token": csrf_of(page), "named": "no"})
    assert "Fiona" not in browser_client.get("/p/lab-a/echo").text
