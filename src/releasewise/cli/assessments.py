"""`releasewise assess|reviewer|review|decision` and `asset tier`: the assessment workflow from a terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from releasewise.cli.output import JsonFlag, call, console, fail, show, split_path

assess_app = typer.Typer(help="Risk assessments of a project's release.", no_args_is_help=True)
reviewer_app = typer.Typer(help="The organisation's pool of expert reviewers.", no_args_is_help=True)
review_app = typer.Typer(help="Expert reviews of submitted assessments.", no_args_is_help=True)
decision_app = typer.Typer(help="Decision records.", no_args_is_help=True)

ProjectPath = Annotated[str, typer.Argument(help="ORG/PROJECT")]


def _project(path: str) -> str:
    org, project = split_path(path, 2, "ORG/PROJECT")
    return f"/orgs/{org}/projects/{project}"


def _print_profile(version: dict[str, Any]) -> None:
    table = Table(title=f"Assessment v{version['number']} — recommendation (scoring {version['scoring_version']})")
    for column in ("asset", "hazards", "recommended tier", "held back by", "safeguards that would help"):
        table.add_column(column)
    for asset in version["profile"]["assets"]:
        table.add_row(asset["asset"], ", ".join(asset["hazards"]) or "—", asset["recommended_tier"],
                      asset["blocked_by"] or "—", ", ".join(s["option"] for s in asset["safeguards"][:3]) or "—")
    console.print(table)
    scenarios = Table(title="Scenarios")
    for column in ("scenario", "likelihood", "magnitude", "base risk"):
        scenarios.add_column(column)
    for s in version["profile"]["scenarios"]:
        scenarios.add_row(s["title"], f"{s['likelihood']:.2f}", f"{s['magnitude']:.2f}", f"{s['base_risk']:.3f}")
    console.print(scenarios)


@assess_app.command("import")
def assess_import(
    file: Annotated[Path, typer.Argument(help="YAML or JSON assessment (schema: docs/assessments.md)")],
    path: ProjectPath,
    submit: Annotated[bool, typer.Option("--submit", help="Also submit it as a new version.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Import an assessment kept in your repository. Invalid files import nothing."""
    if not file.is_file():
        fail(f"{file} is not a file.")
    text = file.read_text(encoding="utf-8", errors="replace")
    data = call(lambda c: c.post(_project(path) + "/assessment/import",
                                 json={"text": text, "filename": file.name, "submit": submit}))
    if as_json:
        show(data, True, [])
    elif data["imported_as"] == "version":
        console.print(f"Imported {file.name} and submitted it as version {data['number']}.")
        _print_profile(data)
    else:
        problems = data["problems"]
        console.print(f"Imported {file.name} as the draft." + (" It cannot be submitted yet:" if problems else ""))
        for problem in problems:
            console.print(f"  • {problem}")


@assess_app.command("submit")
def assess_submit(path: ProjectPath, as_json: JsonFlag = False) -> None:
    """Freeze the current draft as the next version."""
    data = call(lambda c: c.post(_project(path) + "/assessment/submit"))
    if as_json:
        show(data, True, [])
        return
    console.print(f"Submitted version {data['number']}.")
    _print_profile(data)


@assess_app.command("show")
def assess_show(path: ProjectPath, version: Annotated[int | None, typer.Option(min=1)] = None,
                as_json: JsonFlag = False) -> None:
    """A version's risk profile and recommendation (the latest if --version is not given)."""
    if version is None:
        versions = call(lambda c: c.get(_project(path) + "/assessment/versions"))
        if not versions:
            fail(f"{path} has no submitted assessment yet. Import or write one, then submit it.")
        data = versions[0]
    else:
        data = call(lambda c: c.get(_project(path) + f"/assessment/versions/{version}"))
    if as_json:
        show(data, True, [])
    else:
        _print_profile(data)


@assess_app.command("versions")
def assess_versions(path: ProjectPath, as_json: JsonFlag = False) -> None:
    show(call(lambda c: c.get(_project(path) + "/assessment/versions")), as_json,
         ["number", "submitted_by", "submitted_at", "scoring_version"])


@assess_app.command("diff")
def assess_diff(path: ProjectPath, old: int, new: int, as_json: JsonFlag = False) -> None:
    """What changed between two versions."""
    show(call(lambda c: c.get(_project(path) + "/assessment/diff", old=old, new=new)), as_json,
         ["path", "old", "new"])


