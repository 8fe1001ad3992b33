"""Request-scoped dependencies: the runtime and the acting user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from releasewise.errors import NotAuthenticated
from releasewise.services import tokens
from releasewise.services.runtime import Actor, Runtime


async def get_runtime(request: Request) -> Runtime:
    # ``async`` only so FastAPI does not hop to a worker thread for a lookup.
    runtime: Runtime = request.app.state.runtime
    return runtime


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def get_actor(request: Request, rt: Annotated[Runtime, Depends(get_runtime)]) -> Actor:
    """The API authenticates with personal tokens only (``Authorization: Bearer``).

    Browser session cookies are deliberately not accepted here, so the API
    needs no CSRF protection: a forged cross-site request carries no token.
    """
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise NotAuthenticated(
            "Send a personal API token as 'Authorization: Bearer <token>'. "
            "Create one with `releasewise login` or in the web UI under Settings → API tokens."
        )
    return tokens.resolve_token(rt, value.strip(), ip=client_ip(request))


def get_optional_actor(request: Request, rt: Annotated[Runtime, Depends(get_runtime)]) -> Actor | None:
    """Like ``get_actor`` where anonymous callers are allowed (public assets): no header means no actor."""
    if not request.headers.get("authorization"):
        return None
    return get_actor(request, rt)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ActorDep = Annotated[Actor, Depends(get_actor)]
MaybeActorDep = Annotated[Actor | None, Depends(get_optional_actor)]
