"""Request bodies, and the documented shapes of answers passed through from peers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BatchPatch(BaseModel):
    """`PATCH /batches/{id}`: pause or unpause."""

    model_config = ConfigDict(extra="forbid")
    paused: bool


class Batch(BaseModel):
    """A batch with every counter of DESIGN.md section 1 (documentation of the answer)."""

    model_config = ConfigDict(extra="allow")
    id: str
    client: str = Field(description="The account's name.")
    account_id: str
    name: str
    reference: str
    filename: str | None = None
    status: str = Field(
        description="importing, queued, running, paused, paused_no_credit, finished, "
        "failed or deleted"
    )
    paused: bool
    failure_reason: str | None = None
    submitted_at: str | None = None
    finished_at: str | None = None
    imported: int
    accepted: int
    rejected: int
    connected: int
    disconnected: int
    indeterminate: int
    retry: int
    processed: int
    remaining: int
    phone_column: str | int | None = None
    default_region: str | None = None


class BatchList(BaseModel):
    batches: list[Batch]


class RejectReason(BaseModel):
    reason: str
    count: int
    examples: list[str] = Field(description="Up to 3 of the rejected cells")


class Cost(BaseModel):
    units: int = Field(description="Cleansing Units the accepted rows would use")
    balance: int = Field(description="Units available now (credit not held for leads in flight)")
    short_by: int = Field(description="Units to buy before every accepted row can be tested")


class DryRun(BaseModel):
    model_config = ConfigDict(extra="allow")
    rows: int
    accepted: int
    rejected: int
    duplicates: int
    rejected_by_reason: list[RejectReason]
    cost: Cost | None = None


class Preview(BaseModel):
    model_config = ConfigDict(extra="allow")
    encoding: str
    delimiter: str
    has_header: bool
    header: list[str]
    rows: list[list[str]]
    suggested_phone_column: Any
    dry_run: DryRun | None = Field(
        None, description="With `phone_column`: what the import would do, over the whole file"
    )


class Balance(BaseModel):
    model_config = ConfigDict(extra="allow")
    account_id: str
    balance: int
    unit: str = "CU"


class Transaction(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    kind: str = Field(description="purchase, deduction or grant")
    units: int
    batch_id: str | None = None
    description: str | None = None
    created_at: str
    status: str | None = None


class TransactionList(BaseModel):
    transactions: list[Transaction]
    next_cursor: str | None = Field(None, description="The next page's cursor; null on the last")


class PurchaseRequest(BaseModel):
    """`POST /billing/purchases`: how many Cleansing Units to buy."""

    model_config = ConfigDict(extra="forbid")
    units: int = Field(gt=0, le=10_000_000)
    return_url: str | None = Field(
        None,
        description="Where the payment page sends the browser back; "
        "defaults to the control panel's billing return page.",
        pattern=r"^https?://",
        max_length=2000,
    )


class Purchase(BaseModel):
    model_config = ConfigDict(extra="allow")
    purchase_id: str
    status: str
    checkout_url: str


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No valid API key or session"},
    404: {"model": ErrorBody, "description": "No such object in this account"},
    422: {"model": ErrorBody, "description": "The request is not valid"},
    502: {"model": ErrorBody, "description": "A peer service failed"},
    503: {"model": ErrorBody, "description": "A peer service is unavailable"},
}


def multipart_body(fields: dict[str, str]) -> dict[str, Any]:
    """OpenAPI `requestBody` for a multipart upload the gateway streams without parsing."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}}
    for name, description in fields.items():
        properties[name] = {"type": "string", "description": description}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": properties}
                }
            },
        }
    }
