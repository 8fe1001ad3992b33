"""`releasewise`: run the server, manage the database, and use the API from a terminal.

Every API-backed command accepts ``--json`` and then prints exactly the API's
JSON, for scripts. Errors print one red line that says what to do, and exit 1.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from typing import Annotated

import typer
from rich.table import Table

from releasewise.cli import config as cli_config
from releasewise.cli.access import access_app, pull, push
from releasewise.cli.assessments import (
    assess_app,
    asset_tier,
    decision_app,
    review_app,
    reviewer_app,
)
from releasewise.cli.client import ApiClient, ApiError
from releasewise.cli.disclosure import disclose_app
from releasewise.cli.incidents import incident_app
from releasewise.cli.output import (
    JsonFlag,
    call,
    console,
    err_console,
    fail,
    show,
    split_path,
)
from releasewise.cli.plans import plan_app, reconcile_command
from releasewise.cli.precedents import precedents_app
from releasewise.cli.provenance import bench_app, detect_command, keys_app, mark_app
from releasewise.cli.detection import credential_app, detection_app
from releasewise.cli.signing import signing_app, verify_command

app = typer.Typer(help="releasewise: responsible release of generative ML research.", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="Database schema (operators).", no_args_is_help=True)
org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
member_app = typer.Typer(help="Members, roles and invitations of an organisation.", no_args_is_help=True)
project_app = typer.Typer(help="Projects.", no_args_is_help=True)
asset_app = typer.Typer(help="Assets of a project.", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The organisation's tamper-evident audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(member_app, name="member")
app.add_typer(project_app, name="project")
app.add_typer(asset_app, name="asset")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(access_app, name="access")
app.command("push")(push)
app.command("pull")(pull)


# The provenance commands load numpy/SciPy only when they run (see cli/provenance.py).
app.add_typer(mark_app, name="mark")
app.command("detect")(detect_command)
app.add_typer(keys_app, name="keys")
app.add_typer(credential_app, name="credential")
app.add_typer(detection_app, name="detection")
app.add_typer(bench_app, name="bench")

# Server and database --------------------------------------------------------

@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Create the demo organisation if it is missing.")] = False,
) -> None:
    """Run the web UI and API."""
    import uvicorn

    from releasewise.bootstrap import build_runtime
    from releasewise.config import Settings

    settings = Settings()
    overrides = {k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v is not None}
    settings = settings.model_copy(update=overrides)
    # Migrate once here, not in every worker.
    rt = build_runtime(settings, migrate_schema=True)
    if demo:
        from releasewise.services.demo import DEMO_PASSWORD, seed_demo

        logins = seed_demo(rt)
        table = Table(title="Demo logins (password: " + DEMO_PASSWORD + ")")
        table.add_column("username")
        table.add_column("role")
        table.add_column("who")
        for person in logins:
            table.add_row(person.username, person.role, person.who)
        console.print(table)
    rt.db.dispose()
    url = f"http://{'127.0.0.1' if settings.host in ('0.0.0.0', '::') else settings.host}:{settings.port}"
    console.print(f"[bold green]releasewise[/] is starting at [link={url}]{url}[/link]  "
                  f"(database: {settings.effective_database_url.split('@')[-1]})")
    # Workers are separate processes that read settings from the environment.
    os.environ["RELEASEWISE_MIGRATE_ON_START"] = "false"
    for key, value in overrides.items():
        os.environ[f"RELEASEWISE_{key.upper()}"] = str(value)
    from releasewise.logsafe import uvicorn_log_config

    uvicorn.run("releasewise.asgi:app", host=settings.host, port=settings.port, workers=settings.workers,
                log_level="info", proxy_headers=True, log_config=uvicorn_log_config())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (also done automatically on start)."""
    from releasewise.config import Settings
    from releasewise.store import migrate
    from releasewise.store.db import Database

    settings = Settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    before = ", ".join(sorted(migrate.current_revisions(db.engine))) or "empty"
    migrate.upgrade(db.engine)
    after = ", ".join(sorted(migrate.current_revisions(db.engine)))
    console.print(f"Database at revision [bold]{after}[/] (was {before}).")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision and whether migrations are pending."""
    from releasewise.config import Settings
    from releasewise.store import migrate
    from releasewise.store.db import Database

    db = Database(Settings().effective_database_url)
    current, heads = migrate.current_revisions(db.engine), migrate.head_revisions(db.engine)
    shown = ", ".join(sorted(current)) or "none"
    if current == heads:
        console.print(f"Revision {shown}: up to date.")
    else:
        latest = ", ".join(sorted(heads))
        console.print(f"Revision {shown}: behind (latest is {latest}); run `releasewise db upgrade`.")


# Login -----------------------------------------------------------------------

@app.command()
def login(
    url: Annotated[str, typer.Option(help="Server URL.")] = "http://127.0.0.1:8000",
    username: Annotated[str | None, typer.Option("--username", "-u", help="Username or email.")] = None,
    token: Annotated[str | None, typer.Option(help="Use an existing token instead of a password.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Log in: create a personal token (or check the one given) and save it in your config dir."""
    if token is None:
        if username is None:
            username = typer.prompt("Username or email")
        password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
        body = {"login": username, "password": password, "token_name": f"releasewise CLI on {socket.gethostname()}"}
        try:
            created = ApiClient(url).post("/auth/token", json=body)
        except ApiError as exc:
            fail(f"{exc.title}: {exc.detail}")
        token = created["token"]
    try:
        me = ApiClient(url, token).get("/me")
    except ApiError as exc:
        fail(f"{exc.title}: {exc.detail}")
    path = cli_config.save(cli_config.CliCredentials(url, token))
    console.print(f"Logged in to {url} as [bold]{me['username']}[/]. Token saved to {path}.")


