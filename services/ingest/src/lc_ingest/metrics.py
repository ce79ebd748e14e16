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
IMPORT_STAGE_SECONDS = Histogram(
    "lc_ingest_import_stage_seconds",
    "Time one chunk of rows spent in an import stage (judge: read and check the rows; "
    "store: bulk insert and count; publish: send and await acknowledgements), without "
    "waiting for the next stage: the stage with the largest sum bounds the import.",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
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
