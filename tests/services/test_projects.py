from __future__ import annotations

import pytest

from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services import projects
from tests.conftest import World


def test_project_and_assets_start_at_team_tier(world: World) -> None:
    rt = world.rt
    p = projects.create_project(rt, world.lead, "lab-a", name="Echo 3", modality="audio")
    assert p.slug == "echo-3"
    a = projects.create_asset(rt, world.researcher, "lab-a", "echo-3", name="Paper", kind="paper")
    assert a.current_tier == "team" and a.high_water_tier == "team"
    assert [x.slug for x in projects.list_assets(rt, world.viewer, "lab-a", "echo-3")] == ["paper"]
    assert projects.get_project(rt, world.viewer, "lab-a", "echo-3").asset_count == 1


def test_list_projects_across_my_orgs_only(world: World) -> None:
    rt = world.rt
    mine = projects.list_projects(rt, world.viewer)
    assert [(p.org_slug, p.slug) for p in mine] == [("lab-a", "echo")]
    assert [(p.org_slug, p.slug) for p in projects.list_projects(rt, world.outsider)] == [("lab-b", "secret")]


@pytest.mark.parametrize("who", ["researcher", "reviewer", "viewer"])
def test_only_leads_create_projects(world: World, who: str) -> None:
    with pytest.raises(PermissionDenied, match="project.create"):
        projects.create_project(world.rt, getattr(world, who), "lab-a", name="Mine")
    assert len(projects.list_projects(world.rt, world.owner, "lab-a")) == 1


@pytest.mark.parametrize("who", ["reviewer", "viewer"])
def test_reviewers_and_viewers_cannot_add_assets(world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        projects.create_asset(world.rt, getattr(world, who), "lab-a", "echo", name="X", kind="code")


def test_outsiders_get_not_found_for_everything(world: World) -> None:
    rt = world.rt
    with pytest.raises(NotFound):
        projects.get_project(rt, world.outsider, "lab-a", "echo")
    with pytest.raises(NotFound):
        projects.list_assets(rt, world.outsider, "lab-a", "echo")
    with pytest.raises(NotFound):
        projects.create_asset(rt, world.outsider, "lab-a", "echo", name="Trojan", kind="code")
    with pytest.raises(NotFound):
        projects.list_projects(rt, world.outsider, "lab-a")
    # A project slug of another org is not reachable through one's own org either.
    with pytest.raises(NotFound, match="No project 'secret'"):
        projects.get_project(rt, world.owner, "lab-a", "secret")


def test_bad_and_duplicate_input(world: World) -> None:
    rt = world.rt
    with pytest.raises(Conflict, match="already has a project"):
        projects.create_project(rt, world.lead, "lab-a", name="Echo")
    with pytest.raises(InvalidInput, match="Unknown modality"):
        projects.create_project(rt, world.lead, "lab-a", name="Z", modality="smell")
    with pytest.raises(InvalidInput, match="Unknown asset kind"):
        projects.create_asset(rt, world.lead, "lab-a", "echo", name="Z", kind="binary")
    with pytest.raises(Conflict, match="already has an asset"):
        projects.create_asset(rt, world.lead, "lab-a", "echo", name="Weights 1B", kind="weights")
    with pytest.raises(InvalidInput, match="limit is 100"):
        projects.create_asset(rt, world.lead, "lab-a", "echo", name="w" * 101, kind="weights")
    assert len(projects.list_assets(rt, world.lead, "lab-a", "echo")) == 1
