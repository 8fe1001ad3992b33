from __future__ import annotations

import logging

from releasewise.logsafe import RedactSecrets, redact, uvicorn_log_config


def test_invitation_links_and_tokens_are_redacted() -> None:
    line = '127.0.0.1 - "GET /invitations/Zk3v9Q_xx-TT8yUu1uO2lXQvWq4nX1 HTTP/1.1" 200'
    assert "Zk3v9Q" not in redact(line) and "/invitations/<redacted>" in redact(line)
    token = "rwt_abcdef123456_" + "S3cr3t-" * 6
    assert redact(f"bad header {token}") == "bad header rwt_abcdef123456_<redacted>"


def test_filter_rewrites_access_log_arguments() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "POST", "/api/v1/invitations/" + "a" * 43 + "/accept", "1.1", 200),
                               None)
    assert RedactSecrets().filter(record)
    assert "a" * 43 not in record.getMessage()


def test_serve_installs_the_filter_on_every_uvicorn_handler() -> None:
    config = uvicorn_log_config()
    assert config["handlers"] and all(h["filters"] == ["redact"] for h in config["handlers"].values())
