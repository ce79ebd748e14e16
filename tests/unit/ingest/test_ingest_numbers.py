"""check_number: accepted forms, every reject code, and the reasons a client reads."""

from __future__ import annotations

import pytest

from lc_ingest.domain import Accepted, RejectCode, Rejected, check_number, duplicate_of


@pytest.mark.parametrize(
    ("raw", "e164", "number_type"),
    [
        ("0412 345 678", "+61412345678", "mobile"),
        ("0412-345-678", "+61412345678", "mobile"),
        ("0412.345.678", "+61412345678", "mobile"),
        ("+61412345678", "+61412345678", "mobile"),
        ("+61 (0)412 345 678", "+61412345678", "mobile"),
        ("0061412345678", "+61412345678", "mobile"),
        ("0061 412 345 678", "+61412345678", "mobile"),
        ("0011 61 412 345 678", "+61412345678", "mobile"),
        ("61412345678", "+61412345678", "mobile"),
        ("61 412 345 678", "+61412345678", "mobile"),
        ("412345678", "+61412345678", "mobile"),  # Excel dropped the leading 0
        ("'0412345678", "+61412345678", "mobile"),  # Excel's text prefix
        ("  0412 345 678  ", "+61412345678", "mobile"),
        ("0412\u00a0345\u00a0678", "+61412345678", "mobile"),
        ("(02) 9876 5432", "+61298765432", "fixed_line"),
        ("(02)98765432", "+61298765432", "fixed_line"),
        ("[03] 9876-5432", "+61398765432", "fixed_line"),
        ("+61 2 9876 5432", "+61298765432", "fixed_line"),
        ("1300 123 456", "+611300123456", "shared_cost"),
        ("1800 123 456", "+611800123456", "toll_free"),
        ("+44 20 7946 0958", "+442079460958", "fixed_line"),
        ("\uff10\uff14\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", "+61412345678", "mobile"),
    ],
)
def test_accepted_forms(raw: str, e164: str, number_type: str) -> None:
    result = check_number(raw)
    assert isinstance(result, Accepted), result
    assert result.accepted is True
    assert result.e164 == e164
    assert result.number_type == number_type


@pytest.mark.parametrize(
    ("raw", "region"),
    [("0412345678", "AU"), ("+442079460958", "GB"), ("+16502530000", "US"), ("+6421123456", "NZ")],
)
def test_region_is_the_numbers_own_country(raw: str, region: str) -> None:
    result = check_number(raw)
    assert isinstance(result, Accepted)
    assert result.region == region


def test_default_region_applies_to_national_numbers() -> None:
    result = check_number("020 7946 0958", default_region="gb")
    assert isinstance(result, Accepted)
    assert result.e164 == "+442079460958"
    assert isinstance(check_number("020 7946 0958"), Rejected)  # not an AU number


def test_unknown_default_region_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown default region"):
        check_number("0412345678", default_region="XX")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", RejectCode.NO_NUMBER),
        ("   ", RejectCode.NO_NUMBER),
        ("--", RejectCode.NO_NUMBER),
        ("0412 ABC 678", RejectCode.CONTAINS_LETTERS),
        ("1800FLOWERS", RejectCode.CONTAINS_LETTERS),  # phonenumbers would read it as digits
        ("0412345678 ext", RejectCode.CONTAINS_LETTERS),  # no extension digits
        ("04x2345678", RejectCode.CONTAINS_LETTERS),  # too few digits before the "x"
        ("0412 345 678 ext. 12a", RejectCode.CONTAINS_LETTERS),
        ("n/a", RejectCode.CONTAINS_LETTERS),
        ("6.14123E+11", RejectCode.INVALID_NUMBER),
        ("*123#", RejectCode.INVALID_NUMBER),
        ("0412,345", RejectCode.INVALID_NUMBER),
        ("12", RejectCode.TOO_SHORT),
        ("04123", RejectCode.TOO_SHORT),
        ("0412 345 67", RejectCode.TOO_SHORT),
        ("9876 5432", RejectCode.TOO_SHORT),  # landline without its area code
        ("0412 345 6789", RejectCode.TOO_LONG),
        ("+61 4123 4567 8901 2345", RejectCode.TOO_LONG),
        ("0512 345 678", RejectCode.INVALID_NUMBER),  # no such AU range
        ("+999 123 456", RejectCode.INVALID_COUNTRY_CODE),
        ("+0412345678", RejectCode.INVALID_COUNTRY_CODE),
        ("+870 773 111 111", RejectCode.INVALID_COUNTRY_CODE),  # satellite
        ("000", RejectCode.EMERGENCY_OR_SHORT_CODE),
        ("112", RejectCode.EMERGENCY_OR_SHORT_CODE),
        ("106", RejectCode.EMERGENCY_OR_SHORT_CODE),
        ("911", RejectCode.EMERGENCY_OR_SHORT_CODE),
        ("+44 999", RejectCode.EMERGENCY_OR_SHORT_CODE),
        ("13 12 34", RejectCode.EMERGENCY_OR_SHORT_CODE),
        ("1223", RejectCode.EMERGENCY_OR_SHORT_CODE),
        ("1900 123 456", RejectCode.PREMIUM_RATE),
        ("1902 123 456", RejectCode.PREMIUM_RATE),
        ("+61 1900 123 456", RejectCode.PREMIUM_RATE),
    ],
)
def test_rejections(raw: str, code: RejectCode) -> None:
    result = check_number(raw)
    assert isinstance(result, Rejected), result
    assert result.accepted is False
    assert result.code is code
    assert result.reason.endswith(".")
    assert result.reason[0].isupper() or result.reason[0].isdigit() or result.reason[0] == "+"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "empty"),
        ("04x2345678", "letters"),
        ("000", "emergency"),
        ("131234", "short code"),
        ("1900123456", "premium-rate"),
        ("0412 345 6789", "too many digits"),
        ("0412 345 67", "too few digits"),
        ("0512345678", "not in a range"),
        ("6.14123E+11", "scientific notation"),
    ],
)
def test_reasons_tell_the_client_what_is_wrong(raw: str, words: str) -> None:
    result = check_number(raw)
    assert isinstance(result, Rejected)
    assert words in result.reason