@app.command()
def logout() -> None:
    """Forget the saved token (revoke it in the web UI or with `token revoke`)."""
    console.print("Logged out." if cli_config.forget() else "You were not logged in.")


@app.command()
def whoami(as_json: JsonFlag = False) -> None:
    """Show the account the saved token belongs to."""
    show(call(lambda c: c.get("/me")), as_json, ["username", "display_name", "email"])


# Organisations and members ----------------------------------------------------

@org_app.command("list")
def org_list(as_json: JsonFlag = False) -> None:
    """Organisations you belong to."""
    show(call(lambda c: c.get("/orgs")), as_json, ["slug", "name", "my_role"])


@org_app.command("create")
def org_create(name: str, slug: Annotated[str, typer.Option()] = "",
               description: Annotated[str, typer.Option()] = "", as_json: JsonFlag = False) -> None:
    """Create an organisation; you become its owner."""
    body = {"name": name, "slug": slug, "description": description}
    show(call(lambda c: c.post("/orgs", json=body)), as_json, ["slug", "name", "my_role"])


@org_app.command("show")
def org_show(org: str, as_json: JsonFlag = False) -> None:
    show(call(lambda c: c.get(f"/orgs/{org}")), as_json, ["slug", "name", "description", "my_role"])


@member_app.command("list")
def member_list(org: str, as_json: JsonFlag = False) -> None:
    show(call(lambda c: c.get(f"/orgs/{org}/members")), as_json, ["username", "display_name", "email", "role"])


@member_app.command("invite")
def member_invite(org: str, email: str, role: Annotated[str, typer.Option(help="owner, release_lead, researcher, reviewer or viewer")] = "researcher",
                  as_json: JsonFlag = False) -> None:
    """Invite someone by email; prints the one-time link too."""
    data = call(lambda c: c.post(f"/orgs/{org}/invitations", json={"email": email, "role": role}))
    if as_json:
        show(data, True, [])
        return
    console.print(f"Invited {email} as {role}. Link (also emailed): {data['link']}")


@member_app.command("invitations")
def member_invitations(org: str, as_json: JsonFlag = False) -> None:
    show(call(lambda c: c.get(f"/orgs/{org}/invitations")), as_json,
         ["id", "email", "role", "invited_by", "expires_at", "status"])


@member_app.command("role")
def member_role(org: str, username: str, role: str, as_json: JsonFlag = False) -> None:
    """Change a member's role."""
    show(call(lambda c: c.patch(f"/orgs/{org}/members/{username}", json={"role": role})), as_json,
         ["username", "role"])


@member_app.command("remove")
def member_remove(org: str, username: str) -> None:
    call(lambda c: c.delete(f"/orgs/{org}/members/{username}"))
    console.print(f"Removed {username} from {org}.")


# Projects and assets -------------------------------------------------------------

@project_app.command("list")
def project_list(org: Annotated[str | None, typer.Argument(help="Only this organisation.")] = None,
                 as_json: JsonFlag = False) -> None:
    path = f"/orgs/{org}/projects" if org else "/projects"
    show(call(lambda c: c.get(path)), as_json, ["org_slug", "slug", "name", "modality", "asset_count"])


@project_app.command("create")
def project_create(org: str, name: str, slug: Annotated[str, typer.Option()] = "",
                   modality: Annotated[str, typer.Option(help="audio, image, video, text or multimodal")] = "",
                   description: Annotated[str, typer.Option()] = "", as_json: JsonFlag = False) -> None:
    body = {"name": name, "slug": slug, "modality": modality, "description": description}
    show(call(lambda c: c.post(f"/orgs/{org}/projects", json=body)), as_json, ["org_slug", "slug", "name", "modality"])


