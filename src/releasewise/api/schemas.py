"""Strict request and response models of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from releasewise.domain.roles import Role, Scope
from releasewise.domain.tiers import AssetKind


class StrictModel(BaseModel):
    """No coercion ("5" is not a number) and no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid")


# Database ids are 64-bit; anything larger can never exist, so it is refused as input
# instead of reaching the database (where it would overflow).
MAX_ID = 2**53
Id = Annotated[int, Path(ge=0, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]

# JSON has no enum type: enum fields accept their string values (only those).
ScopeIn = Annotated[Scope, Field(strict=False)]
RoleIn = Annotated[Role, Field(strict=False)]
AssetKindIn = Annotated[AssetKind, Field(strict=False)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Requests ---------------------------------------------------------------

class TokenLogin(StrictModel):
    login: str = Field(min_length=1, max_length=254, description="Username or email")
    password: str = Field(min_length=1, max_length=256)
    token_name: str = Field(default="releasewise CLI", min_length=1, max_length=100)
    scopes: list[ScopeIn] = Field(default_factory=lambda: [Scope.read, Scope.write], min_length=1)
    expires_in_days: int | None = Field(default=90, ge=1, le=366)


class OrgCreate(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    slug: str = Field(default="", max_length=40)
    description: str = Field(default="", max_length=2000)


class OrgUpdate(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)


class InvitationCreate(StrictModel):
    email: str = Field(min_length=3, max_length=254)
    role: RoleIn


class RoleChange(StrictModel):
    role: RoleIn


class ProjectCreate(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    slug: str = Field(default="", max_length=40)
    description: str = Field(default="", max_length=5000)
    modality: Literal["", "audio", "image", "video", "text", "multimodal"] = ""


class AssetCreate(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    kind: AssetKindIn
    slug: str = Field(default="", max_length=40)
    description: str = Field(default="", max_length=5000)


# Responses --------------------------------------------------------------

class UserOut(Out):
    id: int
    username: str
    email: str
    display_name: str
    created_at: datetime


class TokenOut(Out):
    public_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(BaseModel):
    token: str = Field(description="The secret token. It is shown only this once.")
    details: TokenOut


class OrgOut(Out):
    slug: str
    name: str
    description: str
    created_at: datetime
    my_role: str | None


class MemberOut(Out):
    username: str
    display_name: str
    email: str
    role: str
    joined_at: datetime


class InvitationOut(Out):
    id: int
    org_slug: str
    email: str
    role: str
    invited_by: str
    created_at: datetime
    expires_at: datetime
    status: str


class NewInvitationOut(BaseModel):
    invitation: InvitationOut
    link: str = Field(description="One-time link, also emailed to the invitee.")


class ProjectOut(Out):
    org_slug: str
    slug: str
    name: str
    description: str
    modality: str
    created_at: datetime
    asset_count: int


class AssetOut(Out):
    org_slug: str
    project_slug: str
    slug: str
    name: str
    kind: str
    description: str
    current_tier: str
    high_water_tier: str
    created_at: datetime


class AuditEntryOut(Out):
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    summary: dict[str, Any]
    hash: str


class ChainVerdictOut(Out):
    chain_key: str
    intact: bool
    events_checked: int
    first_bad_event_id: int | None
    first_bad_seq: int | None
    problem: str | None
