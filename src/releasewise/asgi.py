"""ASGI entry point for process managers: ``uvicorn releasewise.asgi:app``.

Settings come from the environment, so every worker builds the same app.
"""

from releasewise.app import create_app

app = create_app()
