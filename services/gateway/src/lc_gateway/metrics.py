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
    "Control panel login attempts, by outcome (ok, refused).",
    ["outcome"],
)
