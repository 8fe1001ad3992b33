"""`releasewise plan …` and `releasewise reconcile`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from releasewise.cli.output import JsonFlag, call, console, fail, show, split_path
from releasewise.domain.plans import from_yaml

plan_app = typer.Typer(help="Release plans: staged widening with gates.", no_args_is_help=True)
ProjectPath = Annotated[str, typer.Argument(help="ORG/PROJECT")]


def _path(path: str) -> str:
    org, project = split_path(path, 2, "ORG/PROJECT")
    return f"/orgs/{org}/projects/{project}/plan"


def _print(plan: dict[str, Any]) -> None:
    console.print(f"[bold]{plan['project_name']}[/] — plan {plan['status']}"
                  + (f" (from template {plan['template']})" if plan["template"] else ""))
    table = Table()
    for column in ("stage", "earliest (UTC)", "steps", "state", "holding gates"):
        table.add_column(column)
    for stage in plan["stages"]:
        holding = "; ".join(f"{g['name']}: {g['detail']}" for g in stage["gate_results"] if not g["passed"])
        table.add_row(stage["title"], stage["earliest_at"][:16].replace("T", " "), ", ".join(stage["steps"]),
                      stage["state"], holding or "—")
    console.print(table)


@plan_app.command("show")
def plan_show(path: ProjectPath, as_json: JsonFlag = False) -> None:
    """Stages, their state, and the gates holding them."""
    data = call(lambda c: c.get(_path(path)))
    show(data, True, []) if as_json else _print(data)


@plan_app.command("apply")
def plan_apply(file: Annotated[Path, typer.Argument(help="plan.yaml (schema: docs/plans.md)")], path: ProjectPath,
               as_json: JsonFlag = False) -> None:
    """Create the plan or replace its unopened stages from a YAML/JSON file."""
    if not file.is_file():
        fail(f"{file} is not a file.")
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        fail(f"{file} is not valid YAML" + (f" at line {mark.line + 1}" if mark else "") + ". Nothing was applied.")
    data = call(lambda c: c.request("PUT", _path(path), json=from_yaml(document)))
    show(data, True, []) if as_json else _print(data)


@plan_app.command("template")
def plan_template(name: Annotated[str, typer.Argument(help="gpt2-staged, detector-first or paper-api-only")],
                  path: ProjectPath,
                  start: Annotated[str | None, typer.Option(help="First stage, ISO 8601 with timezone")] = None,
                  output: Annotated[Path | None, typer.Option("--output", "-o")] = None) -> None:
    """Write a plan built from a template for this project's assets (edit it, then `plan apply`)."""
    data = call(lambda c: c.get(_path(path) + "/template", name=name, start=start))
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}. Edit it, then: releasewise plan apply {output} {path}")
    else:
        console.print(text, markup=False, highlight=False)


@plan_app.command("open-stage")
def plan_open_stage(path: ProjectPath, key: str, as_json: JsonFlag = False) -> None:
    """Open the next stage now, before its date, if every gate passes."""
    data = call(lambda c: c.post(_path(path) + f"/stages/{key}/open"))
    show(data, True, []) if as_json else _print(data)


def _status(path: str, status: str, as_json: bool) -> None:
    data = call(lambda c: c.post(_path(path) + "/status", json={"status": status}))
    show(data, True, []) if as_json else _print(data)


@plan_app.command("pause")
def plan_pause(path: ProjectPath, as_json: JsonFlag = False) -> None:
    """Stop stages opening until the plan is resumed."""
    _status(path, "paused", as_json)


@plan_app.command("resume")
def plan_resume(path: ProjectPath, as_json: JsonFlag = False) -> None:
    _status(path, "active", as_json)


@plan_app.command("halt")
def plan_halt(path: ProjectPath, as_json: JsonFlag = False) -> None:
    """Stop the plan for good; halted plans never open another stage."""
    _status(path, "halted", as_json)


def reconcile_command(as_json: JsonFlag = False) -> None:
    """Operators: open due stages, send due reminders and queued mail, once (for cron). Safe to run anywhere, any time."""
    from releasewise.app import reconcile
    from releasewise.bootstrap import build_runtime
    from releasewise.config import Settings

    rt = build_runtime(Settings())
    result = reconcile(rt)
    rt.db.dispose()
    if as_json:
        console.print(json.dumps(result))
    else:
        console.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()) + ".")
