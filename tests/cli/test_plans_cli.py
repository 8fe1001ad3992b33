"""Plans from the terminal: template, apply (with bad files), show, pause, open-stage; and `reconcile` for cron."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from releasewise.services import accounts, projects, reviews
from tests.cli.conftest import login, rw
from tests.conftest import PASSWORD
from tests.services.assessment_fixtures import expert, open_review, vote, with_submitted_assessment


def test_plan_commands(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live, world = server
    with_submitted_assessment(world)
    expert(world, "fiona", ["fraud"])
    review_id = open_review(world, ["fiona"], steps=["paper:public"])
    vote(world, accounts.authenticate_password(world.rt, login="fiona", password=PASSWORD, ip="x"), review_id,
         "approve")
    reviews.close_review(world.rt, world.lead, "lab-a", review_id, rationale="ok")

    login(live.url, "leo")
    plan_file = tmp_path / "plan.yaml"
    code, out, err = rw("plan", "template", "paper-api-only", "lab-a/echo", "-o", str(plan_file))
    assert code == 0, err
    document = yaml.safe_load(plan_file.read_text())
    assert document["stages"][0]["steps"] == ["paper:public"]

    naive = tmp_path / "naive.yaml"
    naive.write_text("stages:\n  - key: a\n    earliest: 2030-01-01T09:00:00\n    steps: [paper:public]\n")
    code, _, err = rw("plan", "apply", str(naive), "lab-a/echo")
    assert code == 1 and "has no timezone" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("stages: [\n")
    code, _, err = rw("plan", "apply", str(broken), "lab-a/echo")
    assert code == 1 and "not valid YAML" in err

    code, out, err = rw("plan", "apply", str(plan_file), "lab-a/echo", "--json")
    assert code == 0, err
    assert json.loads(out)["stages"][0]["state"] == "scheduled"
    assert rw("plan", "pause", "lab-a/echo")[0] == 0
    code, _, err = rw("plan", "open-stage", "lab-a/echo", "launch")
    assert code == 1 and "resume it" in err
    assert rw("plan", "resume", "lab-a/echo")[0] == 0
    code, out, err = rw("plan", "open-stage", "lab-a/echo", "launch")
    assert code == 0 and "opened" in out, err
    assert projects.list_assets(world.rt, world.lead, "lab-a", "echo")[-1].current_tier == "public"

    login(live.url, "rita")
    code, _, err = rw("plan", "halt", "lab-a/echo")
    assert code == 1 and "plan.edit" in err


def test_reconcile_command_runs_against_the_configured_database(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RELEASEWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RELEASEWISE_DATABASE_URL", raising=False)
    code, out, err = rw("reconcile", "--json")
    assert code == 0, err
    counts = json.loads(out)
    assert counts["stages_opened"] == 0 and counts["mails_sent"] == 0
    assert all(isinstance(v, int) for v in counts.values())
