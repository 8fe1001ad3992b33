"""Read models services return: frozen dataclasses, safe outside a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from releasewise.store import models


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    email: str
    display_name: str
    created_at: datetime

    @classmethod
    def of(cls, row: models.User) -> UserView:
        return cls(row.id, row.username, row.email, row.display_name, row.created_at)


@dataclass(frozen=True)
class OrgView:
    id: int
    slug: str
    name: str
    description: str
    created_at: datetime
    my_role: str | None = None

    @classmethod
    def of(cls, row: models.Organization, my_role: str | None = None) -> OrgView:
        return cls(row.id, row.slug, row.name, row.description, row.created_at, my_role)


@dataclass(frozen=True)
class MemberView:
    user_id: int
    username: str
    display_name: str
    email: str
    role: str
    joined_at: datetime


@dataclass(frozen=True)
class InvitationView:
    id: int
    org_slug: str
    org_name: str
    email: str
    role: str
    invited_by: str
    created_at: datetime
    expires_at: datetime
    status: str  # pending | accepted | revoked | expired


@dataclass(frozen=True)
class ProjectView:
    id: int
    org_slug: str
    slug: str
    name: str
    description: str
    modality: str
    created_at: datetime
    asset_count: int = 0
    public_page: bool = False


@dataclass(frozen=True)
class AssetView:
    id: int
    org_slug: str
    project_slug: str
    slug: str
    name: str
    kind: str
    description: str
    current_tier: str
    high_water_tier: str
    created_at: datetime

    @classmethod
    def of(cls, row: models.Asset, org_slug: str, project_slug: str) -> AssetView:
        return cls(
            row.id,
            org_slug,
            project_slug,
            row.slug,
            row.name,
            row.kind,
            row.description,
            row.current_tier,
            row.high_water_tier,
            row.created_at,
        )


@dataclass(frozen=True)
class TokenView:
    id: int
    public_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: models.ApiToken) -> TokenView:
        return cls(
            row.id,
            row.public_id,
            row.name,
            tuple(s for s in row.scopes.split(",") if s),
            row.created_at,
            row.expires_at,
            row.last_used_at,
            row.revoked_at,
        )
