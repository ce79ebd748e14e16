"""What several ingest integration tests share: a batch stored as the upload route stores it."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from lc_ingest.domain.batch import received_batch
from lc_ingest.domain.csv_reader import Overrides
from lc_ingest.ports import IngestStore


async def create_importing_batch(
    store: IngestStore,
    csv: Path,
    now: datetime,
    *,
    batch_id: str | None = None,
    account_id: str = "acc_1",
    name: str = "n",
    reference: str = "r",
) -> str:
    """Store a batch of `account_id` about to import `csv` (phone column `phone`); its id."""
    batch_id = batch_id or f"bat_{uuid.uuid4().hex[:12]}"
    batch = received_batch(
        batch_id,
        account_id,
        filename=csv.name,
        name=name,
        reference=reference,
        phone_column="phone",
        default_region="AU",
        overrides=Overrides(),
        upload_path=str(csv),
        now=now,
    )
    await store.create_batch(batch)
    return batch_id