@reviewer_app.command("add")
def reviewer_add(org: str, email: str,
                 expertise: Annotated[list[str], typer.Option("--expertise", "-e", help="Repeat for each tag.")],
                 note: Annotated[str, typer.Option()] = "", as_json: JsonFlag = False) -> None:
    """Add a member to the pool, or invite an external expert by email."""
    data = call(lambda c: c.post(f"/orgs/{org}/reviewers", json={"email": email, "expertise": expertise,
                                                                 "note": note}))
    if as_json:
        show(data, True, [])
    elif data["invitation_link"]:
        console.print(f"Invited {email} as an external reviewer. Link (also emailed): {data['invitation_link']}")
    else:
        console.print(f"Added {data['entry']['username']} to the reviewer pool.")


@reviewer_app.command("list")
def reviewer_list(org: str, as_json: JsonFlag = False) -> None:
    show(call(lambda c: c.get(f"/orgs/{org}/reviewers")), as_json,
         ["email", "username", "expertise", "status"])


@review_app.command("request")
def review_request(
    path: ProjectPath,
    version: Annotated[int, typer.Option(min=1, help="Submitted version to review.")],
    reviewer: Annotated[list[str], typer.Option("--reviewer", "-r", help="Username; repeat for each.")],
    step: Annotated[list[str], typer.Option("--step", "-s", help="ASSET:TIER to decide; repeat for each.")],
    due_days: Annotated[int, typer.Option(min=1, max=180, help="Days until the review is due.")] = 14,
    note: Annotated[str, typer.Option()] = "",
    as_json: JsonFlag = False,
) -> None:
    """Ask pool members to review a submitted version and decide widening steps."""
    due = (datetime.now(UTC) + timedelta(days=due_days)).isoformat()
    data = call(lambda c: c.post(_project(path) + "/reviews", json={
        "version": version, "reviewers": reviewer, "steps": step, "due_at": due, "note": note}))
    if as_json:
        show(data, True, [])
    else:
        console.print(f"Review #{data['id']} requested from {', '.join(reviewer)}, due {data['due_at'][:10]}.")


@review_app.command("list")
def review_list(org: str, as_json: JsonFlag = False) -> None:
    """Reviews you lead, or were asked to do."""
    show(call(lambda c: c.get(f"/orgs/{org}/reviews")), as_json,
         ["id", "project_slug", "version", "status", "due_at", "decision_id"])


@review_app.command("show")
def review_show(org: str, review_id: int, as_json: JsonFlag = False) -> None:
    data = call(lambda c: c.get(f"/orgs/{org}/reviews/{review_id}"))
    if as_json:
        show(data, True, [])
        return
    console.print(f"Review #{data['id']} of {data['project_name']} v{data['version']} — {data['status']}, "
                  f"due {data['due_at'][:16]}. Steps: {', '.join(data['steps'])}")
    show(data["assignments"], False, ["reviewer", "conflict", "vote", "conditions"])


@review_app.command("conflict")
def review_conflict(org: str, review_id: int,
                    conflict: Annotated[bool, typer.Option("--conflict/--no-conflict",
                                                           help="Whether you have a conflict of interest.")],
                    note: Annotated[str, typer.Option()] = "") -> None:
    """Declare (once) whether you have a conflict of interest."""
    call(lambda c: c.post(f"/orgs/{org}/reviews/{review_id}/conflict", json={"has_conflict": conflict, "note": note}))
    console.print("Conflict declared: you cannot vote on this review." if conflict else "No conflict declared.")


@review_app.command("vote")
def review_vote(
    org: str, review_id: int,
    vote: Annotated[str, typer.Argument(help="approve, approve_with_conditions or reject")],
    stance: Annotated[list[str], typer.Option("--stance", help="DIMENSION=1..5 for each dimension of disagreement")],
    condition: Annotated[list[str] | None, typer.Option("--condition", "-c")] = None,
    comments: Annotated[str, typer.Option()] = "",
    name_me: Annotated[bool, typer.Option("--name-me", help="Agree to be named as a reviewer on public pages "
                                          "(release page, precedent library); off by default.")] = False,
) -> None:
    """Vote, with a stance (1 cautious … 5 open) on every dimension of disagreement."""
    stances: dict[str, int] = {}
    for item in stance:
        name, _, value = item.partition("=")
        if not value.strip().isdigit():
            fail(f"--stance '{item}' must look like misuse_risk=2.")
        stances[name.strip()] = int(value)
    call(lambda c: c.post(f"/orgs/{org}/reviews/{review_id}/vote", json={
        "vote": vote, "conditions": condition or [], "comments": comments, "stances": stances,
        "public_credit": name_me}))
    console.print(f"Vote recorded: {vote}." + (" You will be named as a reviewer on public pages." if name_me else ""))


