"""Lines of the results download CSV (DESIGN.md section 5, "Download CSV").

Every original row and column in the original order, then the result columns of
`RESULT_COLUMNS`. Choices:

- The delimiter is the upload's own (a client whose spreadsheet exported `;` gets `;`
  back); lines end in CRLF (RFC 4180) and quoting is minimal with `"`.
- Formula neutralisation (OWASP "CSV Injection"): any cell, original or ours, starting
  with `=`, `+`, `-`, `@`, tab or CR (or their full-width forms) gets a leading `'`. This
  includes phone numbers such as `+61412345678` and our own `cleanse_e164`: a spreadsheet
  would read them as formulas too (and drop the `+`); the `'` keeps them text in Excel.
  Machine readers should strip one leading `'` from such cells.
- A header-less upload is downloaded with its synthesised header ("Column 1", ...), so
  the result columns are always labelled.
- Rows shorter than the header are padded with empty cells (`width`) so the result
  columns line up; longer rows keep all their cells.
- `cleanse_tested_at` is ISO 8601 UTC with a `Z`; a naive datetime is taken as UTC.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from .csv_reader import DELIMITERS
from .numbers import Accepted, NumberCheck

RESULT_COLUMNS: Final = (
    "cleanse_status",
    "cleanse_e164",
    "cleanse_detail",
    "cleanse_confidence",
    "cleanse_attempts",
    "cleanse_tested_at",
    "cleanse_reject_reason",
)
LINE_TERMINATOR: Final = "\r\n"
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


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
class LeadResult:
    """The result fields of one row. `confidence` is 0-100; `detail` is e.g. "SIP 404 Not
    Found" for a tested lead, or the reject code for a rejected one."""

    status: CleanseStatus
    e164: str | None = None
    detail: str | None = None
    confidence: int | None = None
    attempts: int = 0
    tested_at: datetime | None = None
    reject_reason: str | None = None

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
            return cls(status=CleanseStatus.PENDING, e164=check.e164)
        return cls(
            status=CleanseStatus.REJECTED,
            e164=e164,
            detail=check.code.value,
            reject_reason=check.reason,
        )


def neutralise(cell: str) -> str:
    """Prefix `'` to a cell a spreadsheet would evaluate as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


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
    return [
        result.status.value,
        result.e164 or "",
        result.detail or "",
        "" if result.confidence is None else str(result.confidence),
        str(result.attempts),
        _iso_utc(result.tested_at),
        result.reject_reason or "",
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
    writer.writerow([neutralise(cell) for cell in cells])
    return capture.text


__all__ = [
    "LINE_TERMINATOR",
    "RESULT_COLUMNS",
    "CleanseStatus",
    "LeadResult",
    "download_lines",
    "header_line",
    "neutralise",
    "row_line",
]
