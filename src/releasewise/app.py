"""Builds the ASGI application from settings.

Engines, mailers and background tasks are created in the lifespan, never at
import time, so several apps (tests, workers) can live in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from releasewise import __version__
from releasewise.api import access as access_api
from releasewise.api import detection as detection_api
from releasewise.api import assessments as assessments_api
from releasewise.api import disclosure as disclosure_api
from releasewise.api import incidents as incidents_api
from releasewise.api import plans as plans_api
from releasewise.api import precedents as precedents_api
from releasewise.api import report_messages as report_messages_api
from releasewise.api import signing as signing_api
from releasewise.api import routes as core_api
from releasewise.bootstrap import build_runtime
from releasewise.config import Settings
from releasewise.hfapi import routes as hf_routes
from releasewise.services import detection, disclosure, evidence_checks, outbox, plans, reviews
from releasewise.services.runtime import Runtime
from releasewise.web import assessments as assessments_web
from releasewise.web import access as access_web
from releasewise.web import detection as detection_web
from releasewise.web import disclosure as disclosure_web
from releasewise.web import incidents as incidents_web
from releasewise.web import errors as web_errors
from releasewise.web import plans as plans_web
from releasewise.web import precedents as precedents_web
from releasewise.web import release_page as release_page_web
from releasewise.web import routes as core_web
from releasewise.web.security import SecurityHeadersMiddleware

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "web" / "static"

# Each capability adds its own router modules here (see docs/architecture.md).
API_ROUTERS = [core_api.router, access_api.router, assessments_api.router, plans_api.router, signing_api.router,
               disclosure_api.router,
               incidents_api.router, detection_api.router, precedents_api.router,
               report_messages_api.router, hf_routes.router]
WEB_ROUTERS = [core_web.router, access_web.router, assessments_web.router, plans_web.router, disclosure_web.router,
               incidents_web.router, release_page_web.router, detection_web.router,
               precedents_web.router]


def reconcile(rt: Runtime) -> dict[str, int]:
    """Time-based side effects, derived from stored dates; idempotent, so any process may run it.

    Each capability adds its step here. Mail goes last, so what the steps queued is sent in the same pass.
    """
    counts = {
        "stages_opened": plans.reconcile(rt),
        "review_reminders_queued": reviews.send_reminders(rt),
        "disclosure_effects": disclosure.reconcile(rt),
        "detection_uploads_purged": detection.purge_expired(rt),
        "evidence_checked": evidence_checks.check_pending(rt),
    }
    counts["mails_sent"] = outbox.deliver_pending(rt)
    return counts


async def _reconcile_forever(rt: Runtime) -> None:
    """Queue due reminders and retry mail that could not be sent at once."""
    while True:
        await asyncio.sleep(rt.settings.outbox_interval_seconds)
        try:
            await asyncio.to_thread(reconcile, rt)
        except Exception:  # noqa: BLE001 - keep the loop alive; the error is logged
            log.exception("Reconcile pass failed; will retry")


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The ASGI app. Pass ``runtime`` to reuse one built elsewhere (tests)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or build_runtime(settings or Settings())
        app.state.runtime = rt
        app.state.secret_key = rt.settings.effective_secret_key()
        task = asyncio.create_task(_reconcile_forever(rt))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if runtime is None:
                rt.db.dispose()

    app = FastAPI(
        title="releasewise",
        version=__version__,
        description="Responsible release of generative ML research. Authenticate with a personal API token.",
        lifespan=lifespan,
        docs_url="/api/v1/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    web_errors.install(app)
    app.add_middleware(SecurityHeadersMiddleware)
    for router in API_ROUTERS + WEB_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