@review_app.command("credit")
def review_credit(
    org: str, review_id: int,
    named: Annotated[bool, typer.Option("--named/--anonymous", help="Be named on public pages, or stop being.")],
) -> None:
    """Choose whether public pages name you as a reviewer of this review's decision (your stance never)."""
    call(lambda c: c.request("PUT", f"/orgs/{org}/reviews/{review_id}/public-credit", json={"named": named}))
    console.print("You will be named as a reviewer on public pages." if named
                  else "Public pages will not name you.")


@review_app.command("close")
def review_close(org: str, review_id: int, rationale: Annotated[str, typer.Option(help="Why, in words.")],
                 as_json: JsonFlag = False) -> None:
    """Close the review and record the decision."""
    data = call(lambda c: c.post(f"/orgs/{org}/reviews/{review_id}/close", json={"rationale": rationale}))
    if as_json:
        show(data, True, [])
    else:
        console.print(f"Decision #{data['id']}: {data['outcome']} ({data['tally']}).")


@decision_app.command("list")
def decision_list(org: str, as_json: JsonFlag = False) -> None:
    show(call(lambda c: c.get(f"/orgs/{org}/decisions")), as_json,
         ["id", "project_slug", "outcome", "steps", "status", "expires_at"])


@decision_app.command("show")
def decision_show(org: str, decision_id: int, as_json: JsonFlag = False) -> None:
    if as_json:
        show(call(lambda c: c.get(f"/orgs/{org}/decisions/{decision_id}")), True, [])
        return
    console.print(call(lambda c: c.http.get(f"/api/v1/orgs/{org}/decisions/{decision_id}/export").text))


@decision_app.command("export")
def decision_export(org: str, decision_id: int,
                    format: Annotated[str, typer.Option(help="markdown, json or model-card")] = "markdown",
                    output: Annotated[Path | None, typer.Option("--output", "-o")] = None) -> None:
    """Export a decision as Markdown, JSON, or a model card's "Release considerations" section."""
    if format not in ("markdown", "json", "model-card"):
        fail("--format must be markdown, json or model-card.")

    def fetch(c: Any) -> str:
        response = c.http.get(f"/api/v1/orgs/{org}/decisions/{decision_id}/export", params={"format": format})
        if response.status_code >= 400:
            from releasewise.cli.client import ApiError

            body = response.json()
            raise ApiError(response.status_code, body.get("title", "Error"), body.get("detail", ""))
        return str(response.text)

    text = call(fetch)
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}.")
    else:
        console.print(text, markup=False, highlight=False)


@decision_app.command("condition-met")
def decision_condition_met(org: str, decision_id: int,
                           number: Annotated[int, typer.Argument(min=1, help="Condition number, from 1")]) -> None:
    call(lambda c: c.post(f"/orgs/{org}/decisions/{decision_id}/conditions/{number - 1}/met"))
    console.print(f"Condition {number} of decision #{decision_id} marked met.")


def asset_tier(path: Annotated[str, typer.Argument(help="ORG/PROJECT/ASSET")],
               tier: Annotated[str, typer.Argument(help="team … public")],
               reason: Annotated[str, typer.Option(help="Why; recorded in the audit log.")],
               as_json: JsonFlag = False) -> None:
    """Widen (needs a covering decision) or narrow an asset's audience tier."""
    org, project, asset = split_path(path, 3, "ORG/PROJECT/ASSET")
    data = call(lambda c: c.post(f"/orgs/{org}/projects/{project}/assets/{asset}/tier",
                                 json={"tier": tier, "reason": reason}))
    if as_json:
        show(data, True, [])
    else:
        console.print(f"{data['name']} is now at '{data['current_tier']}' (exposure high-water mark: "
                      f"'{data['high_water_tier']}'; narrowing never withdraws copies already given out).")
