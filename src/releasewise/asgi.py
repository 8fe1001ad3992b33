"""ASGI entry point for process managers: ``uvicorn releasewise.asgi:app``.

Settings come from the environment, so every worker builds the same app. Each server process keeps
some free heap at hand so that streaming uploads does not fault in fresh pages (``releasewise.memory``).
"""

from releasewise.app import create_app
from releasewise.memory import keep_heap_slack

keep_heap_slack()
app = create_app()
