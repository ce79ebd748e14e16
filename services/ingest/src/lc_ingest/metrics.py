"""Every Prometheus metric of the ingest service."""

from prometheus_client import Counter, Histogram

LEADS_IMPORTED = Counter(
    "lc_ingest_leads_imported_total", "Rows imported, by outcome (accepted, rejected).", ["outcome"]
)
IMPORT_SECONDS = Histogram(
    "lc_ingest_import_seconds",
    "Time to import one batch file.",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
UPLOAD_BYTES = Histogram(
    "lc_ingest_upload_bytes",
    "Size of uploaded files.",
    buckets=(1e3, 1e4, 1e5, 1e6, 1e7, 5e7, 1e8, 5e8),
)
BATCH_TRANSITIONS = Counter(
    "lc_ingest_batch_transitions_total", "Batch status changes, by event kind.", ["kind"]
)
VERDICTS_PROJECTED = Counter(
    "lc_ingest_verdicts_projected_total",
    "Verdicts applied to leads, by outcome (applied, duplicate, stale, purged).",
    ["outcome"],
)
DOWNLOADS = Counter("lc_ingest_downloads_total", "CSV downloads started, by scope.", ["scope"])
