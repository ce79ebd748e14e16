"""The envelope every event shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lc_common.events.types import Identifier


def _now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every event: an id for idempotency, a schema version and the time it happened.

    Unknown fields are ignored so a producer may add optional fields without a
    version bump; removing or changing a field is a new version (a new model).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: int = 1
    event_id: UUID = Field(default_factory=uuid4)
    occurred_at: datetime = Field(default_factory=_now)

    def to_bytes(self) -> bytes:
        """The JSON form on the wire."""
        return self.model_dump_json().encode()


class LeadEvent(Event):
    """An event about one lead: its account, its batch, and its id within the batch.

    A lead id is `<batch_id>:<row>`, so an event whose lead does not belong to
    its batch is refused here rather than in every handler.
    """

    account_id: Identifier
    batch_id: Identifier
    lead_id: Identifier

    @model_validator(mode="after")
    def _lead_in_batch(self) -> Self:
        if not self.lead_id.startswith(f"{self.batch_id}:"):
            raise ValueError("lead_id must be '<batch_id>:<row>'")
        return self
