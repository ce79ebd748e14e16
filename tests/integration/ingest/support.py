"""What several ingest integration tests share: a batch stored as the upload route stores it."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from lc_ingest.adapters.store import IngestStore
from lc_ingest.batches_service import new_batch_counters


async def create_importing_batch(store: IngestStore, csv: Path, now: datetime) -> str:
    """Store a batch of account `acc_1` about to import `csv` (phone column `phone`); its id."""
    batch_id = f"bat_{uuid.uuid4().hex[:12]}"
    await store.create_batch(
        {
            "_id": batch_id,
            "account_id": "acc_1",
            "name": "n",
            "reference": "r",
            "filename": csv.name,
            "phone_column_choice": "phone",
            "phone_column": "phone",
            "default_region": "AU",
            "status": "importing",
            "import_done": False,
            "submitted_at": now,
            "upload_path": str(csv),
            **new_batch_counters(),
        }
    )
    return batch_id
