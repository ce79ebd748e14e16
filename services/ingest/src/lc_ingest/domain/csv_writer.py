"""The results CSV a client downloads, line by line (DESIGN.md section 5, "Download CSV").

Every original row and column in the original order, then the result columns of
`RESULT_COLUMNS`. Choices:

- The delimiter is the upload's own (a client whose spreadsheet exported `;` gets `;`
  back); lines end in CRLF (RFC 4180) and quoting is minimal with `"`. The bytes are
  UTF-8 with a BOM (`BOM`), so Excel shows accents (the caller prepends it).
- Formula guard (`formula.neutralise`): only a cell a spreadsheet would evaluate gets a
  leading `'`; numbers, E.164 ones included, are never altered.
- `cleanse_detail` of a number written with an extension ends in `ext. <digits>` (the
  contract has no column for it; the call dials the number without it).
- `cleanse_line_type` is phonenumbers' type of the number (`mobile`, `fixed_line`,
  `voip`, `toll_free`, ...), decided at import; `cleanse_evidence` lists each attempt as
  `<time> <trunk> <SIP codes joined by />[ q850=<cause>][ sit=<kind>]`, joined by `; `.
- A header-less upload is downloaded with its synthesised header ("Column 1", ...), so
  the result columns are always labelled.
- Rows shorter than the header are padded with empty cells (`width`) so the result
  columns line up; longer rows keep all their cells.
- `cleanse_tested_at` is ISO 8601 UTC with a `Z`; a naive datetime is taken as UTC.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from .csv_reader import DELIMITERS
from .formula import neutralise
from .lead import Lead
from .numbers import Accepted, NumberCheck

RESULT_COLUMNS: Final = (
    "cleanse_status",
    "cleanse_e164",
    "cleanse_detail",
    "cleanse_confidence",
    "cleanse_attempts",
    "cleanse_tested_at",
    "cleanse_reject_reason",
    "cleanse_line_type",
    "cleanse_evidence",
)
LINE_TERMINATOR: Final = "\r\n"
BOM: Final = "\ufeff"


class CleanseStatus(StrEnum):
    """`cleanse_status` values: `pending` (not dialled yet), `testing` (a call is under way),
    `retry` (waiting for its next attempt) or final."""

    REJECTED = "rejected"
    PENDING = "pending"
    TESTING = "testing"
    RETRY = "retry"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True, slots=True)
class AttemptEvidence:
    """What one attempt met: when, on which trunk, the SIP codes in order, the Q.850
    cause and the special information tone's kind (when there were any)."""

    tested_at: datetime | None
    trunk: str
    codes: tuple[int, ...] = ()
    q850_cause: int | None = None
    sit_kind: str | None = None

    def compact(self) -> str:
        """`2026-03-02T10:00:01Z alpha 100/180/487 q850=16 sit=vacant_code`."""
        parts = [_iso_utc(self.tested_at) or "?", self.trunk or "?"]
        parts.append("/".join(str(code) for code in self.codes) or "-")
        if self.q850_cause is not None:
            parts.append(f"q850={self.q850_cause}")
        if self.sit_kind:
            parts.append(f"sit={self.sit_kind}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class LeadResult:
    """The result fields of one row. `confidence` is 0-100; `detail` is e.g. "SIP 404 Not
    Found" for a tested lead, or the reject code for a rejected one; `extension` the
    digits of an extension written after the number; `line_type` phonenumbers' type;
    `evidence` one `AttemptEvidence` per attempt, in attempt order."""

    status: CleanseStatus
    e164: str | None = None
    detail: str | None = None
    confidence: int | None = None
    attempts: int = 0
    tested_at: datetime | None = None
    reject_reason: str | None = None
    extension: str | None = None
    line_type: str | None = None
    evidence: tuple[AttemptEvidence, ...] = ()

    def __post_init__(self) -> None:
        if self.confidence is not None and not 0 <= self.confidence <= 100:
            raise ValueError(f"confidence must be 0-100, got {self.confidence}")
        if self.attempts < 0:
            raise ValueError(f"attempts must be >= 0, got {self.attempts}")

    @classmethod
    def from_check(cls, check: NumberCheck, e164: str | None = None) -> LeadResult:
        """The import-time result: `pending` if accepted, else `rejected` with its reason.

        `e164` fills `cleanse_e164` for a rejection that knows the number (a duplicate).
        """
        if isinstance(check, Accepted):
            return cls(
                status=CleanseStatus.PENDING,
                e164=check.e164,
                extension=check.extension,
                line_type=check.number_type,
            )
        return cls(
            status=CleanseStatus.REJECTED,
            e164=e164,
            detail=check.code.value,
            reject_reason=check.reason,
        )


def result_of(lead: Lead) -> LeadResult:
    """The result columns of one lead: a rejected one shows its reject code and reason,
    any other its verdict so far."""
    if lead.state == "rejected":
        return LeadResult(
            status=CleanseStatus.REJECTED,
            e164=lead.e164,
            detail=lead.reject_code,
            reject_reason=lead.reject_reason,
            line_type=lead.line_type,
        )
    evidence = sorted(lead.evidence, key=lambda e: int(e.get("attempt", 0)))
    return LeadResult(
        status=CleanseStatus(lead.state),
        e164=lead.e164,
        detail=lead.detail,
        confidence=lead.confidence,
        attempts=lead.attempts,
        tested_at=lead.tested_at,
        extension=lead.extension,
        line_type=lead.line_type,
        evidence=tuple(_attempt_evidence(entry) for entry in evidence),
    )


def _attempt_evidence(entry: Mapping[str, Any]) -> AttemptEvidence:
    tested_at = entry.get("tested_at")
    if isinstance(tested_at, str):
        tested_at = datetime.fromisoformat(tested_at.replace("Z", "+00:00"))
    return AttemptEvidence(
        tested_at=tested_at,
        trunk=str(entry.get("trunk") or ""),
        codes=tuple(int(code) for code in entry.get("codes") or ()),
        q850_cause=entry.get("q850_cause"),
        sit_kind=entry.get("sit_kind"),
    )


def header_line(header: Sequence[str], delimiter: str = ",") -> str:
    """The download's first line: the original header cells, then `RESULT_COLUMNS`."""
    return _line([*header, *RESULT_COLUMNS], delimiter)


def row_line(
    cells: Sequence[str], result: LeadResult, delimiter: str = ",", width: int | None = None
) -> str:
    """One data line: the original `cells` (padded to `width` if given), then the results."""
    padding = [""] * (width - len(cells)) if width is not None and width > len(cells) else []
    return _line([*cells, *padding, *_result_cells(result)], delimiter)


def download_lines(
    header: Sequence[str],
    rows: Iterable[tuple[Sequence[str], LeadResult]],
    delimiter: str = ",",
) -> Iterator[str]:
    """The whole download, line by line, for streaming: header, then each row."""
    yield header_line(header, delimiter)
    width = len(header)
    for cells, result in rows:
        yield row_line(cells, result, delimiter, width)


def _result_cells(result: LeadResult) -> list[str]:
    extension = f"ext. {result.extension}" if result.extension else ""
    return [
        result.status.value,
        result.e164 or "",
        "; ".join(part for part in (result.detail, extension) if part),
        "" if result.confidence is None else str(result.confidence),
        str(result.attempts),
        _iso_utc(result.tested_at),
        result.reject_reason or "",
        result.line_type or "",
        "; ".join(attempt.compact() for attempt in result.evidence),
    ]


def _iso_utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Capture:
    """File-like target for csv.writer that keeps what one writerow produced."""

    __slots__ = ("text",)

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


def _line(cells: Sequence[str], delimiter: str) -> str:
    if delimiter not in DELIMITERS:
        raise ValueError(f"unsupported delimiter {delimiter!r}")
    capture = _Capture()
    writer = csv.writer(
        capture,
        delimiter=delimiter,
        quotechar='"',
        quoting=csv.QUOTE_MINIMAL,
        lineterminator=LINE_TERMINATOR,
    )
    writer.writerow([neutralise(cell, delimiter) for cell in cells])
    return capture.text


__all__ = [
    "BOM",
    "LINE_TERMINATOR",
    "RESULT_COLUMNS",
    "AttemptEvidence",
    "CleanseStatus",
    "LeadResult",
    "download_lines",
    "header_line",
    "neutralise",
    "result_of",
    "row_line",
]
