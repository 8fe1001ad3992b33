"""The assessment workflow from the terminal, against a real server."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from releasewise.services import projects
from tests.cli.conftest import login, rw
from tests.services.assessment_fixtures import expert, echo_document


def test_import_submit_review_vote_close_export_and_tier(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live, world = server
    projects.create_asset(world.rt, world.lead, "lab-a", "echo", name="Paper", kind="paper")
    expert(world, "fiona", ["fraud", "audio"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("summary: x\nscenarios:\n  - id: s1\n    goal: fraud\n    actor: hacker\n")
    good = tmp_path / "echo.yaml"
    good.write_text(yaml.safe_dump(echo_document()))

    login(live.url, "rita")
    code, _, err = rw("assess", "import", str(broken), "lab-a/echo")
    assert code == 1 and "scenarios[0].actor (line 5)" in err and "Nothing was imported" in err
    code, out, err = rw("assess", "import", str(good), "lab-a/echo", "--submit")
    assert code == 0, err
    assert "submitted it as version 1" in out and "weights-1b" in out
    code, out, _ = rw("assess", "show", "lab-a/echo", "--json")
    assert json.loads(out)["number"] == 1

    login(live.url, "leo")
    code, out, err = rw("review", "request", "lab-a/echo", "--version", "1", "-r", "fiona",
                        "-s", "weights-1b:vetted_researchers", "--due-days", "7")
    assert code == 0, err
    review_id = out.split("#")[1].split()[0]

    login(live.url, "fiona")
    assert rw("review", "conflict", "lab-a", review_id, "--no-conflict")[0] == 0
    stances = [a for d in ["misuse_risk", "counterfactual_impact", "value_of_openness", "who_should_decide",
                           "attention_effects"] for a in ("--stance", f"{d}=3")]
    code, out, err = rw("review", "vote", "lab-a", review_id, "approve", *stances, "--name-me")
    assert code == 0 and "named as a reviewer" in out, err
    code, _, err = rw("review", "vote", "lab-a", review_id, "reject", *stances)
    assert code == 1 and "already voted" in err
    code, out, err = rw("review", "credit", "lab-a", review_id, "--anonymous")
    assert code == 0 and "will not name you" in out, err

    login(live.url, "leo")
    code, out, err = rw("review", "close", "lab-a", review_id, "--rationale", "Vetted researchers only.")
    assert code == 0 and "approved" in out, err
    decision_id = out.split("#")[1].split(":")[0]
    card = tmp_path / "card.md"
    assert rw("decision", "export", "lab-a", decision_id, "--format", "model-card", "-o", str(card))[0] == 0
    assert "## Release considerations" in card.read_text()
    code, out, err = rw("asset", "tier", "lab-a/echo/weights-1b", "vetted_researchers", "--reason", "stage 1")
    assert code == 0 and "high-water mark" in out, err
    code, _, err = rw("asset", "tier", "lab-a/echo/weights-1b", "public", "--reason", "too far")
    assert code == 1 and "needs an approved, unexpired decision" in err
