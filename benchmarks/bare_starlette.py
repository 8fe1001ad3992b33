"""The baseline: a bare Starlette endpoint returning a JSON list of the same shape as
GET /api/v1/projects, with no authentication and no database."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

PROJECTS = [
    {"org_slug": "resonance-lab", "slug": slug, "name": name, "description": "x" * 120, "modality": "audio",
     "created_at": "2026-11-27T20:00:00", "asset_count": n}
    for slug, name, n in [("echo-2", "Echo-2 voice cloning", 10), ("prosody-data", "Prosody transfer dataset", 1)]
]


async def projects(request: object) -> JSONResponse:
    return JSONResponse(PROJECTS)


app = Starlette(routes=[Route("/api/v1/projects", projects)])
