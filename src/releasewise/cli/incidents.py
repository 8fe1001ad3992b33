"""`releasewise incident …`: file misuse reports, triage them, open incidents, export to the AIID."""

from __future__ import annotations

import base64
import mimetypes
import sys
from pathlib import Path
from typing import Annotated

import typer

from releasewise.cli.client import ApiClient, ApiError
from releasewise.cli.output import JsonFlag, call, console, fail, show, split_path
from releasewise.domain.incidents import solve

incident_app = typer.Typer(help="Misuse reports and incidents (responders: owners and release leads).",
                           no_args_is_help=True)
OrgArg = Annotated[str, typer.Argument(help="ORG")]
REPORT_COLUMNS = ["id", "project_slug", "harm_category", "severity", "age_days", "status", "incident_id", "reporter"]
INCIDENT_COLUMNS = ["id", "project_slug", "title", "severity", "status", "created_at"]


@incident_app.command("file")
def incident_file(path: Annotated[str, typer.Argument(help="ORG/PROJECT the misuse involves")],
                  harm: Annotated[str, typer.Option(help="fraud, impersonation, ncii, harassment, "
                                                         "disinformation or other")],
                  description: Annotated[str, typer.Option(help="What happened")],
                  url: Annotated[list[str] | None, typer.Option(help="Where it was seen (repeatable)")] = None,
                  evidence: Annotated[list[Path] | None, typer.Option(help="An evidence file (repeatable)")] = None,
                  as_json: JsonFlag = False) -> None:
    """Report suspected misuse (solves the server's proof-of-work challenge); prints the private follow-up link."""
    org, project = split_path(path, 2, "ORG/PROJECT")
    files = []
    for item in evidence or []:
        if not item.is_file():
            fail(f"{item} is not a file. Nothing was sent.")
        kind = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
        files.append({"filename": item.name, "content_type": kind,
                      "data_base64": base64.b64encode(item.read_bytes()).decode()})

    def send(c: ApiClient) -> dict[str, object]:
        challenge = c.get("/reports/challenge")["challenge"]
        body = {"org": org, "project": project, "harm_category": harm, "description": description,
                "urls": url or [], "evidence": files, "challenge": challenge, "solution": solve(challenge)}
        result: dict[str, object] = c.post("/reports", json=body)
        return result

    data = call(send)
    if as_json:
        show(data, True, [])
    else:
        console.print(f"Report #{data['report_id']} filed. Your private follow-up link (shown once, keep it private):")
        console.print(str(data["followup_url"]), markup=False, highlight=False)


@incident_app.command("reports")
def incident_reports(org: OrgArg, status: Annotated[str | None, typer.Option(help="Only this status")] = None,
                     as_json: JsonFlag = False) -> None:
    """The triage queue: open reports oldest first, with severity, age and status."""
    show(call(lambda c: c.get(f"/orgs/{org}/reports", status=status)), as_json, REPORT_COLUMNS)


@incident_app.command("triage")
def incident_triage(org: OrgArg, report_id: int,
                    status: Annotated[str | None, typer.Option(help="triaged, confirmed, not_misuse, resolved")] = None,
                    severity: Annotated[int | None, typer.Option(min=1, max=5)] = None,
                    duplicate_of: Annotated[int | None, typer.Option(help="Merge into this report")] = None,
                    as_json: JsonFlag = False) -> None:
    """Move a report along its statuses, set its severity, or merge it as a duplicate."""
    if duplicate_of is not None:
        data = call(lambda c: c.post(f"/orgs/{org}/reports/{report_id}/merge", json={"duplicate_of": duplicate_of}))
    else:
        data = call(lambda c: c.post(f"/orgs/{org}/reports/{report_id}/triage",
                                     json={"status": status, "severity": severity}))
    show(data, as_json, REPORT_COLUMNS)


@incident_app.command("message")
def incident_message(org: OrgArg, report_id: int,
                     body: Annotated[str, typer.Option("--body", help="What to tell or ask the reporter")],
                     as_json: JsonFlag = False) -> None:
    """Write to a report's reporter: on their private follow-up page, and by email where they left an address."""
    data = call(lambda c: c.post(f"/orgs/{org}/reports/{report_id}/messages", json={"body": body}))
    if as_json:
        show(data, True, [])
    else:
        where = f" and emailed to {data['emailed']} address(es)" if data["emailed"] else ""
        console.print(f"Message #{data['id']} sent to the reporter of #{report_id} (on their follow-up page{where}).")


@incident_app.command("thread")
def incident_thread(org: OrgArg, report_id: int, as_json: JsonFlag = False) -> None:
    """The messages between responders and a report's reporter, oldest first."""
    data = call(lambda c: c.get(f"/orgs/{org}/reports/{report_id}/messages"))
    if as_json:
        show(data, True, [])
        return
    if not data:
        console.print("[dim]No messages yet.[/]")
    for m in data:  # messages are prose: printed whole, not squeezed into table cells
        files = ", ".join(e["filename"] for e in m["evidence"])
        console.print(f"[bold]#{m['id']} {m['author']}[/] ({m['sender']}) [dim]{m['created_at']}[/]")
        console.print(m["body"], markup=False, highlight=False)
        if files:
            console.print(f"evidence: {files}", style="dim", markup=False, highlight=False)
        console.print()


@incident_app.command("open")
def incident_open(org: OrgArg, report: Annotated[list[int], typer.Option(help="A report id (repeatable)")],
                  title: Annotated[str, typer.Option()], severity: Annotated[int, typer.Option(min=1, max=5)],
                  description: Annotated[str, typer.Option()] = "", as_json: JsonFlag = False) -> None:
    """Open an incident from reports of one project."""
    data = call(lambda c: c.post(f"/orgs/{org}/incidents", json={
        "report_ids": report, "title": title, "severity": severity, "description": description}))
    show(data, as_json, INCIDENT_COLUMNS)


@incident_app.command("list")
def incident_list(org: OrgArg, as_json: JsonFlag = False) -> None:
    """Incidents, open ones first by severity."""
    show(call(lambda c: c.get(f"/orgs/{org}/incidents")), as_json, INCIDENT_COLUMNS)


@incident_app.command("show")
def incident_show(org: OrgArg, incident_id: int, as_json: JsonFlag = False) -> None:
    """An incident with its reports and the actions taken."""
    data = call(lambda c: c.get(f"/orgs/{org}/incidents/{incident_id}"))
    if as_json:
        show(data, True, [])
        return
    show(data, False, INCIDENT_COLUMNS)
    show(data["reports"], False, REPORT_COLUMNS, title="Reports")
    show(data["actions"], False, ["kind", "target", "note", "actor", "created_at"], title="Actions")


@incident_app.command("export")
def incident_export(org: OrgArg, format: Annotated[str, typer.Option("--format", help="json or csv")] = "json",
                    output: Annotated[Path | None, typer.Option("--output", "-o")] = None) -> None:
    """Incidents in the AI Incident Database's submission fields (no reporter identities, no evidence)."""
    if format not in ("json", "csv"):
        fail("--format must be json or csv.")

    def fetch(c: ApiClient) -> str:
        response = c.http.get(f"/api/v1/orgs/{org}/incidents/export", params={"format": format})
        if response.status_code >= 400:
            body = response.json()
            raise ApiError(response.status_code, body.get("title", "Error"), body.get("detail", ""))
        return response.text

    text: str = call(fetch)
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}.")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
