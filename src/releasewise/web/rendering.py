"""Template rendering shared by the web routes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from releasewise import __version__
from releasewise.domain.tiers import ASSET_KIND_DESCRIPTIONS, Tier
from releasewise.web import security

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _utc(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["utc"] = _utc
templates.env.globals["app_version"] = __version__
templates.env.globals["tiers"] = [t.value for t in Tier]
templates.env.globals["asset_kinds"] = {k.value: d for k, d in ASSET_KIND_DESCRIPTIONS.items()}


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse("")
    message, is_error = security.pop_flash(request, response)
    ctx: dict[str, Any] = {
        "actor": getattr(request.state, "actor", None),
        "csrf_token": security.csrf_token(request),
        "flash": "" if is_error else message,
        "flash_error": message if is_error else "",
        **(context or {}),
    }
    rendered = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    for key, value in response.headers.items():
        if key == "set-cookie":
            rendered.headers.append(key, value)
    return security.finish(request, rendered)  # type: ignore[return-value]
