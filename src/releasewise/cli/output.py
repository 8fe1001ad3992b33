"""What every command shares: the consoles, the ``--json`` flag, the API call wrapper, tables, errors.

Kept apart from ``main`` so command modules can import it without importing the whole CLI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from releasewise.cli import config as cli_config
from releasewise.cli.client import ApiClient, ApiError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)  # errors stay one greppable line

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of a table.")]


def fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(1)


def client() -> ApiClient:
    creds = cli_config.load()
    if creds is None:
        fail("You are not logged in. Run `releasewise login --url URL` first (or set RELEASEWISE_TOKEN).")
    return ApiClient(creds.url, creds.token)


def call(fn: Callable[[ApiClient], Any]) -> Any:
    try:
        return fn(client())
    except ApiError as exc:
        fail(f"{exc.title}: {exc.detail}")


def show(data: Any, as_json: bool, columns: Sequence[str], *, title: str = "") -> None:
    """Print ``data`` (a dict or a list of dicts) as JSON or as a table of ``columns``."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    rows = data if isinstance(data, list) else [data]
    if not rows:
        console.print("[dim]Nothing to show.[/]")
        return
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def split_path(value: str, parts: int, example: str) -> list[str]:
    pieces = value.strip("/").split("/")
    if len(pieces) != parts or not all(pieces):
        fail(f"Expected {example}, got '{value}'.")
    return pieces
