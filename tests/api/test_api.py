from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from releasewise.services import audit, projects
from tests.api.conftest import bearer
from tests.conftest import PASSWORD, World

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, text: str = "") -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:releasewise:problem:")
    assert body["title"] and body["detail"]
    if text:
        assert text in body["detail"]
    return body


def test_openapi_document_lists_the_endpoints(api: TestClient) -> None:
    doc = api.get("/api/v1/openapi.json").json()
    for path in ["/api/v1/projects", "/api/v1/orgs/{org}/audit/verify", "/api/v1/auth/token"]:
        assert path in doc["paths"]
    assert api.get("/api/v1/docs").status_code == 200


def test_login_for_token_then_use_it(api: TestClient, sqlite_world: World) -> None:
    r = api.post("/api/v1/auth/token", json={"login": "olivia", "password": PASSWORD, "scopes": ["read"]})
    assert r.status_code == 201
    token = r.json()["token"]
    assert r.json()["details"]["scopes"] == ["read"]
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "olivia"
    projects_ = api.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(p["org_slug"], p["slug"], p["asset_count"]) for p in projects_] == [("lab-a", "echo", 1)]


def test_wrong_password_is_401_problem(api: TestClient) -> None:
    r = api.post("/api/v1/auth/token", json={"login": "olivia", "password": "nope-nope-nope"})
    assert_problem(r, 401, "Wrong username or password")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_rate_limited_login_says_when_to_retry(api: TestClient) -> None:
    for _ in range(5):
        api.post("/api/v1/auth/token", json={"login": "olivia", "password": "nope-nope-nope"})
    r = api.post("/api/v1/auth/token", json={"login": "olivia", "password": PASSWORD})
    assert_problem(r, 429, "Too many failed logins")
    assert int(r.headers["retry-after"]) > 0


@pytest.mark.parametrize("header,message", [
    (None, "Send a personal API token"),
    ("Basic abc", "Send a personal API token"),
    ("Bearer garbage", "Malformed API token"),
    ("Bearer rwt_abcdef123456_" + "x" * 43, "Unknown API token"),
])
def test_missing_or_bad_tokens(api: TestClient, header: str | None, message: str) -> None:
    headers = {"Authorization": header} if header else {}
    assert_problem(api.get("/api/v1/projects", headers=headers), 401, message)


def test_revoked_token_stops_working(api: TestClient, sqlite_world: World) -> None:
    headers = bearer(sqlite_world, sqlite_world.owner)
    public_id = headers["Authorization"].split("_")[1]
    assert api.delete(f"/api/v1/tokens/{public_id}", headers=headers).status_code == 200
    assert_problem(api.get("/api/v1/me", headers=headers), 401, "revoked")


def test_org_b_token_sees_nothing_of_org_a(api: TestClient, sqlite_world: World) -> None:
    headers = bearer(sqlite_world, sqlite_world.outsider)
    for method, path, body in [
        ("GET", "/api/v1/orgs/lab-a", None),
        ("GET", "/api/v1/orgs/lab-a/projects", None),
        ("GET", "/api/v1/orgs/lab-a/projects/echo", None),
        ("GET", "/api/v1/orgs/lab-a/projects/echo/assets", None),
        ("POST", "/api/v1/orgs/lab-a/projects/echo/assets", {"name": "x", "kind": "code"}),
        ("GET", "/api/v1/orgs/lab-a/members", None),
        ("GET", "/api/v1/orgs/lab-a/audit", None),
        ("POST", "/api/v1/orgs/lab-a/audit/verify", None),
        ("POST", "/api/v1/orgs/lab-a/invitations", {"email": "o@example.org", "role": "owner"}),
        ("PATCH", "/api/v1/orgs/lab-a/members/oscar", {"role": "owner"}),
    ]:
        r = api.request(method, path, json=body, headers=headers)
        data = assert_problem(r, 404)
        assert "Echo" not in r.text and "olivia" not in r.text, data
    assert [p["slug"] for p in api.get("/api/v1/projects", headers=headers).json()] == ["secret"]
    assert len(projects.list_assets(sqlite_world.rt, sqlite_world.owner, "lab-a", "echo")) == 1


