"""Projects and their assets (FRAMEWORK.md §1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from releasewise.domain.roles import Action, Role, explain
from releasewise.domain.tiers import AssetKind, Tier
from releasewise.domain.validation import clean_slug, clean_text, slugify
from releasewise.errors import Conflict, InvalidInput, NotFound
from releasewise.services.audit import record
from releasewise.services.authz import authorize
from releasewise.services.runtime import Actor, Runtime
from releasewise.services.views import AssetView, ProjectView
from releasewise.store.models import Asset, Membership, Organization, Project

MODALITIES = ("audio", "image", "video", "text", "multimodal")


def _clean_modality(value: str) -> str:
    modality = (value or "").strip().lower()
    if modality and modality not in MODALITIES:
        raise InvalidInput(f"Unknown modality '{value}'. Choose one of: {', '.join(MODALITIES)}.", field="modality")
    return modality


def parse_kind(value: str) -> AssetKind:
    try:
        return AssetKind((value or "").strip().lower())
    except ValueError:
        valid = ", ".join(k.value for k in AssetKind)
        raise InvalidInput(f"Unknown asset kind '{value}'. Choose one of: {valid}.", field="kind") from None


def _project_view(project: Project, org_slug: str, asset_count: int = 0) -> ProjectView:
    return ProjectView(project.id, org_slug, project.slug, project.name, project.description, project.modality,
                       project.created_at, asset_count, project.public_page)


def load_project(session: Session, org: Organization, project_slug: str) -> Project:
    project = session.scalars(
        select(Project).where(Project.org_id == org.id, Project.slug == (project_slug or "").strip().lower())
    ).first()
    if project is None:
        raise NotFound(f"No project '{project_slug}' in {org.name}. List the organisation's projects to find it.")
    return project


def asset_slugs(session: Session, project: Project) -> set[str]:
    """The slugs of a project's assets: what assessments and plans may name."""
    return set(session.scalars(select(Asset.slug).where(Asset.project_id == project.id)))


def create_project(rt: Runtime, actor: Actor, org_slug: str, *, name: str, slug: str = "",
                   description: str = "", modality: str = "") -> ProjectView:
    name = clean_text(name, "Project name", max_length=100)
    slug = clean_slug(slug or slugify(name), "Project slug")
    description = clean_text(description, "Description", max_length=5000, required=False)
    modality = _clean_modality(modality)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.project_create)
        taken = session.scalar(select(Project.id).where(Project.org_id == org.id, Project.slug == slug))
        if taken is not None:
            raise Conflict(f"{org.name} already has a project '{slug}'. Choose another name or slug.", field="slug")
        project = Project(org_id=org.id, slug=slug, name=name, description=description, modality=modality,
                          created_by_id=actor.user_id, created_at=rt.clock.now())
        session.add(project)
        session.flush()
        record(session, rt, actor, org.id, "project.created", "project", slug, {"name": name, "modality": modality})
        return _project_view(project, org.slug)


def _asset_count_column() -> Any:
    """A correlated count, so listing projects stays one query (it is the API's busiest read)."""
    return (
        select(func.count(Asset.id)).where(Asset.project_id == Project.id).correlate(Project).scalar_subquery()
    )


def list_projects(rt: Runtime, actor: Actor, org_slug: str | None = None) -> list[ProjectView]:
    """Projects of one organisation, or of every organisation the actor may see projects in."""
    with rt.read() as session:
        query = (
            select(Project, Organization.slug, Membership.role, _asset_count_column())
            .join(Organization, Organization.id == Project.org_id)
            .join(Membership, Membership.org_id == Organization.id)
            .where(Membership.user_id == actor.user_id)
        )
        if org_slug is not None:
            authorize(session, actor, org_slug, Action.project_view)
            query = query.where(Organization.slug == org_slug.lower())
        return [
            _project_view(project, slug, count)
            for project, slug, role, count in session.execute(query.order_by(Organization.slug, Project.name))
            if explain(Role(role), Action.project_view, actor.scopes).allowed
        ]


def get_project(rt: Runtime, actor: Actor, org_slug: str, project_slug: str) -> ProjectView:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.project_view)
        project = load_project(session, org, project_slug)
        count = session.scalar(select(func.count(Asset.id)).where(Asset.project_id == project.id)) or 0
        return _project_view(project, org.slug, count)


def create_asset(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, *, name: str, kind: str,
                 slug: str = "", description: str = "") -> AssetView:
    """Add an asset. It starts at the ``team`` tier; widening is the release plan's job."""
    name = clean_text(name, "Asset name", max_length=100)
    slug = clean_slug(slug or slugify(name), "Asset slug")
    parsed_kind = parse_kind(kind)
    description = clean_text(description, "Description", max_length=5000, required=False)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.asset_create)
        project = load_project(session, org, project_slug)
        taken = session.scalar(select(Asset.id).where(Asset.project_id == project.id, Asset.slug == slug))
        if taken is not None:
            raise Conflict(f"Project {project.name} already has an asset '{slug}'. Choose another name.", field="slug")
        asset = Asset(project_id=project.id, slug=slug, name=name, kind=parsed_kind.value, description=description,
                      current_tier=Tier.team.value, high_water_tier=Tier.team.value, created_at=rt.clock.now())
        session.add(asset)
        session.flush()
        record(session, rt, actor, org.id, "asset.created", "asset", f"{project.slug}/{slug}",
               {"name": name, "kind": parsed_kind.value, "tier": Tier.team.value})
        return AssetView.of(asset, org.slug, project.slug)


def list_assets(rt: Runtime, actor: Actor, org_slug: str, project_slug: str) -> list[AssetView]:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.asset_view)
        project = load_project(session, org, project_slug)
        rows = session.scalars(select(Asset).where(Asset.project_id == project.id).order_by(Asset.id)).all()
        return [AssetView.of(a, org.slug, project.slug) for a in rows]
