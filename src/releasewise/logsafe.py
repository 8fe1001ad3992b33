"""Keep secrets out of logs.

Invitation links carry their secret in the URL path, and a mistyped
``Authorization`` value could end up in a URL; the access log must show
neither. ``RedactSecrets`` is installed on uvicorn's loggers by ``serve``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_PATTERNS = [
    (re.compile(r"(/invitations/)[A-Za-z0-9_-]{16,}"), r"\1<redacted>"),
    (re.compile(r"\b(rwt_[0-9a-f]{8,32}_)[A-Za-z0-9_-]{16,}"), r"\1<redacted>"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and string arguments with secrets replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging config with the redacting filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG, "filters": {"redact": {"()": RedactSecrets}}}
    config["handlers"] = {
        name: {**handler, "filters": ["redact"]} for name, handler in LOGGING_CONFIG["handlers"].items()
    }
    return config
