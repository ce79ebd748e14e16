"""Every Prometheus metric the notifier exposes."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EMAILS_SENT = Counter(
    "lc_notifier_emails_sent_total",
    "Emails handed to the SMTP relay, by kind (final, daily).",
    ["kind"],
)
SEND_FAILURES = Counter(
    "lc_notifier_send_failures_total",
    "Emails the SMTP relay refused or that could not be handed over, by kind.",
    ["kind"],
)
NOTIFICATIONS_SKIPPED = Counter(
    "lc_notifier_notifications_skipped_total",
    "Notifications not sent, by kind and reason (already_sent, done, busy, later, given_up, "
    "empty, unknown_account: final verdicts of an account the gateway does not know).",
    ["kind", "reason"],
)
PEER_FAILURES = Counter(
    "lc_notifier_peer_failures_total",
    "Calls to gateway or ingest that failed during a daily run, by peer.",
    ["peer"],
)
DAILY_RUN_SECONDS = Histogram(
    "lc_notifier_daily_run_duration_seconds",
    "Time one pass of the daily-summary loop took (due summaries and retries).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
WEBHOOK_EVENTS = Counter(
    "lc_notifier_webhook_events_total",
    "Webhook deliveries created, by event type (one per subscribed endpoint; a replayed "
    "event creates none).",
    ["type"],
)
WEBHOOK_DELIVERIES = Counter(
    "lc_notifier_webhook_deliveries_total",
    "Webhook attempts by outcome: delivered (2xx), retry (failed, tried again later), "
    "failed (given up after a day), dropped (the endpoint was deleted), lost (the lease "
    "ran out and another sender took over).",
    ["outcome"],
)
WEBHOOK_ATTEMPT_SECONDS = Histogram(
    "lc_notifier_webhook_attempt_duration_seconds",
    "Time one webhook attempt took, from resolving the host to the response's status.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)
