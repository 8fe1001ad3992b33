"""The webhook port: POST a signed JSON body to a URL and report what happened.

``HttpWebhookSender`` is the real one (httpx, short timeout, no redirects);
the delivery loop in ``services/disclosure.py`` signs, retries and logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True)
class WebhookResult:
    status_code: int | None  # None: no HTTP answer at all (refused, timed out)
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResult: ...


class HttpWebhookSender:
    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResult:
        try:
            response = httpx.post(url, content=body, headers={"Content-Type": "application/json", **headers},
                                  timeout=self.timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            return WebhookResult(None, f"{type(exc).__name__}: {exc}"[:500])
        error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        return WebhookResult(response.status_code, error)
