"""Browser security: session cookies, CSRF tokens, security headers.

CSRF tokens are an HMAC of the browser's session secret (or, before login,
of a random per-browser nonce) under the server key: a page on another site
can make the browser send our cookies but cannot read them, so it cannot
compute the token that every form and htmx request must carry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import quote, unquote

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from releasewise.errors import CsrfFailed

SESSION_COOKIE = "rw_session"
ANON_COOKIE = "rw_anon"
FLASH_COOKIE = "rw_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _secure(request: Request) -> bool:
    return bool(request.app.state.runtime.settings.secure_cookies)


def browser_secret(request: Request) -> str:
    """The secret the CSRF token is bound to; creates the anonymous nonce if needed."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return "s:" + session
    nonce = request.cookies.get(ANON_COOKIE) or getattr(request.state, "new_anon_nonce", None)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        request.state.new_anon_nonce = nonce
    return "a:" + nonce


def csrf_token(request: Request) -> str:
    key = request.app.state.secret_key.encode()
    return hmac.new(key, ("csrf|" + browser_secret(request)).encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, submitted: str | None) -> None:
    """Raise CsrfFailed unless ``submitted`` (form field or header) is this browser's token."""
    presented = submitted or request.headers.get(CSRF_HEADER, "")
    has_secret = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)
    if not presented or not has_secret or not hmac.compare_digest(presented, csrf_token(request)):
        raise CsrfFailed(
            "This form was not issued by releasewise for your browser session (or it expired). "
            "Reload the page and submit it again."
        )


def set_session_cookie(request: Request, response: Response, raw: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, raw, max_age=max_age, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def finish(request: Request, response: Response) -> Response:
    """Attach cookies created while rendering (the anonymous CSRF nonce)."""
    nonce = getattr(request.state, "new_anon_nonce", None)
    if nonce:
        response.set_cookie(ANON_COOKIE, nonce, httponly=True, samesite="lax", secure=_secure(request), path="/")
    return response


ERROR_MARK = "!"


def flash(response: Response, message: str, *, error: bool = False) -> None:
    """A one-time message for the next page; errors are marked so they render as errors."""
    text = (ERROR_MARK if error else "") + message[:600]
    response.set_cookie(FLASH_COOKIE, quote(text), max_age=60, httponly=True, samesite="lax", path="/")


def pop_flash(request: Request, response: Response) -> tuple[str, bool]:
    """The pending message and whether it reports an error."""
    raw = unquote(request.cookies.get(FLASH_COOKIE) or "")
    if raw:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return (raw[1:], True) if raw.startswith(ERROR_MARK) else (raw, False)


class SecurityHeadersMiddleware:
    """Conservative headers on every response: no framing, no sniffing, same-origin scripts only.

    A plain ASGI middleware rather than ``BaseHTTPMiddleware``, which costs a
    task and a memory stream per request on the API's hot path.
    """

    CSP = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with_csp = not scope["path"].startswith("/api/v1/docs")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if with_csp:
                    headers.setdefault("Content-Security-Policy", self.CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
