"""Every Prometheus metric of the scheduler, in one place."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUEUED = Gauge(
    "lc_scheduler_queued_leads",
    "Leads waiting to be dispatched (due or not), by trunk that can carry them.",
    ["trunk"],
)
DUE = Gauge(
    "lc_scheduler_due_leads",
    "Leads due now and not yet dispatched, by trunk that can carry them.",
    ["trunk"],
)
OUTSTANDING = Gauge(
    "lc_scheduler_outstanding_probes",
    "Probe requests dispatched and not yet answered by a verdict or retry, by trunk.",
    ["trunk"],
)
OUTSTANDING_BOUND = Gauge(
    "lc_scheduler_outstanding_bound",
    "The most probe requests that may be outstanding on a trunk.",
    ["trunk"],
)
DISPATCHED = Counter(
    "lc_scheduler_dispatched_total", "Probe requests published, by trunk.", ["trunk"]
)
RETRIES_SCHEDULED = Counter(
    "lc_scheduler_retries_scheduled_total",
    "Retries taken into the schedule, by reason (indeterminate, confirm, trunk_fault, verdict).",
    ["reason"],
)
WINDOW_DEFERRALS = Counter(
    "lc_scheduler_window_deferrals_total",
    "Due leads whose due time was moved to the next opening of their calling window.",
)
PROBE_LOOP_SECONDS = Histogram(
    "lc_scheduler_probe_loop_seconds",
    "From a probe's dispatch to its verdict here (what LC_DISPATCH_LOOP_SECONDS estimates, "
    "plus the wait in the trunk's topic).",
    buckets=(0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 20, 40, 60, 120),
)
PAUSE_VOIDED = Counter(
    "lc_scheduler_pause_voided_total",
    "Outstanding probes voided by their batch's pause (the prober drops them), leads queued again.",
)
TIMEOUT_REDISPATCHES = Counter(
    "lc_scheduler_timeout_redispatches_total",
    "Outstanding probes that got no answer in time and were dispatched again.",
)
REDRIVEN = Counter(
    "lc_scheduler_redriven_leads_total",
    "Leads taken back into the schedule by a re-drive, by kind (inserted, reopened; "
    "deferred: closed leads ingest holds open but has not read the verdicts of yet).",
    ["kind"],
)
PAUSED_BATCHES = Gauge("lc_scheduler_paused_batches", "Active batches that are paused now.")
ACTIVE_BATCHES = Gauge("lc_scheduler_active_batches", "Batches with leads not yet final.")
FINALISED = Counter("lc_scheduler_finalised_total", "Leads closed by a final verdict.")
LEADER = Gauge(
    "lc_scheduler_leader",
    "1 while this replica holds the scheduler lease and dispatches, 0 while it stands by.",
)
RETENTION_REQUESTS = Counter(
    "lc_scheduler_retention_requests_total",
    "Batches whose retention ran out that ingest was asked to delete, by outcome "
    "(deleted, not_expired, not_found).",
    ["outcome"],
)
RESERVATIONS = Counter(
    "lc_scheduler_reservations_total",
    "Leads for which a credit reservation was asked before dispatch, by outcome "
    "(reserved, refused, settled, unanswered).",
    ["outcome"],
)
BLOCKED_ACCOUNTS = Gauge(
    "lc_scheduler_blocked_accounts",
    "Accounts not dispatched because billing refused a reservation (until credit is restored).",
)
RELEASES = Counter(
    "lc_scheduler_reservation_releases_total",
    "Failed or deleted batches whose reservations billing was asked to release, by outcome "
    "(released, unanswered).",
    ["outcome"],
)
UNKNOWN_RETRIES = Counter(
    "lc_scheduler_unknown_lead_retries_total",
    "Retry requests for leads the scheduler holds no entry for (never accepted, or dropped "
    "with their batch): skipped, never dialled.",
)
FENCED_WRITES = Counter(
    "lc_scheduler_fenced_writes_total",
    "Writes refused because a newer leader's epoch holds the documents (this replica steps down).",
)
