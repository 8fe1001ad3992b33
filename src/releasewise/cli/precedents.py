"""`releasewise precedents …`: search and read the precedent library (no login needed), and publish or
withdraw a decision record (owners and release leads)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from releasewise.cli import config as cli_config
from releasewise.cli.client import ApiClient, ApiError
from releasewise.cli.output import JsonFlag, call, console, fail, show

precedents_app = typer.Typer(help="The precedent library: published decision records of every organisation.",
                             no_args_is_help=True)
UrlOpt = Annotated[str | None, typer.Option("--url", envvar="RELEASEWISE_URL",
                                            help="Server (default: the one you logged in to).")]
SEARCH_COLUMNS = ["id", "project", "org", "modality", "decision", "decided", "incidents"]


def _public(url: str | None) -> ApiClient:
    """Reading the library needs no token: any server, the saved login's server by default."""
    creds = cli_config.load()
    base = url or (creds.url if creds else None)
    if base is None:
        fail("Give the server with --url (or RELEASEWISE_URL), or log in first.")
    return ApiClient(base, creds.token if creds and not url else None)


def _public_call(url: str | None, path: str, **params: Any) -> Any:
    try:
        return _public(url).get(path, **params)
    except ApiError as exc:
        fail(f"{exc.title}: {exc.detail}")


def _row(item: dict[str, Any]) -> dict[str, Any]:
    record = item["record"]
    outcome = item["outcome"]
    incidents = f"{outcome['incidents']} ({outcome['severe']} severe)" if outcome["incidents"] else "none"
    return {"id": item["id"], "project": record["project"]["name"], "org": record["org"]["slug"],
            "modality": record["project"]["modality"] or "—", "decision": record["decision"]["outcome"],
            "decided": str(record["decision"]["decided_at"])[:10], "incidents": incidents}


@precedents_app.command("search")
def precedents_search(
    query: Annotated[list[str] | None, typer.Argument(help="Words that must all appear")] = None,
    modality: Annotated[str | None, typer.Option(help="audio, image, video, text or multimodal")] = None,
    hazard: Annotated[str | None, typer.Option(help="product, data or attention")] = None,
    option: Annotated[str | None, typer.Option(help="A release option, e.g. staged_release, detector_first")] = None,
    outcome: Annotated[str | None, typer.Option(help="none, incidents or severe (after the decision)")] = None,
    decision: Annotated[str | None, typer.Option(help="approved or rejected")] = None,
    org: Annotated[str | None, typer.Option(help="Only this organisation's records")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=100)] = 20,
    url: UrlOpt = None, as_json: JsonFlag = False,
) -> None:
    """Search published decision records; every filter is optional. Newest decisions first."""
    data = _public_call(url, "/precedents", q=" ".join(query or []) or None, modality=modality, hazard=hazard,
                        option=option, outcome=outcome, decision=decision, org=org, page=page, per_page=per_page)
    if as_json:
        show(data, True, [])
        return
    show([_row(i) for i in data["items"]], False, SEARCH_COLUMNS)
    counts = "; ".join(f"{name}: " + ", ".join(f"{f['value']} {f['count']}" for f in values if f["count"])
                       for name, values in data["facets"].items() if any(f["count"] for f in values))
    console.print(f"{data['total']} precedent(s), page {data['page']} of {data['pages']}."
                  + (f" By facet — {escape(counts)}." if counts else ""), highlight=False)


@precedents_app.command("show")
def precedents_show(precedent_id: int, url: UrlOpt = None, as_json: JsonFlag = False) -> None:
    """One published record: the decision, its rationale and conditions, options, assets and live outcome."""
    data = _public_call(url, f"/precedents/{precedent_id}")
    if as_json:
        show(data, True, [])
        return
    record, decision = data["record"], data["record"]["decision"]
    lines = [
        (f"[bold]#{data['id']} {escape(record['project']['name'])}[/] — {escape(record['org']['name'])}"
        f" ({record['project']['modality'] or 'modality not set'})"),
        f"Decision: {decision['outcome']} on {str(decision['decided_at'])[:10]}; "
        + "; ".join(s["label"] for s in decision["steps"]),
        (f"Votes: {decision['votes']['approve']} approve, {decision['votes']['approve_with_conditions']} "
        f"approve with conditions, {decision['votes']['reject']} reject"),
        "Diverged on: " + ("; ".join(d["label"] for d in decision["disagreements"] if d["diverges"]) or "nothing"),
        "Conditions: " + ("; ".join(decision["conditions"]) or "none"),
        "Options: " + (", ".join(record["options"]) or "none stated"),
        "Hazards: " + (", ".join(record["hazards"]) or "none"),
        f"Outcome: {data['outcome']['summary']}",
        f"Rationale: {decision['rationale']}",
    ]
    if record["note"]:
        lines.append(f"Note: {record['note']}")
    for line in lines:
        console.print(line if line.startswith("[bold]") else escape(line), highlight=False)


@precedents_app.command("publish")
def precedents_publish(
    org: str, decision_id: int,
    option: Annotated[list[str] | None, typer.Option(help="A release option used (repeatable); "
                                                          "omit to take the suggested ones")] = None,
    note: Annotated[str, typer.Option(help="What other labs can learn from this case (public)")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Publish a decision's redacted record to the library (again: replaces the snapshot)."""
    body: dict[str, Any] = {"note": note}
    if option:
        body["options"] = option
    data = call(lambda c: c.post(f"/orgs/{org}/decisions/{decision_id}/precedent", json=body))
    if as_json:
        show(data, True, [])
    else:
        console.print(f"[green]Published[/] decision #{decision_id} as precedent #{data['id']}: {data['url']}",
                      highlight=False)


@precedents_app.command("preview")
def precedents_preview(org: str, decision_id: int, as_json: JsonFlag = False) -> None:
    """Whether a decision is in the library, the suggested options, and what publishing would show."""
    data = call(lambda c: c.get(f"/orgs/{org}/decisions/{decision_id}/precedent"))
    show(data, as_json, ["decision_id", "project_name", "state", "precedent_id", "options", "suggested_options"])


@precedents_app.command("withdraw")
def precedents_withdraw(org: str, decision_id: int, as_json: JsonFlag = False) -> None:
    """Take a published record out of the library (it stays in the audit log)."""
    data = call(lambda c: c.delete(f"/orgs/{org}/decisions/{decision_id}/precedent"))
    if as_json:
        show(data, True, [])
    else:
        console.print(f"Withdrew decision #{decision_id} from the precedent library.")