def test_duplicate_rejection_names_the_first_row() -> None:
    result = duplicate_of(12)
    assert result.code is RejectCode.DUPLICATE
    assert "row 12" in result.reason


def test_reject_codes_are_the_contract_strings() -> None:
    assert {code.value for code in RejectCode} == {
        "no_number",
        "contains_letters",
        "too_short",
        "too_long",
        "invalid_number",
        "emergency_or_short_code",
        "premium_rate",
        "duplicate",
        "invalid_country_code",
    }


@pytest.mark.parametrize(
    "raw",
    [
        "04\u200b12 345 670",  # zero-width space
        "04\u200d12\u200c345670",  # zero-width joiner and non-joiner
        "\u200f0412 345 670",  # right-to-left mark
        "\u202b0412 345 670\u202c",  # right-to-left embedding ... pop
        "\u20660412 345 670\u2069",  # isolate
        "\ufeff0412345670",  # a BOM pasted in the cell
        "0412\u2009345\u2009670",  # thin spaces
        "0412\u202f345\u3000670",  # narrow no-break and ideographic spaces
        "\u00a00412\u00a0345\u00a0670\u00a0",
    ],
)
def test_invisible_format_characters_and_unicode_spaces_are_removed(raw: str) -> None:
    result = check_number(raw)
    assert isinstance(result, Accepted), result
    assert (result.e164, result.extension) == ("+61412345670", None)


@pytest.mark.parametrize(
    ("raw", "extension"),
    [
        ("0412 345 673 ext. 12", "12"),
        ("0412 345 673 ext 12", "12"),
        ("0412 345 673 Ext.12", "12"),
        ("0412 345 673 extension 12", "12"),
        ("0412 345 673 x12", "12"),
        ("0412345673X 12", "12"),
        ("+61412345673;ext=12", "12"),
        ("0412 345 673 #12", "12"),
        ("0412 345 673, ext 12", "12"),
        ("0412\u200b345 673 ext.\u00a012", "12"),
    ],
)
def test_an_extension_is_split_off_and_kept(raw: str, extension: str) -> None:
    result = check_number(raw)
    assert isinstance(result, Accepted), result
    assert (result.e164, result.extension) == ("+61412345673", extension)


def test_a_number_without_extension_has_none() -> None:
    result = check_number("0412 345 673")
    assert isinstance(result, Accepted) and result.extension is None


def test_an_extension_does_not_rescue_a_bad_number() -> None:
    result = check_number("0412 345 ext. 12")
    assert isinstance(result, Rejected) and result.code is RejectCode.TOO_SHORT


def test_no_emergency_number_anywhere_is_longer_than_the_fast_path_assumes() -> None:
    from phonenumbers import shortnumberinfo
    from phonenumbers.phonemetadata import PhoneMetadata

    from lc_ingest.domain.numbers import MAX_EMERGENCY_DIGITS, UNIVERSAL_EMERGENCY

    longest = max(len(n) for n in UNIVERSAL_EMERGENCY)
    for region in shortnumberinfo.SUPPORTED_SHORT_REGIONS:
        emergency = PhoneMetadata.short_metadata_for_region(region).emergency
        if emergency is not None:
            assert emergency.possible_length, region
            longest = max(longest, *emergency.possible_length)
    assert longest <= MAX_EMERGENCY_DIGITS


@pytest.mark.parametrize("raw", [" 0412 345 678\t", "\t+61 412 345 678 ", "0412\v345678"])
def test_plain_ascii_cells_read_as_the_unicode_path_reads_them(raw: str) -> None:
    from lc_ingest.domain.numbers import visible

    # The same cell with one non-ASCII character appended (then stripped) takes the full path.
    assert visible(raw) == visible(raw + "\u200b").rstrip()
