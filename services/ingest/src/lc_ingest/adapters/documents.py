"""Batches and leads to and from their MongoDB documents: the one place that knows the
documents' shape.

Times that are updated or compared are stored as `lc_common.store.to_store_time`
text; `submitted_at` is inserted as a datetime (the batch list sorts by it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lc_common.store import from_store_time, to_store_time
from lc_ingest.domain.batch import COUNTERS, Batch, Counters
from lc_ingest.domain.csv_reader import Overrides
from lc_ingest.domain.lead import Lead, LeadSummary

Doc = dict[str, Any]

# Lead fields a verdict writes (`Lead` attribute = document field).
_VERDICT_FIELDS = (
    "state",
    "attempts",
    "detail",
    "confidence",
    "tested_at",
    "next_attempt_at",
    "evidence",
    "last_probe_id",
)
_FINAL_FIELDS = ("processed_on", "finalised_at", "chargeable")
_LEAD_OPTIONAL = (
    "e164",
    "region",
    "line_type",
    "extension",
    "reject_code",
    "reject_reason",
    *_VERDICT_FIELDS[2:],
    *_FINAL_FIELDS,
)
_LEAD_TIMES = ("tested_at", "next_attempt_at", "finalised_at")


def stored(value: object) -> object:
    """A domain value as a document holds it."""
    if isinstance(value, datetime):
        return to_store_time(value)
    if isinstance(value, Overrides):
        return {
            "encoding": value.encoding,
            "delimiter": value.delimiter,
            "has_header": value.has_header,
        }
    if isinstance(value, tuple):
        return [stored(item) for item in value]
    if isinstance(value, Mapping):
        return dict(value)
    return value


def batch_fields(fields: Mapping[str, object]) -> Doc:
    """Batch fields (named as `Batch`'s attributes) as document fields."""
    return {name: stored(value) for name, value in fields.items()}


def batch_from_doc(doc: Mapping[str, Any]) -> Batch:
    """The batch of a stored document (documents older than `import_done` count as
    imported unless they are still importing)."""
    chosen = doc.get("format_overrides") or {}
    return Batch(
        id=doc["_id"],
        account_id=doc["account_id"],
        name=doc["name"],
        status=doc["status"],
        reference=doc.get("reference", ""),
        import_done=bool(doc.get("import_done", doc["status"] != "importing")),
        counters=Counters(**{name: int(doc.get(name, 0)) for name in COUNTERS}),
        filename=doc.get("filename", ""),
        submitted_at=from_store_time(doc.get("submitted_at")),
        finished_at=from_store_time(doc.get("finished_at")),
        retention_from=from_store_time(doc.get("retention_from")),
        failure_reason=doc.get("failure_reason"),
        phone_column_choice=doc.get("phone_column_choice", ""),
        phone_column=doc.get("phone_column", ""),
        default_region=doc.get("default_region", ""),
        format_overrides=Overrides(
            encoding=chosen.get("encoding"),
            delimiter=chosen.get("delimiter"),
            has_header=chosen.get("has_header"),
        ),
        upload_path=doc.get("upload_path", ""),
        header=tuple(doc.get("header") or ()),
        delimiter=doc.get("delimiter", ","),
    )


def new_batch_doc(batch: Batch) -> Doc:
    """The document of a batch just received (before its import read the file)."""
    return {
        "_id": batch.id,
        "account_id": batch.account_id,
        "name": batch.name,
        "reference": batch.reference,
        "filename": batch.filename,
        "phone_column_choice": batch.phone_column_choice,
        "phone_column": batch.phone_column,
        "default_region": batch.default_region,
        "format_overrides": stored(batch.format_overrides),
        "status": batch.status,
        "import_done": batch.import_done,
        "submitted_at": batch.submitted_at,
        "upload_path": batch.upload_path,
        **batch.counters.as_dict(),
    }


def lead_from_doc(doc: Mapping[str, Any]) -> Lead:
    """The lead of a stored document."""
    times = {name: from_store_time(doc.get(name)) for name in _LEAD_TIMES}
    return Lead(
        id=doc["_id"],
        batch_id=doc["batch_id"],
        account_id=doc["account_id"],
        row=int(doc.get("row", 0)),
        cells=tuple(doc.get("cells") or ()),
        state=doc["state"],
        attempts=int(doc.get("attempts", 0)),
        e164=doc.get("e164"),
        region=doc.get("region"),
        line_type=doc.get("line_type"),
        extension=doc.get("extension"),
        reject_code=doc.get("reject_code"),
        reject_reason=doc.get("reject_reason"),
        detail=doc.get("detail"),
        confidence=doc.get("confidence"),
        evidence=tuple(doc.get("evidence") or ()),
        last_probe_id=doc.get("last_probe_id"),
        processed_on=doc.get("processed_on"),
        chargeable=doc.get("chargeable"),
        **times,
    )


def lead_doc(lead: Lead) -> Doc:
    """The document of a lead (fields without a value are left out)."""
    doc: Doc = {
        "_id": lead.id,
        "batch_id": lead.batch_id,
        "account_id": lead.account_id,
        "row": lead.row,
        "cells": list(lead.cells),
        "attempts": lead.attempts,
        "state": lead.state,
    }
    for name in _LEAD_OPTIONAL:
        value = getattr(lead, name)
        if value is not None and value != ():
            doc[name] = stored(value)
    return doc


def verdict_fields(after: Lead) -> Doc:
    """The fields a verdict writes on a lead (and, on a final one, when and whether it is
    chargeable); `next_attempt_at` is cleared when the verdict has none."""
    names = (*_VERDICT_FIELDS, *(_FINAL_FIELDS if after.final else ()))
    return {name: stored(getattr(after, name)) for name in names}


# Fields of a lead summary: who, state, attempts, number, chargeable.
SUMMARY_FIELDS = ("batch_id", "account_id", "state", "attempts", "e164", "chargeable")


def summary_from_doc(doc: Mapping[str, Any]) -> LeadSummary:
    """The summary of a stored lead (read with `SUMMARY_FIELDS`)."""
    return LeadSummary(
        id=doc["_id"],
        batch_id=doc["batch_id"],
        account_id=doc["account_id"],
        state=doc["state"],
        attempts=int(doc.get("attempts", 0)),
        e164=doc.get("e164"),
        chargeable=doc.get("chargeable"),
    )
