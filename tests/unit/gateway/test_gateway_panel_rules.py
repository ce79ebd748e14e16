"""The panel's pure rules: compact counts, short ids, search and pages, the login's `next`,
reject reasons from a download, the dry run's cost, the import form's fields."""

from __future__ import annotations

import pytest

from lc_gateway.domain.cost import cost
from lc_gateway.edge.upload_form import check_fields
from lc_gateway.errors import FieldInvalid
from lc_gateway.panel.common import safe_next
from lc_gateway.panel.listing import compact, matches, page_of, short_id
from lc_gateway.panel.rejects import summarise


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1_000, "1k"),
        (1_234, "1.2k"),
        (12_345, "12k"),
        (999_499, "999k"),
        (999_999, "1M"),
        (12_345_678, "12M"),
        (None, "—"),
    ],
)
def test_counts_fit_in_four_characters(value: int | None, shown: str) -> None:
    assert compact(value) == shown


def test_ids_are_shortened_with_their_prefix() -> None:
    assert short_id("bat_1a2b3c4d5e6f7a8b") == "bat_1a2b3c…"
    assert short_id("bat_1a2b3c4") == "bat_1a2b3c4"


def test_search_looks_in_name_reference_and_id_and_pages_clamp() -> None:
    batches = [{"id": f"bat_{i:04d}", "name": f"June {i}", "reference": "R-7"} for i in range(60)]
    assert matches(batches[3], "JUNE 3") and matches(batches[3], "r-7")
    assert matches(batches[3], "bat_0003") and not matches(batches[3], "july")
    page = page_of(batches, "", 3, size=25)
    assert (len(page.items), page.number, page.pages, page.previous, page.next) == (
        10,
        3,
        3,
        2,
        None,
    )
    assert page_of(batches, "", 99, size=25).number == 3
    assert page_of(batches, "", 0, size=25).number == 1
    assert page_of(batches, "nothing", 1).pages == 1


@pytest.mark.parametrize(
    "value",
    [None, "", "batches", "//evil.example", "/\\evil.example", "/\t/evil.example", "/a\nb"],
)
def test_next_refuses_anything_but_a_local_path(value: str | None) -> None:
    assert safe_next(value) == "/batches"


def test_next_keeps_a_local_path_and_its_query() -> None:
    link = "/batches/bat_1/download?processed_on=2026-03-02"
    assert safe_next(link) == link


def test_reject_reasons_are_counted_from_a_download_in_any_dialect() -> None:
    lines = [
        "\ufeffname|phone|cleanse_reject_reason\n",
        "A|0412|\n",
        "B|12|too short\n",
        "C|34|too short\n",
        "D|56|too short\n",
        "E|78|too short\n",
        "F|x|letters\n",
    ]
    summary = summarise(lines, "phone")
    assert summary.reasons == [("too short", 4, ["12", "34", "56"]), ("letters", 1, ["x"])]
    assert summarise(lines, 1).reasons[1] == ("letters", 1, ["x"])
    assert summarise(["a,b\n", "1,2\n"], "a").reasons == []


def test_the_cost_is_a_unit_per_accepted_row_against_what_is_available() -> None:
    assert cost(5, 10) == {"units": 5, "balance": 10, "short_by": 0}
    assert cost(12, 10) == {"units": 12, "balance": 10, "short_by": 2}


@pytest.mark.parametrize(
    "fields",
    [
        {"delimiter": "x"},
        {"delimiter": "\\t"},
        {"has_header": "yes"},
        {"encoding": "utf 8; rm"},
        {"default_region": "A1"},
    ],
)
def test_import_fields_ingest_would_refuse_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(FieldInvalid):
        check_fields(fields)


def test_import_fields_of_contract_c1_pass() -> None:
    for delimiter in (",", ";", "\t", "|"):
        check_fields({"delimiter": delimiter, "has_header": "false", "encoding": "cp1252"})
