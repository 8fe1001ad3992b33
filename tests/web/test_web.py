from __future__ import annotations

from fastapi.testclient import TestClient

from releasewise.services import orgs, projects
from tests.conftest import World
from tests.web.conftest import csrf_of, sign_in


def test_session_cookie_flags(browser_client: TestClient) -> None:
    token = csrf_of(browser_client.get("/login").text)
    r = browser_client.post("/login", data={"login": "olivia", "password": "correct horse battery staple",
                                            "csrf_token": token})
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("rw_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain http in tests; Secure is set for https base URLs


def test_secure_cookie_over_https(sqlite_world: World) -> None:
    from releasewise.app import create_app

    sqlite_world.rt.settings = sqlite_world.rt.settings.model_copy(update={"base_url": "https://rw.example"})
    app = create_app(runtime=sqlite_world.rt)
    with TestClient(app, base_url="https://rw.example", follow_redirects=False) as client:
        token = csrf_of(client.get("/login").text)
        r = client.post("/login", data={"login": "olivia", "password": "correct horse battery staple",
                                        "csrf_token": token})
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("rw_session="))
        assert "Secure" in cookie


def test_forged_csrf_is_refused_and_changes_nothing(browser_client: TestClient, sqlite_world: World) -> None:
    sign_in(browser_client, "leo")
    for forged in ["", "0" * 64]:
        r = browser_client.post("/orgs/lab-a/projects/new", data={"name": "Forged", "csrf_token": forged})
        assert r.status_code == 403
        assert "Reload the page" in r.text
    assert [p.slug for p in projects.list_projects(sqlite_world.rt, sqlite_world.lead, "lab-a")] == ["echo"]


def test_csrf_token_of_another_browser_is_refused(sqlite_world: World, browser_client: TestClient) -> None:
    from releasewise.app import create_app

    with TestClient(create_app(runtime=sqlite_world.rt), follow_redirects=False) as other:
        sign_in(other, "oscar")
        stolen = csrf_of(other.get("/orgs/new").text)
    sign_in(browser_client, "leo")
    r = browser_client.post("/orgs/new", data={"name": "Via stolen token", "csrf_token": stolen})
    assert r.status_code == 403
    assert [o.slug for o in orgs.list_my_orgs(sqlite_world.rt, sqlite_world.lead)] == ["lab-a"]


def test_pages_require_login(browser_client: TestClient) -> None:
    for path in ["/orgs/new", "/orgs/lab-a", "/orgs/lab-a/audit", "/settings/tokens"]:
        r = browser_client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_login_failure_rerenders_with_message(browser_client: TestClient) -> None:
    token = csrf_of(browser_client.get("/login").text)
    r = browser_client.post("/login", data={"login": "olivia", "password": "bad-password", "csrf_token": token})
    assert r.status_code == 401 and "Wrong username or password" in r.text
    assert 'value="olivia"' in r.text


def test_open_redirect_is_prevented(browser_client: TestClient) -> None:
    token = csrf_of(browser_client.get("/login").text)
    r = browser_client.post("/login", data={"login": "olivia", "password": "correct horse battery staple",
                                            "csrf_token": token, "next": "//evil.example/x"})
    assert r.headers["location"] == "/"


def test_cross_org_page_is_404_without_data(browser_client: TestClient) -> None:
    sign_in(browser_client, "oscar")
    for path in ["/orgs/lab-a", "/orgs/lab-a/members", "/orgs/lab-a/projects/echo", "/orgs/lab-a/audit"]:
        r = browser_client.get(path)
        assert r.status_code == 404 and "Weights 1B" not in r.text and "olivia" not in r.text


def test_viewer_sees_no_forms_and_gets_403_when_posting(browser_client: TestClient, sqlite_world: World) -> None:
    sign_in(browser_client, "vic")
    page = browser_client.get("/orgs/lab-a/projects/echo").text
    assert "Add an asset" not in page
    members = browser_client.get("/orgs/lab-a/members").text
    assert "Invite a member" not in members
    token = csrf_of(members)
    r = browser_client.post("/orgs/lab-a/invitations", data={"email": "x@example.org", "role": "owner",
                                                            "csrf_token": token})
    assert r.status_code == 403
    assert orgs.list_invitations(sqlite_world.rt, sqlite_world.owner, "lab-a")[0].email != "x@example.org"


