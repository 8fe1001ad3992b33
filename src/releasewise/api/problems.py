"""Errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from releasewise.errors import RateLimited, ReleasewiseError

PROBLEM_TYPE_BASE = "urn:releasewise:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, instance: str, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail,
            "instance": instance, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def from_error(request: Request, exc: ReleasewiseError) -> JSONResponse:
    extra: dict[str, Any] = {}
    if exc.field:
        extra["field"] = exc.field
    response = problem(exc.status_code, exc.code, exc.title, exc.message, request.url.path, **extra)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="releasewise"'
    return response


def from_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _location(err.get("loc", ())), "message": err.get("msg", "invalid")}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(422, "invalid_input", "Invalid input", f"Fix these fields and retry: {summary}",
                   request.url.path, errors=errors)


HTTP_TITLES = {401: "Not authenticated", 404: "Not found", 405: "Method not allowed", 413: "Too large"}


def from_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"There is no API endpoint at {request.url.path}. See /api/v1/docs for the list."
    return problem(exc.status_code, f"http_{exc.status_code}", HTTP_TITLES.get(exc.status_code, "Error"),
                   detail, request.url.path)
