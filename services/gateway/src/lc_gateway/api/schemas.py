"""Request bodies, and the documented shapes of answers passed through from peers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lc_common.events import BatchStatus

# Examples for the OpenAPI document: one consistent batch (the counters add up as in
# DESIGN.md section 1) and the sample file of the README.
BATCH_EXAMPLE: dict[str, Any] = {
    "id": "bat_3f9c2a7d1e004b6a",
    "client": "Harbour Contact Centre",
    "account_id": "acc_5d0c8e7f91a24b3c6e8f0a1b",
    "name": "Sydney renewals",
    "reference": "PO-2041",
    "filename": "sydney-renewals.csv",
    "status": "running",
    "paused": False,
    "failure_reason": None,
    "submitted_at": "2026-11-30T09:12:44.512000Z",
    "finished_at": None,
    "imported": 16,
    "accepted": 10,
    "rejected": 6,
    "connected": 4,
    "disconnected": 2,
    "indeterminate": 0,
    "retry": 1,
    "processed": 6,
    "remaining": 4,
    "phone_column": "phone",
    "default_region": "AU",
}
DRY_RUN_EXAMPLE: dict[str, Any] = {
    "rows": 16,
    "accepted": 10,
    "rejected": 6,
    "duplicates": 1,
    "rejected_by_reason": [
        {"reason": "duplicate", "count": 1, "examples": ["0412 345 670"]},
        {"reason": "contains_letters", "count": 1, "examples": ["0412 34A 678"]},
        {"reason": "too_short", "count": 1, "examples": ["12345"]},
    ],
    "cost": {"units": 10, "balance": 1000, "short_by": 0},
}
PREVIEW_EXAMPLE: dict[str, Any] = {
    "encoding": "utf-8",
    "delimiter": ",",
    "has_header": True,
    "header": ["first_name", "last_name", "phone", "suburb", "notes"],
    "rows": [
        ["Olivia", "Nguyen", "0412 345 670", "Parramatta", "ring"],
        ["Jack", "Smith", "(04) 1234 5671", "Newtown", "ring"],
    ],
    "suggested_phone_column": "phone",
    "suggested_phone_column_index": 2,
    "dry_run": DRY_RUN_EXAMPLE,
}
# The first lines of a download: the original columns, then the cleanse_* columns.
CSV_EXAMPLE = (
    "\ufefffirst_name,last_name,phone,suburb,notes,cleanse_status,cleanse_e164,cleanse_detail,"
    "cleanse_confidence,cleanse_attempts,cleanse_tested_at,cleanse_reject_reason,"
    "cleanse_line_type,cleanse_evidence\r\n"
    "Olivia,Nguyen,0412 345 670,Parramatta,ring,connected,+61412345670,SIP 180 Ringing,95,1,"
    "2026-11-30T09:13:02Z,,mobile,2026-11-30T09:13:02Z sim 100/180\r\n"
)


class BatchPatch(BaseModel):
    """`PATCH /batches/{id}`: pause or unpause."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"paused": True}, {"paused": False}]}
    )
    paused: bool


class Batch(BaseModel):
    """A batch with every counter of DESIGN.md section 1 (documentation of the answer)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [BATCH_EXAMPLE]})
    id: str
    client: str = Field(description="The account's name.")
    account_id: str
    name: str
    reference: str
    filename: str | None = None
    status: BatchStatus = Field(description="The batch's status (DESIGN.md section 1)")
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
    model_config = ConfigDict(json_schema_extra={"examples": [{"batches": [BATCH_EXAMPLE]}]})
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
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [DRY_RUN_EXAMPLE]})
    rows: int
    accepted: int
    rejected: int
    duplicates: int
    rejected_by_reason: list[RejectReason]
    cost: Cost | None = None


class Preview(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [PREVIEW_EXAMPLE]})
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


def error_example(code: str, message: str) -> dict[str, Any]:
    """An OpenAPI `content` entry showing one error body."""
    return {"application/json": {"example": {"error": {"code": code, "message": message}}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorBody,
        "description": "No valid API key or session",
        "content": error_example("not_authenticated", "Use 'Authorization: Bearer <api key>'."),
    },
    404: {
        "model": ErrorBody,
        "description": "No such object in this account",
        "content": error_example("batch_not_found", "No batch bat_3f9c2a7d1e004b6a."),
    },
    422: {
        "model": ErrorBody,
        "description": "The request is not valid",
        "content": error_example("validation_error", "body.paused: Field required"),
    },
    502: {
        "model": ErrorBody,
        "description": "A peer service failed",
        "content": error_example(
            "upstream_error", "The ingest service failed to answer the request (HTTP 500)."
        ),
    },
    503: {
        "model": ErrorBody,
        "description": "A peer service is unavailable",
        "content": error_example(
            "service_unavailable",
            "The ingest service is unavailable right now; please try again in a minute.",
        ),
    },
}


def multipart_body(fields: dict[str, str], example: dict[str, str] | None = None) -> dict[str, Any]:
    """OpenAPI `requestBody` for a multipart upload the gateway streams without parsing;
    `example` shows the text fields of one request (the file part is the CSV itself)."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}}
    for name, description in fields.items():
        properties[name] = {"type": "string", "description": description}
    media: dict[str, Any] = {
        "schema": {"type": "object", "required": ["file"], "properties": properties}
    }
    if example is not None:
        media["example"] = {"file": "sample-leads.csv (the CSV's bytes)", **example}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": media}}}
