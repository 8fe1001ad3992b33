"""`releasewise disclose …`: coordinated disclosure under embargo from a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from releasewise.cli.output import JsonFlag, call, console, fail, show

disclose_app = typer.Typer(help="Coordinated disclosure cases under embargo.", no_args_is_help=True)

Org = Annotated[str, typer.Argument(help="ORG")]
CaseId = Annotated[int, typer.Argument(help="Case number")]
InstantOpt = "ISO 8601 with a timezone, e.g. 2026-12-01T09:00:00Z or 2026-12-01T10:00+01:00"


def _print_case(case: dict[str, Any]) -> None:
    console.print(f"[bold]#{case['id']} {case['title']}[/] ({case['project_name']}) — {case['status']}")
    console.print(f"Embargo ends {case['embargo_ends_at']} UTC")
    table = Table(title="Readiness board")
    table.add_column("column")
    table.add_column("parties")
    for column, names in case["board"].items():
        table.add_row(column.replace("_", " "), ", ".join(names) or "—")
    console.print(table)
    pending = [r for r in case["time_requests"] if r["status"] == "pending"]
    for r in pending:
        console.print(f"[yellow]{r['party_name']} asks for more time until {r['requested_until']}:[/] {r['reason']} "
                      f"(request #{r['id']})")


@disclose_app.command("open")
def disclose_open(
    org: Org,
    project: Annotated[str, typer.Argument(help="Project slug")],
    title: Annotated[str, typer.Option("--title", help="Case title")],
    briefing: Annotated[Path, typer.Option("--briefing", help="Markdown file with the briefing")],
    embargo_ends: Annotated[str, typer.Option("--embargo-ends", help=InstantOpt)],
    stage: Annotated[str | None, typer.Option("--stage", help="Release-plan stage key")] = None,
    asset: Annotated[list[str] | None, typer.Option("--asset", "-a", help="Asset to share (repeatable)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a disclosure case with a briefing and an exact embargo end."""
    if not briefing.is_file():
        fail(f"{briefing} is not a file.")
    body = {"project": project, "title": title, "briefing_md": briefing.read_text(encoding="utf-8"),
            "embargo_ends_at": embargo_ends, "stage_key": stage, "assets": asset or []}
    case = call(lambda c: c.post(f"/orgs/{org}/disclosure", json=body))
    if as_json:
        show(case, True, [])
    else:
        console.print(f"Opened case #{case['id']}: embargo ends {case['embargo_ends_at']} UTC. "
                      f"Invite parties with `releasewise disclose invite {org} {case['id']} STAKEHOLDER_ID`.")


@disclose_app.command("invite")
def disclose_invite(
    org: Org, case_id: CaseId,
    stakeholder_id: Annotated[int, typer.Argument(help="Registry id (see `releasewise disclose stakeholders`)")],
    respond_by: Annotated[str, typer.Option("--respond-by", help=InstantOpt)],
    as_json: JsonFlag = False,
) -> None:
    """Invite a stakeholder; each contact is emailed a private link."""
    data = call(lambda c: c.post(f"/orgs/{org}/disclosure/{case_id}/parties",
                                 json={"stakeholder_id": stakeholder_id, "respond_by": respond_by}))
    if as_json:
        show(data, True, [])
    else:
        console.print(f"Invited {data['party']['name']}; emailed {', '.join(data['invited'])}.")


@disclose_app.command("status")
def disclose_status(org: Org, case_id: Annotated[int | None, typer.Argument(help="Case number")] = None,
                    as_json: JsonFlag = False) -> None:
    """List cases, or show one case's readiness board."""
    if case_id is None:
        show(call(lambda c: c.get(f"/orgs/{org}/disclosure")), as_json,
             ["id", "title", "project_slug", "embargo_ends_at", "status"], title=f"Disclosure cases of {org}")
        return
    case = call(lambda c: c.get(f"/orgs/{org}/disclosure/{case_id}"))
    if as_json:
        show(case, True, [])
        return
    _print_case(case)
    show(case["parties"], False, ["name", "type", "state", "respond_by"], title="Parties")


@disclose_app.command("extend")
def disclose_extend(
    org: Org, case_id: CaseId,
    until: Annotated[str, typer.Option("--until", help=InstantOpt)],
    reason: Annotated[str, typer.Option("--reason", help="Told to every party")],
    as_json: JsonFlag = False,
) -> None:
    """Extend the embargo; every party that has not declined is told."""
    case = call(lambda c: c.post(f"/orgs/{org}/disclosure/{case_id}/extend", json={"new_end": until, "reason": reason}))
    if as_json:
        show(case, True, [])
    else:
        console.print(f"Embargo of #{case_id} now ends {case['embargo_ends_at']} UTC; parties were told.")


@disclose_app.command("publish")
def disclose_publish(
    org: Org, case_id: CaseId,
    summary: Annotated[str, typer.Option("--summary", help="Public summary for the project page")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Lift the embargo now and notify every party."""
    case = call(lambda c: c.post(f"/orgs/{org}/disclosure/{case_id}/publish", json={"public_summary": summary}))
    if as_json:
        show(case, True, [])
    else:
        console.print(f"Published #{case_id} at {case['published_at']} UTC; parties were notified.")


@disclose_app.command("stakeholders")
def disclose_stakeholders(org: Org, as_json: JsonFlag = False) -> None:
    """The stakeholder registry you can use (shared entries and your organisation's own)."""
    data = call(lambda c: c.get(f"/orgs/{org}/stakeholders"))
    if not as_json:
        for s in data:
            s["contacts"] = ", ".join(c["email"] for c in s["contacts"])
            s["interests"] = ", ".join(s["interests"])
    show(data, as_json, ["id", "name", "type", "interests", "shared", "contacts"], title="Stakeholder registry")


@disclose_app.command("add-stakeholder")
def disclose_add_stakeholder(
    org: Org,
    name: Annotated[str, typer.Argument(help="Organisation name")],
    type: Annotated[str, typer.Option("--type", help="platform, detection_research, newsroom, fact_checking, "
                                                     "policy or other")],
    contact: Annotated[list[str] | None, typer.Option("--contact", "-c", help="'Name <email>' (repeatable)")] = None,
    interest: Annotated[list[str] | None, typer.Option("--interest", "-i", help="e.g. audio, fraud")] = None,
    shared: Annotated[bool, typer.Option("--shared", help="Visible to every lab on this instance")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a partner organisation to the registry."""
    contacts = []
    for item in contact or []:
        name_part, _, rest = item.partition("<")
        contacts.append({"name": name_part.strip() or rest.rstrip(">").strip(), "email": rest.rstrip(">").strip()
                         if rest else item.strip()})
    body = {"name": name, "type": type, "interests": interest or [], "shared": shared, "contacts": contacts}
    data = call(lambda c: c.post(f"/orgs/{org}/stakeholders", json=body))
    show(data, as_json, ["id", "name", "type", "shared"])
