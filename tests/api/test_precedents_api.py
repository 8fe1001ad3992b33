"""The precedent library over REST: public search and reading, publishing by leads, problems for bad input."""

from __future__ import annotations

from fastapi.testclient import TestClient

from releasewise.services import precedents
from tests.api.conftest import bearer
from tests.conftest import World
from tests.services.precedent_fixtures import COMMENT, decide, second_lab

PUB = "/api/v1/orgs/lab-a/decisions/{}/precedent"


def assert_problem(response: object, status: int, *needles: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    for needle in needles:
        assert needle in response.text, response.text  # type: ignore[attr-defined]


def test_leads_publish_preview_and_withdraw_over_the_api(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    decision_id = decide(w)
    lead = bearer(w, w.lead)

    preview = api.get(PUB.format(decision_id), headers=bearer(w, w.viewer, "read"))
    assert preview.status_code == 200 and preview.json()["state"] == "unpublished"
    assert preview.json()["preview"]["decision"]["rationale"].startswith("The paper carries")
    assert_problem(api.post(PUB.format(decision_id), json={}, headers=bearer(w, w.viewer)), 403, "precedent.publish")
    assert_problem(api.post(PUB.format(decision_id), json={}, headers=bearer(w, w.outsider)), 404)
    assert_problem(api.post(PUB.format(decision_id), json={}, headers=bearer(w, w.lead, "read")), 403, "write")
    assert_problem(api.post(PUB.format(decision_id), json={"options": ["yolo"]}, headers=lead), 422,
                   "staged_release", "structured_access")
    assert_problem(api.post(PUB.format(decision_id), json={"note": 5}, headers=lead), 422)
    assert_problem(api.post(PUB.format(decision_id), json={"reviewers": True}, headers=lead), 422)
    assert api.get("/api/v1/precedents").json()["total"] == 0  # nothing was published by the refusals

    r = api.post(PUB.format(decision_id), json={"options": ["detector_first", "staged_release"],
                                                "note": "Would decide the same."}, headers=lead)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["record"]["options"] == ["staged_release", "detector_first"]  # menu order
    assert body["record"]["schema"] == "releasewise.precedent/1"
    assert body["outcome"] == {"outcome": "none", "incidents": 0, "open": 0, "severe": 0, "by_severity": {},
                               "by_harm": {}, "summary": "No incidents since the decision."}
    for private in ("fiona", "fiona@example.org", COMMENT, "stances", "Cloned executive voice"):
        assert private not in r.text

    withdrawn = api.delete(PUB.format(decision_id), headers=lead)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert_problem(api.get(f"/api/v1/precedents/{body['id']}"), 404, "withdrawn")
    assert_problem(api.delete(PUB.format(decision_id), headers=lead), 409, "already withdrawn")


def test_anyone_searches_with_filters_and_gets_clear_errors(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    precedents.publish(w.rt, w.lead, "lab-a", decide(w), options=["staged_release"])
    precedents.publish(w.rt, w.outsider, "lab-b", second_lab(w), options=["structured_access"])

    everything = api.get("/api/v1/precedents")  # no token
    assert everything.status_code == 200
    data = everything.json()
    assert (data["total"], data["page"], data["pages"]) == (2, 1, 1)
    assert {f["value"]: f["count"] for f in data["facets"]["modality"]} == {
        "audio": 1, "image": 1, "video": 0, "text": 0, "multimodal": 0}
    assert "gale" not in everything.text and "fiona" not in everything.text

    images = api.get("/api/v1/precedents", params={"modality": "image", "outcome": "none", "q": "consent"}).json()
    assert [i["record"]["project"]["name"] for i in images["items"]] == ["Pixel forge"]
    one = api.get(f"/api/v1/precedents/{images['items'][0]['id']}")
    assert one.status_code == 200 and one.json()["record"]["options"] == ["structured_access"]
    paged = api.get("/api/v1/precedents", params={"per_page": 1, "page": 2}).json()
    assert (paged["pages"], len(paged["items"])) == (2, 1)

    assert_problem(api.get("/api/v1/precedents", params={"modality": "smell"}), 422,
                   "modality", "'audio'", "'multimodal'")
    assert_problem(api.get("/api/v1/precedents", params={"option": "yolo"}), 422, "staged_release")
    assert_problem(api.get("/api/v1/precedents", params={"outcome": "great"}), 422, "'none'", "'severe'")
    assert_problem(api.get("/api/v1/precedents", params={"per_page": 0}), 422, "per_page")
    assert_problem(api.get("/api/v1/precedents", params={"q": "x" * 201}), 422, "q")
    assert_problem(api.get("/api/v1/precedents/999999"), 404)
