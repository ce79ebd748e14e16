"""What can go wrong in the gateway, as exceptions that carry their HTTP answer.

Every error reaches clients as `{"error": {"code", "message"}}` with `status`;
`api/errors.py` renders them.
"""

from __future__ import annotations

from lc_common.http import ServiceError


class GatewayError(ServiceError):
    """A `ServiceError` whose class names its status and code (the public API's codes)."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(status or type(self).status, code or type(self).code, message)


class NotAuthenticated(GatewayError):
    status = 401
    code = "not_authenticated"


class NotFound(GatewayError):
    status = 404
    code = "not_found"


class Forbidden(GatewayError):
    """The acting user may not do this (a member where an owner is needed)."""

    status = 403
    code = "forbidden"


class LinkUnusable(GatewayError):
    """An invitation or reset link that is unknown, expired or already used (410)."""

    status = 410
    code = "link_unusable"


class CsrfFailed(GatewayError):
    status = 403
    code = "csrf_failed"


class BodyTooLarge(GatewayError):
    """The upload is larger than `max_upload_bytes`."""

    status = 413
    code = "upload_too_large"

    def __init__(self, limit: int) -> None:
        mib = limit / (1024 * 1024)
        super().__init__(f"The upload is larger than the limit of {limit} bytes ({mib:.1f} MiB).")
        self.limit = limit


class TooManyAttempts(GatewayError):
    """Too many failed authentications from this address or for this login (429)."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed attempts; try again in {retry_after} seconds.")
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class FieldInvalid(GatewayError):
    """A text field of an upload form is too long or malformed (422)."""

    status = 422
    code = "invalid_field"


class IdempotencyKeyReused(GatewayError):
    """The Idempotency-Key was used before with a different request (422)."""

    status = 422
    code = "idempotency_key_reused"


class IdempotencyKeyInProgress(GatewayError):
    """A request with the same Idempotency-Key is still being processed (409)."""

    status = 409
    code = "idempotency_key_in_progress"


class UpstreamUnavailable(GatewayError):
    """A peer service did not answer (refused, timed out, dropped the connection)."""

    status = 503
    code = "service_unavailable"

    def __init__(self, upstream: str) -> None:
        super().__init__(
            f"The {upstream} service is unavailable right now; please try again in a minute."
        )
        self.upstream = upstream


class UpstreamFailed(GatewayError):
    """A peer service answered with an error of its own (5xx) or something unreadable."""

    status = 502
    code = "upstream_error"

    def __init__(self, upstream: str, detail: str) -> None:
        super().__init__(f"The {upstream} service failed to answer the request ({detail}).")
        self.upstream = upstream


class UpstreamRejected(GatewayError):
    """A peer service refused the request for a reason the client should see (4xx)."""
