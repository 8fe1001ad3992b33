"""The exception hierarchy every layer shares.

Services raise these; entry points translate them (the API into RFC 9457
problem bodies, the web UI into a flash message, the CLI into a red line and an
exit code). Each carries a message written for the person who caused it: what
went wrong and what to do about it.
"""

from __future__ import annotations


class ReleasewiseError(Exception):
    """Base class for errors a user can cause or fix."""

    status_code = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Set by services when the refusal itself must be audited after rollback
        # (a ``services.runtime.PendingAudit``).
        self.pending_audit: object | None = None


class InvalidInput(ReleasewiseError):
    """A value was empty, too long, malformed or otherwise unacceptable."""

    status_code = 422
    code = "invalid_input"
    title = "Invalid input"


class NotAuthenticated(ReleasewiseError):
    """No valid session or token was presented, or the credentials are wrong."""

    status_code = 401
    code = "not_authenticated"
    title = "Not authenticated"


class PermissionDenied(ReleasewiseError):
    """The actor can see the object but their role does not allow the action."""

    status_code = 403
    code = "permission_denied"
    title = "Permission denied"


class NotFound(ReleasewiseError):
    """The object does not exist, or the actor may not know that it exists.

    Objects of organisations the actor does not belong to are reported as not
    found, never as forbidden, so that their existence does not leak.
    """

    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(ReleasewiseError):
    """The change clashes with existing state (a duplicate name, a used invitation)."""

    status_code = 409
    code = "conflict"
    title = "Conflict"


class RateLimited(ReleasewiseError):
    """Too many attempts in a short time; the caller should wait."""

    status_code = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class CsrfFailed(ReleasewiseError):
    """A form arrived without the anti-forgery token of the session that served it."""

    status_code = 403
    code = "csrf_failed"
    title = "Form expired or forged"


class TooLarge(ReleasewiseError):
    """An upload is over the size limit; nothing was stored."""

    status_code = 413
    code = "too_large"
    title = "Content too large"


class UnsupportedMedia(ReleasewiseError):
    """An upload is not of a type this operation accepts (judged by its content, not its name)."""

    status_code = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"
