"""Every Prometheus metric the gateway exposes, declared in one place."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "lc_gateway_requests_total",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "lc_gateway_request_seconds",
    "Time from the first byte of a request to the last byte of its response.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
UPSTREAM_ERRORS = Counter(
    "lc_gateway_upstream_errors_total",
    "Calls to ingest or billing that failed: unavailable (no answer) or bad_status (5xx).",
    ["upstream", "kind"],
)
LOGINS = Counter(
    "lc_gateway_logins_total",
    "Control panel login attempts, by outcome (ok, refused, throttled).",
    ["outcome"],
)
THROTTLED = Counter(
    "lc_gateway_throttled_total",
    "Authentication attempts refused with 429, by kind (api_key, login, password_reset).",
    ["kind"],
)
LOCKOUT_NOTICES = Counter(
    "lc_gateway_lockout_notices_total",
    "Lockout notice mails to an account's owner, by outcome (sent, failed).",
    ["outcome"],
)
IDEMPOTENT_REPLAYS = Counter(
    "lc_gateway_idempotent_replays_total",
    "POST requests answered from a stored Idempotency-Key response, by route.",
    ["route"],
)
SESSIONS_ENDED = Counter(
    "lc_gateway_sessions_ended_total",
    "Panel sessions ended, by reason (logout, password_changed, user_removed).",
    ["reason"],
)
INVITATIONS = Counter(
    "lc_gateway_invitations_total",
    "Invitations of users, by event (sent: issued and handed to the mailer, accepted, "
    "refused: an expired, used or unknown link was opened or submitted).",
    ["event"],
)
PASSWORD_RESETS = Counter(
    "lc_gateway_password_resets_total",
    "Forgotten-password resets, by event (requested: a form was submitted, whatever the "
    "address; mailed: the address was a user's; completed; refused: a bad link).",
    ["event"],
)
MAILS = Counter(
    "lc_gateway_mails_total",
    "Mails the gateway sent in the background, by kind (invitation, password_reset) "
    "and outcome (sent, failed).",
    ["kind", "outcome"],
)
