"""Limits before work, quotes left open, format overrides, the dry run and form fields."""

from __future__ import annotations

import io
import time

import pytest

from lc_common.http import ServiceError
from lc_ingest.domain import Overrides, UnreadableFile, open_csv, preview
from lc_ingest.domain.csv_reader import MAX_COLUMNS, MAX_LINE_CHARS
from lc_ingest.upload import form_fields


def rows(data: bytes, overrides: Overrides | None = None) -> list[list[str]]:
    return [cells for _, cells in open_csv(io.BytesIO(data), overrides).rows()]


def unreadable(data: bytes) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as caught:
        rows(data)
    return caught.value


def test_a_row_wider_than_the_column_cap_fails_with_its_line() -> None:
    wide = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)).encode()
    error = unreadable(b"name,phone\nJo,0412345670\n" + wide + b"\n")
    assert error.line == 3 and f"more than {MAX_COLUMNS} columns" in error.reason


def test_a_wide_header_fails_before_any_detection() -> None:
    header = ",".join(f"c{i}" for i in range(95_000)).encode()
    started = time.monotonic()
    error = unreadable(header + b"\n" + b"0412345670" + b"," * 94_999 + b"\n")
    assert time.monotonic() - started < 2
    assert error.line == 1


def test_a_first_line_over_the_length_cap_fails_before_any_detection() -> None:
    error = unreadable(b"x" * (MAX_LINE_CHARS * 2) + b"\n0412345670\n")
    assert error.line == 1 and "longer than 64 KiB" in error.reason


def test_a_quote_left_open_at_the_end_fails_with_the_line_it_opened_on() -> None:
    error = unreadable(b'phone,note\n0412345670,ok\n0412345671,"unterminated\n0412345672,ok\n')
    assert error.line == 3 and "never closes" in error.reason


def test_the_issue_example_without_header_is_refused_not_merged() -> None:
    error = unreadable(b'0412345670,"unterminated\n0412345671,ok\n')
    assert error.line == 1


def test_a_quoted_field_that_swallowed_whole_rows_fails() -> None:
    data = b'name,phone,note\nJo,0412345670,"starts\nAl,0412345671,x\nends"\n'
    error = unreadable(data)
    assert error.line == 2 and "look like rows" in error.reason


def test_a_genuine_multi_line_address_is_one_row() -> None:
    data = b'name,address,phone\nJo,"12 Main St\nSydney NSW",0412345670\nAl,x,0412345671\n'
    assert rows(data) == [["Jo", "12 Main St\nSydney NSW", "0412345670"], ["Al", "x", "0412345671"]]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_gives_the_same_rows(newline: bytes) -> None:
    data = newline.join([b"name,phone", b"Jo,0412345670", b"Al,0412345671", b""])
    assert rows(data) == [["Jo", "0412345670"], ["Al", "0412345671"]]


def test_mixed_line_endings_give_one_row_per_line() -> None:
    assert len(rows(b"name,phone\r\nJo,0412345670\nAl,0412345671\rBo,0412345672\r\n")) == 3


def test_overrides_replace_detection() -> None:
    data = "phone;name\n0412345670;Zoé\n".encode("cp1252")
    document = open_csv(
        io.BytesIO(data), Overrides(encoding="latin-1", delimiter=",", has_header=False)
    )
    assert (document.encoding, document.delimiter, document.has_header) == (
        "iso8859-1",
        ",",
        False,
    )
    assert [c for _, c in document.rows()] == [["phone;name"], ["0412345670;Zoé"]]


def test_an_unknown_encoding_override_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match="not a text encoding"):
        open_csv(io.BytesIO(b"phone\n0412345670\n"), Overrides(encoding="rot13"))
    with pytest.raises(UnreadableFile, match="not a text encoding"):
        open_csv(io.BytesIO(b"phone\n0412345670\n"), Overrides(encoding="nope-42"))


def test_an_encoding_override_does_not_open_a_zip() -> None:
    with pytest.raises(UnreadableFile, match="ZIP"):
        open_csv(io.BytesIO(b"PK\x03\x04" + bytes(100)), Overrides(encoding="utf-8"))


def test_dry_run_counts_the_whole_file() -> None:
    lines = ["name,phone"] + [f"p{i},04{12345000 + i}" for i in range(200)]
    lines += ["dup,0412345000", "dup2,+61412345001", "bad,hello", "empty,", "short,0412"]
    found = preview(io.BytesIO("\n".join(lines).encode()), 3, phone_column="phone")
    assert found.suggested_phone_column == 1 and len(found.rows) == 3
    run = found.dry_run
    assert run is not None
    assert (run.rows, run.accepted, run.rejected, run.duplicates) == (205, 200, 5, 2)
    by = {r.reason: (r.count, r.examples) for r in run.rejected_by_reason}
    assert by["duplicate"] == (2, ["0412345000", "+61412345001"])
    assert by["contains_letters"] == (1, ["hello"])
    assert by["no_number"] == (1, [""])
    assert by["too_short"] == (1, ["0412"])


def test_dry_run_keeps_three_examples_per_reason() -> None:
    data = "phone\n" + "\n".join(f"n/a {i}" for i in range(10))
    run = preview(io.BytesIO(data.encode()), phone_column="0").dry_run
    assert run is not None
    [reason] = run.rejected_by_reason
    assert (reason.count, reason.examples) == (10, ["n/a 0", "n/a 1", "n/a 2"])


def test_dry_run_with_a_column_not_in_the_file_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match="not in the file"):
        preview(io.BytesIO(b"phone\n0412345670\n"), phone_column="mobile")


def test_form_fields_are_checked() -> None:
    fields = form_fields(
        {"name": " A ", "default_region": "nz", "delimiter": "\t", "has_header": "false"}
    )
    assert (fields.name, fields.default_region) == ("A", "NZ")
    assert fields.overrides == Overrides(encoding=None, delimiter="\t", has_header=False)
    assert form_fields({"delimiter": "tab"}).overrides.delimiter == "\t"
    assert form_fields({}).overrides == Overrides()


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"name": "x" * 201}, "field_too_long"),
        ({"reference": "x" * 201}, "field_too_long"),
        ({"phone_column": "x" * 201}, "field_too_long"),
        ({"encoding": "x" * 41}, "field_too_long"),
        ({"default_region": "A1"}, "bad_region"),
        ({"default_region": "ÅÄ"}, "bad_region"),
        ({"delimiter": ":"}, "bad_delimiter"),
        ({"has_header": "yes"}, "bad_has_header"),
    ],
)
def test_bad_form_fields_are_refused(values: dict[str, str], code: str) -> None:
    with pytest.raises(ServiceError) as caught:
        form_fields(values)
    assert caught.value.status == 422 and caught.value.code == code