def test_viewer_gets_403_for_lead_actions_and_nothing_changes(api: TestClient, sqlite_world: World) -> None:
    headers = bearer(sqlite_world, sqlite_world.viewer)
    r = api.post("/api/v1/orgs/lab-a/projects", json={"name": "Rogue"}, headers=headers)
    assert_problem(r, 403, "project.create")
    assert_problem(api.get("/api/v1/orgs/lab-a/audit", headers=headers), 403)
    assert len(projects.list_projects(sqlite_world.rt, sqlite_world.owner, "lab-a")) == 1
    denied = audit.list_events(sqlite_world.rt, sqlite_world.owner, "lab-a", action_prefix="permission.denied")
    assert denied and denied[0].target_id == "audit.view"


def test_read_scope_token_cannot_write(api: TestClient, sqlite_world: World) -> None:
    headers = bearer(sqlite_world, sqlite_world.owner, scopes="read")
    assert_problem(api.post("/api/v1/orgs/lab-a/projects", json={"name": "X"}, headers=headers), 403, "write")


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "ok", "modality": "smell"}, "modality"),
    ({"name": 5}, "name"),
    ({"name": "ok", "unexpected": 1}, "unexpected"),
])
def test_invalid_bodies_are_422_problems_naming_the_field(api: TestClient, sqlite_world: World, body: dict,
                                                           field: str) -> None:
    headers = bearer(sqlite_world, sqlite_world.lead)
    r = api.post("/api/v1/orgs/lab-a/projects", json=body, headers=headers)
    problem = assert_problem(r, 422)
    assert any(e["field"] == field for e in problem["errors"])
    assert len(projects.list_projects(sqlite_world.rt, sqlite_world.owner, "lab-a")) == 1


def test_duplicate_is_409(api: TestClient, sqlite_world: World) -> None:
    headers = bearer(sqlite_world, sqlite_world.lead)
    r = api.post("/api/v1/orgs/lab-a/projects", json={"name": "Echo"}, headers=headers)
    body = assert_problem(r, 409, "already has a project")
    assert body["field"] == "slug"


def test_full_flow_through_the_api(api: TestClient, sqlite_world: World) -> None:
    owner = bearer(sqlite_world, sqlite_world.owner)
    r = api.post("/api/v1/orgs", json={"name": "Pixel Lab", "description": "image generators"}, headers=owner)
    assert r.status_code == 201 and r.json()["slug"] == "pixel-lab"
    r = api.post("/api/v1/orgs/pixel-lab/invitations", json={"email": "vic@example.org", "role": "reviewer"},
                 headers=owner)
    assert r.status_code == 201
    link = r.json()["link"]
    viewer = bearer(sqlite_world, sqlite_world.viewer)
    r = api.post(f"/api/v1/invitations/{link.rsplit('/', 1)[-1]}/accept", headers=viewer)
    assert r.json()["my_role"] == "reviewer"
    r = api.post("/api/v1/orgs/pixel-lab/projects", json={"name": "Diffuse", "modality": "image"}, headers=owner)
    assert r.status_code == 201
    r = api.post("/api/v1/orgs/pixel-lab/projects/diffuse/assets", json={"name": "Weights", "kind": "weights"},
                 headers=owner)
    assert r.json()["current_tier"] == "team" and r.json()["high_water_tier"] == "team"
    r = api.patch("/api/v1/orgs/pixel-lab/members/vic", json={"role": "viewer"}, headers=owner)
    assert r.json()["role"] == "viewer"
    entries = api.get("/api/v1/orgs/pixel-lab/audit", params={"limit": 3}, headers=owner).json()
    assert [e["action"] for e in entries] == ["member.role_changed", "asset.created", "project.created"]
    verdict = api.post("/api/v1/orgs/pixel-lab/audit/verify", headers=owner).json()
    assert verdict["intact"] is True and verdict["events_checked"] == 7


def test_unknown_endpoint_is_a_problem(api: TestClient) -> None:
    assert_problem(api.get("/api/v1/nope"), 404, "no API endpoint")
