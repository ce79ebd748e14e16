"""Contract across the internal API: every batch ingest answers is a batch the gateway
documents and serves (its `Batch` response model), with the same status vocabulary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

import pytest

from lc_common.events import BatchStatus
from lc_gateway.api.batches import with_client
from lc_gateway.api.schemas import Batch
from lc_gateway.domain.accounts import Account
from lc_ingest.views import BatchView

_ACCOUNT = Account(
    id="acc_0123456789abcdef01234567",
    name="Acme Calls",
    email="ops@acme.example",
    time_zone="Australia/Sydney",
    created_at=datetime(2026, 1, 5, tzinfo=UTC),
)
_COUNTERS = {
    "imported": 16,
    "accepted": 14,
    "rejected": 2,
    "connected": 6,
    "disconnected": 3,
    "indeterminate": 1,
    "retry": 1,
    "processed": 10,
    "remaining": 4,
}


def _ingest_answer(status: str) -> dict[str, Any]:
    """The JSON ingest's `GET /internal/v1/batches/{id}` sends for a batch in `status`."""
    view = BatchView(
        id="bat_0123456789abcdef",
        account_id="acc_0123456789abcdef01234567",
        name="November leads",
        reference="nov-01",
        filename="leads.csv",
        status=status,  # type: ignore[arg-type]
        paused=status == "paused",
        failure_reason="The file is not a CSV" if status == "failed" else None,
        submitted_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        finished_at=datetime(2026, 11, 30, 9, 20, tzinfo=UTC) if status == "finished" else None,
        phone_column="phone",
        default_region="AU",
        **_COUNTERS,
    )
    return view.model_dump(mode="json")


@pytest.mark.parametrize("status", get_args(BatchStatus))
def test_every_batch_ingest_answers_is_a_batch_the_gateway_serves(status: str) -> None:
    answer = _ingest_answer(status)
    served = Batch.model_validate(with_client(answer, _ACCOUNT)).model_dump(mode="json")
    assert served == {**answer, "client": "Acme Calls"}


def test_the_gateway_documents_every_field_ingest_sends() -> None:
    assert set(BatchView.model_fields) <= set(Batch.model_fields)