@project_app.command("show")
def project_show(path: Annotated[str, typer.Argument(help="ORG/PROJECT")], as_json: JsonFlag = False) -> None:
    org, project = split_path(path, 2, "ORG/PROJECT")
    show(call(lambda c: c.get(f"/orgs/{org}/projects/{project}")), as_json,
         ["org_slug", "slug", "name", "modality", "asset_count", "description"])


@asset_app.command("list")
def asset_list(path: Annotated[str, typer.Argument(help="ORG/PROJECT")], as_json: JsonFlag = False) -> None:
    org, project = split_path(path, 2, "ORG/PROJECT")
    show(call(lambda c: c.get(f"/orgs/{org}/projects/{project}/assets")), as_json,
         ["slug", "name", "kind", "current_tier", "high_water_tier"])


@asset_app.command("create")
def asset_create(path: Annotated[str, typer.Argument(help="ORG/PROJECT")], name: str,
                 kind: Annotated[str, typer.Option(help="paper, code, weights, data, outputs, demo, api, detector, …")],
                 description: Annotated[str, typer.Option()] = "", as_json: JsonFlag = False) -> None:
    org, project = split_path(path, 2, "ORG/PROJECT")
    body = {"name": name, "kind": kind, "description": description}
    show(call(lambda c: c.post(f"/orgs/{org}/projects/{project}/assets", json=body)), as_json,
         ["slug", "name", "kind", "current_tier", "high_water_tier"])


# Tokens ------------------------------------------------------------------------------

@token_app.command("list")
def token_list(as_json: JsonFlag = False) -> None:
    show(call(lambda c: c.get("/tokens")), as_json,
         ["public_id", "name", "scopes", "expires_at", "last_used_at", "revoked_at"])


@token_app.command("create")
def token_create(
    name: str,
    scope: Annotated[list[str], typer.Option("--scope", help="read or write; repeat for both.")] = ["read"],  # noqa: B006
    expires_days: Annotated[int | None, typer.Option(help="Days until expiry (omit for 90; 0 for never).")] = 90,
    username: Annotated[str | None, typer.Option("--username", "-u")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a token for a script. Asks for your password: tokens cannot mint tokens."""
    creds = cli_config.load()
    url = creds.url if creds else "http://127.0.0.1:8000"
    if username is None:
        username = typer.prompt("Username or email")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
    body = {"login": username, "password": password, "token_name": name, "scopes": scope,
            "expires_in_days": expires_days or None}
    try:
        created = ApiClient(url).post("/auth/token", json=body)
    except ApiError as exc:
        fail(f"{exc.title}: {exc.detail}")
    if as_json:
        show(created, True, [])
        return
    console.print(f"Token [bold]{name}[/] ({', '.join(created['details']['scopes'])}). Copy it now, it is not shown again:")
    console.print(created["token"], highlight=False, soft_wrap=True)


@token_app.command("revoke")
def token_revoke(public_id: str, as_json: JsonFlag = False) -> None:
    show(call(lambda c: c.delete(f"/tokens/{public_id}")), as_json, ["public_id", "name", "revoked_at"])


# Audit ----------------------------------------------------------------------------------

@audit_app.command("list")
def audit_list(org: str, limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
               action: Annotated[str, typer.Option(help="Only actions starting with this, e.g. member.")] = "",
               as_json: JsonFlag = False) -> None:
    """Newest events first."""
    data = call(lambda c: c.get(f"/orgs/{org}/audit", limit=limit, action=action or None))
    show(data, as_json, ["seq", "occurred_at", "actor", "action", "target_id", "summary"], title=f"Audit log of {org}")


@audit_app.command("verify")
def audit_verify(org: str, as_json: JsonFlag = False) -> None:
    """Recompute the hash chain; exits 2 if the log was tampered with."""
    verdict = call(lambda c: c.post(f"/orgs/{org}/audit/verify"))
    if as_json:
        show(verdict, True, [])
    elif verdict["intact"]:
        console.print(f"[green]✔ Audit log of {org} is intact[/] ({verdict['events_checked']} events checked).")
    else:
        err_console.print(f"[bold red]✘ Audit log of {org} was tampered with[/] at event #{verdict['first_bad_seq']}: "
                          f"{verdict['problem']}.")
    if not verdict["intact"]:
        raise typer.Exit(2)


app.add_typer(assess_app, name="assess")
app.add_typer(reviewer_app, name="reviewer")
app.add_typer(review_app, name="review")
app.add_typer(decision_app, name="decision")
asset_app.command("tier")(asset_tier)
app.add_typer(plan_app, name="plan")
app.command("reconcile")(reconcile_command)
app.add_typer(disclose_app, name="disclose")
app.add_typer(incident_app, name="incident")
app.add_typer(precedents_app, name="precedents")
app.command("verify")(verify_command)
app.add_typer(signing_app, name="signing-keys")
