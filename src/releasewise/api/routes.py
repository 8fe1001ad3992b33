"""REST routes. Each parses, calls one service, and shapes the answer."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from releasewise.api import schemas as s
from releasewise.api.deps import ActorDep, RuntimeDep, client_ip
from releasewise.services import accounts, audit, orgs, outbox, projects, tokens

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=500)]


# Accounts and tokens ----------------------------------------------------

@router.post("/auth/token", response_model=s.NewTokenOut, status_code=status.HTTP_201_CREATED, tags=["auth"])
def login_for_token(body: s.TokenLogin, request: Request, rt: RuntimeDep) -> s.NewTokenOut:
    """Exchange a username and password for a new personal API token (used by `releasewise login`)."""
    actor = accounts.authenticate_password(rt, login=body.login, password=body.password, ip=client_ip(request))
    view, raw = tokens.create_token(rt, actor, name=body.token_name, scopes=[x.value for x in body.scopes],
                                    expires_in_days=body.expires_in_days)
    return s.NewTokenOut(token=raw, details=s.TokenOut.model_validate(view))


@router.get("/me", response_model=s.UserOut, tags=["auth"])
def me(rt: RuntimeDep, actor: ActorDep) -> s.UserOut:
    return s.UserOut.model_validate(accounts.get_user(rt, actor))


@router.get("/tokens", response_model=list[s.TokenOut], tags=["auth"])
def list_tokens(rt: RuntimeDep, actor: ActorDep) -> list[s.TokenOut]:
    return [s.TokenOut.model_validate(t) for t in tokens.list_tokens(rt, actor)]


@router.delete("/tokens/{public_id}", response_model=s.TokenOut, tags=["auth"])
def revoke_token(public_id: str, rt: RuntimeDep, actor: ActorDep) -> s.TokenOut:
    return s.TokenOut.model_validate(tokens.revoke_token(rt, actor, public_id))


# Organisations and members ----------------------------------------------

@router.get("/orgs", response_model=list[s.OrgOut], tags=["organisations"])
def list_orgs(rt: RuntimeDep, actor: ActorDep) -> list[s.OrgOut]:
    return [s.OrgOut.model_validate(o) for o in orgs.list_my_orgs(rt, actor)]


@router.post("/orgs", response_model=s.OrgOut, status_code=status.HTTP_201_CREATED, tags=["organisations"])
def create_org(body: s.OrgCreate, rt: RuntimeDep, actor: ActorDep) -> s.OrgOut:
    return s.OrgOut.model_validate(orgs.create_org(rt, actor, name=body.name, slug=body.slug,
                                                   description=body.description))


@router.get("/orgs/{org}", response_model=s.OrgOut, tags=["organisations"])
def get_org(org: str, rt: RuntimeDep, actor: ActorDep) -> s.OrgOut:
    return s.OrgOut.model_validate(orgs.get_org(rt, actor, org))


@router.patch("/orgs/{org}", response_model=s.OrgOut, tags=["organisations"])
def update_org(org: str, body: s.OrgUpdate, rt: RuntimeDep, actor: ActorDep) -> s.OrgOut:
    return s.OrgOut.model_validate(orgs.update_org(rt, actor, org, name=body.name, description=body.description))


@router.get("/orgs/{org}/members", response_model=list[s.MemberOut], tags=["organisations"])
def list_members(org: str, rt: RuntimeDep, actor: ActorDep) -> list[s.MemberOut]:
    return [s.MemberOut.model_validate(m) for m in orgs.list_members(rt, actor, org)]


@router.patch("/orgs/{org}/members/{username}", response_model=s.MemberOut, tags=["organisations"])
def change_role(org: str, username: str, body: s.RoleChange, rt: RuntimeDep, actor: ActorDep) -> s.MemberOut:
    return s.MemberOut.model_validate(orgs.change_role(rt, actor, org, username, body.role.value))


@router.delete("/orgs/{org}/members/{username}", status_code=status.HTTP_204_NO_CONTENT, tags=["organisations"])
def remove_member(org: str, username: str, rt: RuntimeDep, actor: ActorDep) -> Response:
    orgs.remove_member(rt, actor, org, username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/orgs/{org}/invitations", response_model=list[s.InvitationOut], tags=["organisations"])
def list_invitations(org: str, rt: RuntimeDep, actor: ActorDep) -> list[s.InvitationOut]:
    return [s.InvitationOut.model_validate(i) for i in orgs.list_invitations(rt, actor, org)]


@router.post("/orgs/{org}/invitations", response_model=s.NewInvitationOut, status_code=status.HTTP_201_CREATED,
             tags=["organisations"])
def invite(org: str, body: s.InvitationCreate, rt: RuntimeDep, actor: ActorDep) -> s.NewInvitationOut:
    view, link = orgs.invite_member(rt, actor, org, email=body.email, role=body.role.value)
    outbox.deliver_pending(rt)
    return s.NewInvitationOut(invitation=s.InvitationOut.model_validate(view), link=link)


@router.delete("/orgs/{org}/invitations/{invitation_id}", response_model=s.InvitationOut, tags=["organisations"])
def revoke_invitation(org: str, invitation_id: s.Id, rt: RuntimeDep, actor: ActorDep) -> s.InvitationOut:
    return s.InvitationOut.model_validate(orgs.revoke_invitation(rt, actor, org, invitation_id))


@router.post("/invitations/{token}/accept", response_model=s.OrgOut, tags=["organisations"])
def accept_invitation(token: str, rt: RuntimeDep, actor: ActorDep) -> s.OrgOut:
    return s.OrgOut.model_validate(orgs.accept_invitation(rt, actor, token))


# Projects and assets ----------------------------------------------------

@router.get("/projects", response_model=list[s.ProjectOut], tags=["projects"])
def list_all_projects(rt: RuntimeDep, actor: ActorDep) -> list[s.ProjectOut]:
    """Every project in every organisation you belong to."""
    return [s.ProjectOut.model_validate(p) for p in projects.list_projects(rt, actor)]


@router.get("/orgs/{org}/projects", response_model=list[s.ProjectOut], tags=["projects"])
def list_org_projects(org: str, rt: RuntimeDep, actor: ActorDep) -> list[s.ProjectOut]:
    return [s.ProjectOut.model_validate(p) for p in projects.list_projects(rt, actor, org)]


@router.post("/orgs/{org}/projects", response_model=s.ProjectOut, status_code=status.HTTP_201_CREATED,
             tags=["projects"])
def create_project(org: str, body: s.ProjectCreate, rt: RuntimeDep, actor: ActorDep) -> s.ProjectOut:
    view = projects.create_project(rt, actor, org, name=body.name, slug=body.slug, description=body.description,
                                   modality=body.modality)
    return s.ProjectOut.model_validate(view)


@router.get("/orgs/{org}/projects/{project}", response_model=s.ProjectOut, tags=["projects"])
def get_project(org: str, project: str, rt: RuntimeDep, actor: ActorDep) -> s.ProjectOut:
    return s.ProjectOut.model_validate(projects.get_project(rt, actor, org, project))


@router.get("/orgs/{org}/projects/{project}/assets", response_model=list[s.AssetOut], tags=["projects"])
def list_assets(org: str, project: str, rt: RuntimeDep, actor: ActorDep) -> list[s.AssetOut]:
    return [s.AssetOut.model_validate(a) for a in projects.list_assets(rt, actor, org, project)]


@router.post("/orgs/{org}/projects/{project}/assets", response_model=s.AssetOut,
             status_code=status.HTTP_201_CREATED, tags=["projects"])
def create_asset(org: str, project: str, body: s.AssetCreate, rt: RuntimeDep, actor: ActorDep) -> s.AssetOut:
    view = projects.create_asset(rt, actor, org, project, name=body.name, kind=body.kind.value, slug=body.slug,
                                 description=body.description)
    return s.AssetOut.model_validate(view)


# Audit ------------------------------------------------------------------

@router.get("/orgs/{org}/audit", response_model=list[s.AuditEntryOut], tags=["audit"])
def list_audit(org: str, rt: RuntimeDep, actor: ActorDep, limit: Limit = 100,
               before_seq: Annotated[int | None, Query(ge=1, le=s.MAX_ID)] = None,
               action: Annotated[str, Query(max_length=60)] = "") -> list[s.AuditEntryOut]:
    entries = audit.list_events(rt, actor, org, limit=limit, before_seq=before_seq, action_prefix=action)
    return [s.AuditEntryOut.model_validate(e) for e in entries]


@router.post("/orgs/{org}/audit/verify", response_model=s.ChainVerdictOut, tags=["audit"])
def verify_audit(org: str, rt: RuntimeDep, actor: ActorDep) -> s.ChainVerdictOut:
    """Recompute the organisation's hash chain; `intact` is false with the first bad event named."""
    return s.ChainVerdictOut(**asdict(audit.verify_org_chain(rt, actor, org)))
