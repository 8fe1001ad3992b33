"""Web UI routes: parse the form, call one service, render or redirect (PRG)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from releasewise.api.schemas import MAX_ID, Id
from releasewise.errors import ReleasewiseError
from releasewise.services import access, accounts, audit, orgs, outbox, plans, projects, reviews, tokens
from releasewise.services.runtime import Actor, Runtime
from releasewise.web import security
from releasewise.web.rendering import render

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """Raised by ``require_actor``; the app answers with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def optional_actor(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Actor | None:
    raw = request.cookies.get(security.SESSION_COOKIE, "")
    actor = accounts.resolve_session(rt, raw, ip=client_ip(request)) if raw else None
    request.state.actor = actor
    return actor


def require_actor(request: Request, actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise LoginRequired(request.url.path)
    return actor


def csrf_protected(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    security.check_csrf(request, csrf_token)


RT = Annotated[Runtime, Depends(runtime)]
User = Annotated[Actor, Depends(require_actor)]
MaybeUser = Annotated[Actor | None, Depends(optional_actor)]
CSRF = Depends(csrf_protected)


def redirect(url: str, message: str = "", *, error: bool = False) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        security.flash(response, message, error=error)
    return response


def safe_next(value: str) -> str:
    """Only same-site relative paths, so /login?next= cannot send people elsewhere."""
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


# Home, sign-up, login, logout --------------------------------------------

@router.get("/", response_class=HTMLResponse)
def home(request: Request, rt: RT, actor: MaybeUser) -> Response:
    if actor is None:
        return render(request, "landing.html")
    return render(request, "dashboard.html", {
        "orgs": orgs.list_my_orgs(rt, actor),
        "projects": projects.list_projects(rt, actor),
        "my_reviews": reviews.my_assignments(rt, actor),
    })


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, next: str = "/") -> Response:
    return render(request, "signup.html", {"next": safe_next(next), "form": {}})


@router.post("/signup", response_class=HTMLResponse, dependencies=[CSRF])
def signup(request: Request, rt: RT, username: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
           display_name: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
           next: Annotated[str, Form()] = "/") -> Response:
    form = {"username": username, "email": email, "display_name": display_name}
    try:
        accounts.sign_up(rt, username=username, email=email, password=password, display_name=display_name,
                         ip=client_ip(request))
        actor = accounts.authenticate_password(rt, login=username, password=password, ip=client_ip(request))
    except ReleasewiseError as exc:
        return render(request, "signup.html", {"error": exc.message, "form": form, "next": safe_next(next)},
                      exc.status_code)
    return _start_session(request, rt, actor, safe_next(next), "Welcome to releasewise!")


def _start_session(request: Request, rt: Runtime, actor: Actor, next_url: str, message: str) -> Response:
    new = accounts.start_session(rt, actor, user_agent=request.headers.get("user-agent", ""))
    response = redirect(next_url, message)
    security.set_session_cookie(request, response, new.raw_token, rt.settings.session_days * 86400)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "login": ""})


