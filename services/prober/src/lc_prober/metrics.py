"""Every Prometheus metric of the prober, labelled by trunk."""

from prometheus_client import Counter, Gauge, Histogram

CALLS_IN_FLIGHT = Gauge("lc_probe_calls_in_flight", "Test calls in progress.", ["trunk"])
CALLS = Counter(
    "lc_probe_calls_total", "Test calls placed, by how they ended.", ["trunk", "ended_by"]
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
CHANNEL_LIMIT = Gauge("lc_probe_channel_limit", "Channels this prober may use.", ["trunk"])
CPS_LIMIT = Gauge("lc_probe_cps_limit", "Calls per second this prober may start.", ["trunk"])
TRUNK_HEALTHY = Gauge(
    "lc_probe_trunk_healthy", "1 while the trunk answers normally, 0 while backing off.", ["trunk"]
)
