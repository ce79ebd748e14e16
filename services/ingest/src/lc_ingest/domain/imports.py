"""Import accounting: rows become leads, and the counters an import moves.

Pure: the importer reads the file, asks these functions, stores what they answer.
A resumed import recounts Imported, Accepted and Rejected from the rows stored and
adds only the rows it stores anew, so the counters only ever grow (invariants I5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from lc_common.events import LeadAcceptedV1

from .dedupe import DuplicateDetector
from .lead import Lead, lead_id
from .numbers import Accepted, NumberCheck, check_number, duplicate_of

Row = tuple[int, list[str]]


@dataclass(frozen=True)
class Judged:
    """One chunk of rows judged: a lead per row, and the accepted leads' events."""

    leads: list[Lead]
    accepted: list[LeadAcceptedV1]


def judge_chunk(
    batch_id: str,
    account_id: str,
    default_region: str,
    chunk: Sequence[Row],
    column: int,
    dedupe: DuplicateDetector,
) -> Judged:
    """Each row's lead: `pending` with its number if the cell in `column` is a number not
    seen before in the batch, else `rejected` with a reason (a duplicate keeps its number)."""
    leads: list[Lead] = []
    accepted: list[LeadAcceptedV1] = []
    for row, cells in chunk:
        raw = cells[column] if column < len(cells) else ""
        base = Lead(lead_id(batch_id, row), batch_id, account_id, row, tuple(cells), "pending")
        check: NumberCheck = check_number(raw, default_region)
        duplicate: tuple[str, str | None] | None = None
        if isinstance(check, Accepted):
            first_row = dedupe.first_seen(check.e164, row)
            if first_row is not None:
                duplicate = (check.e164, check.number_type)
                check = duplicate_of(first_row)
        if isinstance(check, Accepted):
            lead = _accepted_lead(base, check)
            accepted.append(
                LeadAcceptedV1(
                    account_id=account_id,
                    batch_id=batch_id,
                    lead_id=lead.id,
                    e164=check.e164,
                    region=check.region,
                )
            )
        else:
            e164, line_type = duplicate or (None, None)
            lead = _rejected_lead(base, check.code.value, check.reason, e164, line_type)
        leads.append(lead)
    return Judged(leads, accepted)


def _accepted_lead(base: Lead, check: Accepted) -> Lead:
    return replace(
        base,
        e164=check.e164,
        region=check.region,
        line_type=check.number_type,
        extension=check.extension or None,
    )


def _rejected_lead(
    base: Lead, code: str, reason: str, e164: str | None, line_type: str | None
) -> Lead:
    return replace(
        base,
        state="rejected",
        e164=e164,
        line_type=line_type,
        reject_code=code,
        reject_reason=reason,
    )


def chunk_deltas(leads: Sequence[Lead]) -> dict[str, int]:
    """The `$inc` a chunk of newly stored leads makes on its batch."""
    accepted = sum(1 for lead in leads if lead.state == "pending")
    return {"imported": len(leads), "accepted": accepted, "rejected": len(leads) - accepted}


def import_counters(states: Mapping[str, int]) -> dict[str, int]:
    """Imported, Accepted and Rejected from the states of the rows actually stored."""
    imported = sum(states.values())
    rejected = states.get("rejected", 0)
    return {"imported": imported, "accepted": imported - rejected, "rejected": rejected}


def not_yet_stored(
    judged: Judged, held: Mapping[str, str]
) -> tuple[list[Lead], list[LeadAcceptedV1]]:
    """Of a chunk judged again by a resumed import, given the states `held` of its leads
    already stored: the leads to store, and the accepted to publish (new ones, and stored
    ones still pending: their publish may have been lost)."""
    fresh = [lead for lead in judged.leads if lead.id not in held]
    republish = [e for e in judged.accepted if held.get(e.lead_id, "pending") == "pending"]
    return fresh, republish
