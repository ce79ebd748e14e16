"""Download CSV lines: original cells, result columns, formula neutralisation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from lc_ingest.domain import (
    RESULT_COLUMNS,
    Accepted,
    CleanseStatus,
    LeadResult,
    RejectCode,
    Rejected,
    check_number,
    download_lines,
    header_line,
    neutralise,
    row_line,
)
from lc_ingest.domain.csv_writer import AttemptEvidence


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("0412 345 678", "0412 345 678"),
        ("José", "José"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(cell: str, expected: str) -> None:
    assert neutralise(cell) == expected


def test_header_line_appends_result_columns_with_the_upload_delimiter() -> None:
    assert header_line(["name", "phone"], ";") == (
        "name;phone;cleanse_status;cleanse_e164;cleanse_detail;cleanse_confidence;"
        "cleanse_attempts;cleanse_tested_at;cleanse_reject_reason;cleanse_line_type;"
        "cleanse_evidence\r\n"
    )
    assert RESULT_COLUMNS[0] == "cleanse_status"
    assert len(RESULT_COLUMNS) == 9


def test_tested_row_with_all_fields() -> None:
    result = LeadResult(
        status=CleanseStatus.DISCONNECTED,
        e164="+61412345678",
        detail="SIP 404 Not Found",
        confidence=95,
        attempts=2,
        tested_at=datetime(2025, 3, 4, 15, 6, 7, tzinfo=timezone(timedelta(hours=11))),
    )
    line = row_line(["Jo", "0412 345 678"], result)
    assert line == (
        "Jo,0412 345 678,disconnected,+61412345678,SIP 404 Not Found,95,2,"
        "2025-03-04T04:06:07Z,,,\r\n"
    )


def test_line_type_extension_and_evidence_columns() -> None:
    first = AttemptEvidence(
        tested_at=datetime(2026, 3, 2, 10, 0, 1, tzinfo=UTC), trunk="alpha", codes=(100, 180, 487)
    )
    second = AttemptEvidence(
        tested_at=datetime(2026, 3, 3, 9, 30, tzinfo=UTC),
        trunk="beta",
        codes=(100, 183, 404),
        q850_cause=1,
        sit_kind="vacant_code",
    )
    result = LeadResult(
        status=CleanseStatus.DISCONNECTED,
        e164="+61412345673",
        detail="SIP 404 Not Found",
        attempts=2,
        extension="12",
        line_type="mobile",
        evidence=(first, second),
    )
    cells = row_line(["0412 345 673 ext. 12"], result).rstrip("\r\n").split(",")
    assert cells[1:3] == ["disconnected", "+61412345673"]
    assert cells[3] == "SIP 404 Not Found; ext. 12"
    assert cells[8] == "mobile"
    assert cells[9] == (
        "2026-03-02T10:00:01Z alpha 100/180/487; "
        "2026-03-03T09:30:00Z beta 100/183/404 q850=1 sit=vacant_code"
    )


def test_pending_result_of_a_check_keeps_line_type_and_extension() -> None:
    check = check_number("0412 345 673 x7")
    assert isinstance(check, Accepted)
    cells = row_line(["x"], LeadResult.from_check(check)).rstrip("\r\n").split(",")
    assert cells[1:4] == ["pending", "+61412345673", "ext. 7"]
    assert cells[8] == "mobile"


def test_naive_tested_at_is_taken_as_utc() -> None:
    result = LeadResult(status=CleanseStatus.CONNECTED, tested_at=datetime(2025, 1, 2, 3, 4, 5))
    assert "2025-01-02T03:04:05Z" in row_line(["x"], result)


def test_rejected_row_from_a_check() -> None:
    check = check_number("1900 123 456")
    assert isinstance(check, Rejected)
    line = row_line(["Jo", "1900 123 456"], LeadResult.from_check(check), "\t")
    cells = line.rstrip("\r\n").split("\t")
    assert cells[:4] == ["Jo", "1900 123 456", "rejected", ""]
    assert cells[4] == RejectCode.PREMIUM_RATE.value
    assert cells[-3] == check.reason


def test_accepted_check_is_pending_with_its_e164() -> None:
    result = LeadResult.from_check(check_number("0412345678"))
    assert result.status is CleanseStatus.PENDING
    assert result.e164 == "+61412345678"
    assert result.tested_at is None


def test_status_values_are_the_contract_strings() -> None:
    assert {s.value for s in CleanseStatus} == {
        "rejected", "pending", "testing", "retry", "connected", "disconnected", "indeterminate",
    }  # fmt: skip


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_round_trip_keeps_original_cells_and_order(delimiter: str) -> None:
    header = ["name", "note", "phone"]
    rows = [
        (["Smith, Jo", 'says "hi"\nthen leaves', "=1+1"], LeadResult(CleanseStatus.PENDING)),
        (["Al", "", "0412345679"], LeadResult(CleanseStatus.RETRY, attempts=1)),
        (["Short"], LeadResult(CleanseStatus.INDETERMINATE, attempts=3)),
    ]
    text = "".join(download_lines(header, rows, delimiter))
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert parsed[0] == [*header, *RESULT_COLUMNS]
    assert parsed[1][:3] == ["Smith, Jo", 'says "hi"\nthen leaves', "'=1+1"]
    assert parsed[2][:4] == ["Al", "", "0412345679", "retry"]
    assert parsed[3][:4] == ["Short", "", "", "indeterminate"]  # padded to the header
    assert all(len(row) == len(header) + len(RESULT_COLUMNS) for row in parsed)


def test_unsupported_delimiter_is_refused() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        header_line(["a"], ":")


@pytest.mark.parametrize(("confidence", "attempts"), [(101, 0), (-1, 0), (50, -1)])
def test_out_of_range_result_fields_are_refused(confidence: int, attempts: int) -> None:
    with pytest.raises(ValueError):
        LeadResult(CleanseStatus.CONNECTED, confidence=confidence, attempts=attempts)
