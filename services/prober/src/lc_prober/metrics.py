"""Every Prometheus metric of the prober, labelled by trunk (and lane for the limits)."""

from prometheus_client import Counter, Gauge, Histogram

CALLS_IN_FLIGHT = Gauge("lc_probe_calls_in_flight", "Test calls in progress.", ["trunk"])
CALLS_STARTED = Counter(
    "lc_probe_calls_started_total", "Test calls started (INVITE sent); rate() is CPS.", ["trunk"]
)
CALLS = Counter(
    "lc_probe_calls_total", "Test calls finished, by how they ended.", ["trunk", "ended_by"]
)
RESPONSES = Counter(
    "lc_probe_sip_responses_total", "SIP responses received, by code.", ["trunk", "code"]
)
PROBE_SECONDS = Histogram(
    "lc_probe_duration_seconds",
    "Duration of one test call, INVITE to end.",
    ["trunk"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60),
)
CHANNEL_LIMIT = Gauge(
    "lc_probe_channel_limit",
    "Channels of each lane this replica serves; sum by trunk over replicas is the trunk's.",
    ["trunk", "lane"],
)
CPS_LIMIT = Gauge(
    "lc_probe_cps_limit",
    "Calls per second of each lane this replica serves; sums like the channel limit.",
    ["trunk", "lane"],
)
TRUNK_HEALTHY = Gauge(
    "lc_probe_trunk_healthy", "1 while the trunk answers normally, 0 while backing off.", ["trunk"]
)
TRUNK_FAULTS = Counter(
    "lc_probe_trunk_faults_total",
    "Calls that counted against the trunk (auth, no response, transport, 503).",
    ["trunk", "fault"],
)
TRUNK_BACKOFFS = Counter(
    "lc_probe_trunk_backoffs_total", "Times the trunk started backing off.", ["trunk"]
)
REQUESTS_EXPIRED = Counter(
    "lc_probe_requests_expired_total",
    "Probe requests dropped undialled because their expires_at had passed.",
    ["trunk"],
)
REQUESTS_NOT_DIALLED = Counter(
    "lc_probe_requests_not_dialled_total",
    "Probe requests dropped undialled for another reason (already_started, stopping).",
    ["trunk", "reason"],
)
PUBLISH_RETRIES = Counter(
    "lc_probe_publish_retries_total",
    "Failed publications of a call's signalling that were tried again (the call never is).",
    ["trunk"],
)
CALLS_HUNG_UP = Counter(
    "lc_probe_calls_hung_up_total",
    "Calls in flight told to end (CANCEL or BYE) because the prober was stopping.",
    ["trunk"],
)
