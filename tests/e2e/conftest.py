from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from releasewise.services.runtime import Runtime
from tests.conftest import unavailable
from tests.support.live import LiveServer, serving

CHROMIUM = os.environ.get("RELEASEWISE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def live_server(sqlite_rt: Runtime) -> Iterator[LiveServer]:
    with serving(sqlite_rt) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        unavailable(f"Chromium not found at {CHROMIUM}; apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed; pip install -e '.[test]'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
