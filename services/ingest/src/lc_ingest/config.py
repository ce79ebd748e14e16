"""Settings of the ingest service."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from lc_common.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    """Where uploads are spooled and how big they may be.

    Retention is the scheduler's clock: it asks ingest to delete an expired batch.
    """

    owner: ClassVar[str] = "ingest"

    http_port: int = 8001
    upload_dir: Path = Path(".local/uploads")
    max_upload_bytes: int = 512 * 1024 * 1024
    default_region: str = "AU"
    import_chunk_rows: int = 1000
    reconcile_interval_seconds: float = 30.0
    outbox_scan_seconds: float = 5.0
