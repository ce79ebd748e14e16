"""Events about batches and credit."""

from __future__ import annotations

from typing import Literal

from lc_common.events.base import Event
from lc_common.events.types import Identifier, Reason, ShortText

BatchStatus = Literal[
    "importing",
    "queued",
    "running",
    "paused",
    "paused_no_credit",
    "finished",
    "failed",
    "deleted",
]
"""A batch's status, as ingest keeps it and every API shows it (DESIGN.md section 1)."""

BatchEventKind = Literal[
    "queued",
    "paused",
    "resumed",
    "finished",
    "failed",
    "deleted",
    "credit_paused",
    "credit_resumed",
]


class BatchEventV1(Event):
    """Something happened to a batch (topic `batch.events`)."""

    schema_version: Literal[1] = 1
    account_id: Identifier
    batch_id: Identifier
    kind: BatchEventKind
    name: ShortText = ""
    reference: ShortText = ""
    reason: Reason | None = None


class CreditEventV1(Event):
    """An account's credit ran out or came back (topic `billing.events`)."""

    schema_version: Literal[1] = 1
    account_id: Identifier
    kind: Literal["exhausted", "restored"]
    balance: int