@router.post("/login", response_class=HTMLResponse, dependencies=[CSRF])
def login(request: Request, rt: RT, login: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    try:
        actor = accounts.authenticate_password(rt, login=login, password=password, ip=client_ip(request))
    except ReleasewiseError as exc:
        return render(request, "login.html", {"error": exc.message, "login": login, "next": safe_next(next)},
                      exc.status_code)
    return _start_session(request, rt, actor, safe_next(next), f"Signed in as {actor.username}.")


@router.post("/logout", dependencies=[CSRF])
def logout(request: Request, rt: RT) -> Response:
    raw = request.cookies.get(security.SESSION_COOKIE)
    if raw:
        accounts.end_session(rt, raw)
    response = redirect("/login", "You are signed out.")
    security.clear_session_cookie(response)
    return response


# Organisations ------------------------------------------------------------

@router.get("/orgs/new", response_class=HTMLResponse)
def new_org_form(request: Request, actor: User) -> Response:
    return render(request, "org_new.html", {"form": {}})


@router.post("/orgs/new", response_class=HTMLResponse, dependencies=[CSRF])
def create_org(request: Request, rt: RT, actor: User, name: Annotated[str, Form()] = "",
               slug: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "") -> Response:
    try:
        org = orgs.create_org(rt, actor, name=name, slug=slug, description=description)
    except ReleasewiseError as exc:
        form = {"name": name, "slug": slug, "description": description}
        return render(request, "org_new.html", {"error": exc.message, "form": form}, exc.status_code)
    return redirect(f"/orgs/{org.slug}", f"Created {org.name}. You are its owner.")


@router.get("/orgs/{org_slug}", response_class=HTMLResponse)
def org_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    glance: dict[str, object] = {}
    if org.my_role in ("owner", "release_lead"):
        # What a lead should act on first: waiting access requests and reviews past their due date.
        glance["latency"] = access.latency(rt, actor, org_slug)
        glance["overdue_reviews"] = sum(r.status == "overdue" for r in reviews.list_reviews(rt, actor, org_slug))
        glance["waiting_stages"] = plans.waiting_stages(rt, actor, org_slug)
    return render(request, "org.html", {
        "org": org,
        "projects": projects.list_projects(rt, actor, org_slug),
        "members": orgs.list_members(rt, actor, org_slug),
        "glance": glance,
    })


def _members_page(request: Request, rt: Runtime, actor: Actor, org_slug: str, status_code: int = 200,
                  **extra: object) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    can_manage = org.my_role == "owner"
    return render(request, "members.html", {
        "org": org,
        "members": orgs.list_members(rt, actor, org_slug),
        "invitations": orgs.list_invitations(rt, actor, org_slug) if can_manage else [],
        "can_manage": can_manage,
        "roles": ["owner", "release_lead", "researcher", "reviewer", "viewer"],
        **extra,
    }, status_code)


@router.get("/orgs/{org_slug}/members", response_class=HTMLResponse)
def members_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    return _members_page(request, rt, actor, org_slug)


@router.post("/orgs/{org_slug}/invitations", response_class=HTMLResponse, dependencies=[CSRF])
def invite(request: Request, rt: RT, actor: User, org_slug: str, email: Annotated[str, Form()] = "",
           role: Annotated[str, Form()] = "") -> Response:
    try:
        invitation, link = orgs.invite_member(rt, actor, org_slug, email=email, role=role)
    except ReleasewiseError as exc:
        return _members_page(request, rt, actor, org_slug, error=exc.message, form={"email": email, "role": role},
                             status_code=exc.status_code)
    outbox.deliver_pending(rt)
    return _members_page(request, rt, actor, org_slug, new_invitation=invitation, invitation_link=link)


@router.post("/orgs/{org_slug}/invitations/{invitation_id}/revoke", dependencies=[CSRF])
def revoke_invitation(rt: RT, actor: User, org_slug: str, invitation_id: Id) -> Response:
    invitation = orgs.revoke_invitation(rt, actor, org_slug, invitation_id)
    return redirect(f"/orgs/{org_slug}/members", f"Revoked the invitation for {invitation.email}.")


@router.post("/orgs/{org_slug}/members/{username}/role", response_class=HTMLResponse, dependencies=[CSRF])
def change_role(request: Request, rt: RT, actor: User, org_slug: str, username: str,
                role: Annotated[str, Form()] = "") -> Response:
    try:
        member = orgs.change_role(rt, actor, org_slug, username, role)
    except ReleasewiseError as exc:
        return _members_page(request, rt, actor, org_slug, error=exc.message, status_code=exc.status_code)
    return redirect(f"/orgs/{org_slug}/members", f"{member.username} is now {member.role}.")


@router.post("/orgs/{org_slug}/members/{username}/remove", response_class=HTMLResponse, dependencies=[CSRF])
def remove_member(request: Request, rt: RT, actor: User, org_slug: str, username: str) -> Response:
    try:
        orgs.remove_member(rt, actor, org_slug, username)
    except ReleasewiseError as exc:
        return _members_page(request, rt, actor, org_slug, error=exc.message, status_code=exc.status_code)
    return redirect(f"/orgs/{org_slug}/members", f"Removed {username}.")


@router.get("/invitations/{token}", response_class=HTMLResponse)
def invitation_page(request: Request, rt: RT, actor: MaybeUser, token: str) -> Response:
    try:
        invitation = orgs.peek_invitation(rt, token)
    except ReleasewiseError as exc:
        return render(request, "error.html", {"title": "Invitation unavailable", "detail": exc.message},
                      exc.status_code)
    return render(request, "invitation.html", {"invitation": invitation, "token": token,
                                               "next": quote(request.url.path)})


@router.post("/invitations/{token}", response_class=HTMLResponse, dependencies=[CSRF])
def accept_invitation(request: Request, rt: RT, actor: User, token: str) -> Response:
    try:
        org = orgs.accept_invitation(rt, actor, token)
    except ReleasewiseError as exc:
        return render(request, "error.html", {"title": "Could not accept the invitation", "detail": exc.message},
                      exc.status_code)
    return redirect(f"/orgs/{org.slug}", f"You joined {org.name} as {org.my_role}.")


# Projects and assets --------------------------------------------------------

@router.get("/orgs/{org_slug}/projects/new", response_class=HTMLResponse)
def new_project_form(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    return render(request, "project_new.html", {"org": orgs.get_org(rt, actor, org_slug), "form": {}})


@router.post("/orgs/{org_slug}/projects/new", response_class=HTMLResponse, dependencies=[CSRF])
def create_project(request: Request, rt: RT, actor: User, org_slug: str, name: Annotated[str, Form()] = "",
                   slug: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
                   modality: Annotated[str, Form()] = "") -> Response:
    try:
        project = projects.create_project(rt, actor, org_slug, name=name, slug=slug, description=description,
                                          modality=modality)
    except ReleasewiseError as exc:
        form = {"name": name, "slug": slug, "description": description, "modality": modality}
        return render(request, "project_new.html", {"org": orgs.get_org(rt, actor, org_slug), "form": form,
                                                    "error": exc.message}, exc.status_code)
    return redirect(f"/orgs/{org_slug}/projects/{project.slug}", f"Created project {project.name}.")


def _project_page(request: Request, rt: Runtime, actor: Actor, org_slug: str, project_slug: str,
                  status_code: int = 200, **extra: object) -> Response:
    return render(request, "project.html", {
        "org": orgs.get_org(rt, actor, org_slug),
        "project": projects.get_project(rt, actor, org_slug, project_slug),
        "assets": projects.list_assets(rt, actor, org_slug, project_slug),
        "form": {},
        **extra,
    }, status_code)


@router.get("/orgs/{org_slug}/projects/{project_slug}", response_class=HTMLResponse)
def project_page(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    return _project_page(request, rt, actor, org_slug, project_slug)


@router.post("/orgs/{org_slug}/projects/{project_slug}/assets", response_class=HTMLResponse, dependencies=[CSRF])
def create_asset(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str,
                 name: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "",
                 description: Annotated[str, Form()] = "") -> Response:
    try:
        asset = projects.create_asset(rt, actor, org_slug, project_slug, name=name, kind=kind,
                                      description=description)
    except ReleasewiseError as exc:
        form = {"name": name, "kind": kind, "description": description}
        return _project_page(request, rt, actor, org_slug, project_slug, exc.status_code, error=exc.message,
                             form=form)
    return redirect(f"/orgs/{org_slug}/projects/{project_slug}", f"Added asset {asset.name} at tier 'team'.")


# Audit log --------------------------------------------------------------------

@router.get("/orgs/{org_slug}/audit", response_class=HTMLResponse)
def audit_page(request: Request, rt: RT, actor: User, org_slug: str,
               before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
               action: Annotated[str, Query(max_length=60)] = "") -> Response:
    page_size = 50
    entries = audit.list_events(rt, actor, org_slug, limit=page_size, before_seq=before, action_prefix=action)
    older = entries[-1].seq if len(entries) == page_size else None
    return render(request, "audit.html", {"org": orgs.get_org(rt, actor, org_slug), "entries": entries,
                                          "older": older, "action": action})


@router.post("/orgs/{org_slug}/audit/verify", response_class=HTMLResponse, dependencies=[CSRF])
def audit_verify(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    verdict = audit.verify_org_chain(rt, actor, org_slug)
    return render(request, "_audit_verdict.html", {"verdict": verdict})


# Personal API tokens ------------------------------------------------------------

@router.get("/settings/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, rt: RT, actor: User) -> Response:
    return render(request, "tokens.html", {"tokens": tokens.list_tokens(rt, actor), "form": {}})


@router.post("/settings/tokens", response_class=HTMLResponse, dependencies=[CSRF])
def create_token(request: Request, rt: RT, actor: User, name: Annotated[str, Form()] = "",
                 scopes: Annotated[list[str] | None, Form()] = None,
                 expires_in_days: Annotated[str, Form()] = "90") -> Response:
    try:
        days = int(expires_in_days) if expires_in_days.strip() else None
    except ValueError:
        days = -1  # the service turns this into a clear message
    try:
        view, raw = tokens.create_token(rt, actor, name=name, scopes=scopes or [], expires_in_days=days)
    except ReleasewiseError as exc:
        return render(request, "tokens.html", {"tokens": tokens.list_tokens(rt, actor), "error": exc.message,
                                               "form": {"name": name}}, exc.status_code)
    return render(request, "tokens.html", {"tokens": tokens.list_tokens(rt, actor), "new_token": raw,
                                           "new_token_view": view, "form": {}}, 201)


@router.post("/settings/tokens/{public_id}/revoke", dependencies=[CSRF])
def revoke_token(rt: RT, actor: User, public_id: str) -> Response:
    view = tokens.revoke_token(rt, actor, public_id)
    return redirect("/settings/tokens", f"Revoked token '{view.name}'.")


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    return redirect(f"/login?next={quote(exc.next_path)}", "Please sign in to continue.")

