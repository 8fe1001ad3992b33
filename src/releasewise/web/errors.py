"""Error pages for browser paths; API paths get problem JSON (api/problems.py)."""

from __future__ import annotations

from typing import cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from releasewise.api import problems
from releasewise.errors import ReleasewiseError
from releasewise.web.rendering import render
from releasewise.web.routes import LoginRequired, redirect


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def install(app: FastAPI) -> None:
    """One set of handlers that answers each path in its own language."""

    async def on_releasewise_error(request: Request, exc: Exception) -> Response:
        exc = cast(ReleasewiseError, exc)
        if _is_api(request):
            return problems.from_error(request, exc)
        return render(request, "error.html", {"title": exc.title, "detail": exc.message}, exc.status_code)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        exc = cast(RequestValidationError, exc)
        if _is_api(request):
            return problems.from_validation_error(request, exc)
        detail = "; ".join(str(e.get("msg", "")) for e in exc.errors()[:3])
        return render(request, "error.html", {"title": "Invalid request", "detail": detail}, 422)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        exc = cast(StarletteHTTPException, exc)
        if _is_api(request):
            return problems.from_http_error(request, exc)
        title = problems.HTTP_TITLES.get(exc.status_code, "Error")
        detail = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
        return render(request, "error.html", {"title": title, "detail": detail}, exc.status_code)

    async def on_login_required(request: Request, exc: Exception) -> Response:
        exc = cast(LoginRequired, exc)
        return redirect(f"/login?next={quote(exc.next_path)}", "Please sign in to continue.")

    app.add_exception_handler(ReleasewiseError, on_releasewise_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(LoginRequired, on_login_required)
