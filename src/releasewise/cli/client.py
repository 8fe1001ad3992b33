"""A small httpx client for the REST API; problems become ``ApiError``."""

from __future__ import annotations

from typing import Any

import httpx

from releasewise import __version__


class ApiError(Exception):
    retry_after: str | None = None

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{title}: {detail}")
        self.status, self.title, self.detail = status, title, detail


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 30.0) -> None:
        headers = {"User-Agent": f"releasewise-cli/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                 transport=transport)

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The raw response of a successful call (for file bodies); errors raise :class:`ApiError`."""
        try:
            response = self.http.request(method, "/api/v1" + path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, "Cannot reach the server",
                           f"{exc}. Check the URL (releasewise login --url …) and that the server runs.") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                error = ApiError(response.status_code, body.get("title", "Error"), body.get("detail", response.text))
            except ValueError:
                error = ApiError(response.status_code, "Error", response.text[:500])
            error.retry_after = response.headers.get("retry-after")
            raise error
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, json: Any = None) -> Any:
        return self.request("POST", path, json=json)

    def patch(self, path: str, json: Any) -> Any:
        return self.request("PATCH", path, json=json)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)