def test_bad_form_input_is_shown_and_nothing_created(browser_client: TestClient, sqlite_world: World) -> None:
    sign_in(browser_client, "leo")
    token = csrf_of(browser_client.get("/orgs/lab-a/projects/new").text)
    r = browser_client.post("/orgs/lab-a/projects/new", data={"name": "x" * 101, "csrf_token": token})
    assert r.status_code == 422 and "limit is 100" in r.text
    r = browser_client.post("/orgs/lab-a/projects/new", data={"name": "Echo", "csrf_token": token})
    assert r.status_code == 409 and "already has a project" in r.text
    assert len(projects.list_projects(sqlite_world.rt, sqlite_world.lead, "lab-a")) == 1


def test_token_page_shows_the_secret_once(browser_client: TestClient) -> None:
    sign_in(browser_client, "olivia")
    token = csrf_of(browser_client.get("/settings/tokens").text)
    r = browser_client.post("/settings/tokens", data={"name": "laptop", "scopes": ["read", "write"],
                                                      "expires_in_days": "30", "csrf_token": token})
    assert r.status_code == 201
    secret = r.text.split('id="new-token"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert secret.startswith("rwt_")
    listing = browser_client.get("/settings/tokens").text
    assert "laptop" in listing and secret not in listing
    me = browser_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["username"] == "olivia"


def test_logout_ends_the_session(browser_client: TestClient) -> None:
    sign_in(browser_client, "olivia")
    token = csrf_of(browser_client.get("/").text)
    browser_client.post("/logout", data={"csrf_token": token})
    assert browser_client.get("/orgs/lab-a").status_code == 303


def test_security_headers(browser_client: TestClient) -> None:
    r = browser_client.get("/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_audit_verify_fragment(browser_client: TestClient, sqlite_world: World) -> None:
    sign_in(browser_client, "olivia")
    page = browser_client.get("/orgs/lab-a/audit")
    assert "org.created" in page.text
    r = browser_client.post("/orgs/lab-a/audit/verify", headers={"X-CSRF-Token": csrf_of(page.text)})
    assert "intact" in r.text


def test_dashboard_lists_reviews_waiting_for_me(sqlite_world: World) -> None:
    from fastapi.testclient import TestClient as Client

    from releasewise.app import create_app
    from tests.services.assessment_fixtures import expert, open_review, with_submitted_assessment

    with_submitted_assessment(sqlite_world)
    expert(sqlite_world, "fiona", ["fraud"])
    review_id = open_review(sqlite_world, ["fiona"])
    with Client(create_app(runtime=sqlite_world.rt), follow_redirects=False) as client:
        sign_in(client, "fiona")
        page = client.get("/").text
        assert "Reviews waiting for you" in page and f"/orgs/lab-a/reviews/{review_id}" in page
        sign_in(client, "vic")
        assert "Reviews waiting for you" not in client.get("/").text


def test_project_page_links_lead_somewhere(browser_client: TestClient) -> None:
    import re

    sign_in(browser_client, "leo")
    page = browser_client.get("/orgs/lab-a/projects/echo").text
    links = set(re.findall(r'href="(/orgs/lab-a/[^"]+)"', page))
    assert "/orgs/lab-a/projects/echo/assets/weights-1b/access" in links
    for link in links:
        assert browser_client.get(link).status_code == 200, link
    tabs = browser_client.get("/orgs/lab-a").text
    assert 'href="/orgs/lab-a/access"' in tabs and browser_client.get("/orgs/lab-a/access").status_code == 200


def test_org_overview_shows_leads_what_waits_on_them(browser_client: TestClient) -> None:
    sign_in(browser_client, "leo")
    page = browser_client.get("/orgs/lab-a").text
    assert "Access requests" in page and "waiting" in page and "overdue" in page
    assert "Release stages waiting on a gate" in page
    sign_in(browser_client, "vic")
    assert "Access requests" not in browser_client.get("/orgs/lab-a").text


def test_released_projects_link_to_the_misuse_report_form(browser_client: TestClient, sqlite_world: World) -> None:
    from tests.hfapi.support import set_tier

    sign_in(browser_client, "vic")
    assert "/report/lab-a/echo" not in browser_client.get("/orgs/lab-a/projects/echo").text  # not released yet
    set_tier(sqlite_world.rt, "vetted_researchers")
    page = browser_client.get("/orgs/lab-a/projects/echo").text
    assert 'href="/report/lab-a/echo"' in page
    assert browser_client.get("/report/lab-a/echo").status_code == 200
