"""open_csv / preview / suggest_phone_column on small files built in the test."""

from __future__ import annotations

import codecs
import io
import tempfile

import pytest

from lc_ingest.domain import UnreadableFile, open_csv, preview, suggest_phone_column
from lc_ingest.domain.csv_reader import MAX_LINE_CHARS, MAX_LINES_PER_ROW, detect_header

NAMES_AND_PHONES = "name,phone\nJosé Müller,0412 345 678\nRenée,0298765432\n"


def _rows(data: bytes) -> list[tuple[int, list[str]]]:
    return list(open_csv(io.BytesIO(data)).rows())


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (NAMES_AND_PHONES.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + NAMES_AND_PHONES.encode("utf-8"), "utf-8-sig"),
        (NAMES_AND_PHONES.encode("utf-16"), "utf-16"),  # with BOM, native order
        (codecs.BOM_UTF16_BE + NAMES_AND_PHONES.encode("utf-16-be"), "utf-16"),
        (NAMES_AND_PHONES.encode("utf-16-le"), "utf-16-le"),  # no BOM
        (NAMES_AND_PHONES.encode("utf-16-be"), "utf-16-be"),  # no BOM
        (NAMES_AND_PHONES.encode("latin-1"), "cp1252"),
        (NAMES_AND_PHONES.encode("cp1252"), "cp1252"),
    ],
)
def test_encodings_are_detected_and_bom_stripped(data: bytes, encoding: str) -> None:
    document = open_csv(io.BytesIO(data))
    assert document.encoding == encoding
    assert document.header == ["name", "phone"]  # no BOM glued to "name"
    assert list(document.rows()) == [
        (1, ["José Müller", "0412 345 678"]),
        (2, ["Renée", "0298765432"]),
    ]


def test_cp1252_smart_quotes_and_undefined_bytes_do_not_fail() -> None:
    data = "name;phone\n“Zoë” Garçon;0412345678\n".encode("cp1252") + b"Odd\x81;0412345679\n"
    document = open_csv(io.BytesIO(data))
    assert document.encoding == "cp1252"
    assert list(document.rows()) == [
        (1, ["“Zoë” Garçon", "0412345678"]),
        (2, ["Odd\x81", "0412345679"]),
    ]


def test_a_clearly_non_latin_legacy_encoding_is_trusted() -> None:
    text = "имя,телефон\nИван Петров,0412345678\nМария Иванова,0298765432\n"  # noqa: RUF001
    document = open_csv(io.BytesIO(text.encode("cp1251")))
    assert document.encoding == "cp1251"
    assert document.header == ["имя", "телефон"]
    assert next(document.rows()) == (1, ["Иван Петров", "0412345678"])


def test_latin1_byte_far_beyond_the_sample_is_not_read_as_utf8() -> None:
    filler = "".join(f"Person {i},04{i:08d}\n" for i in range(5000)).encode()
    data = b"name,phone\n" + filler + "Renée,0412345678\n".encode("latin-1")
    assert len(data) > 64 * 1024
    document = open_csv(io.BytesIO(data))
    assert document.encoding == "cp1252"
    assert list(document.rows())[-1] == (5001, ["Renée", "0412345678"])


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("name,phone\nJo,0412345678\nAl,0412345679\n", ","),
        ("name;phone\nJo;0412345678\nAl;0412345679\n", ";"),
        ("name\tphone\nJo\t0412345678\nAl\t0412345679\n", "\t"),
        ("name|phone\nJo|0412345678\nAl|0412345679\n", "|"),
        ("name;phone;note\nJo;0412345678;a, b\nAl;0412345679;c, d\n", ";"),
    ],
)
def test_delimiters(text: str, delimiter: str) -> None:
    document = open_csv(io.BytesIO(text.encode()))
    assert document.delimiter == delimiter
    assert document.header == ["name", "phone", *(["note"] if "note" in text else [])]
    assert [cells[1] for _, cells in document.rows()] == ["0412345678", "0412345679"]


def test_quoted_fields_with_embedded_newlines_and_delimiters() -> None:
    data = b'name,address,phone\n"Smith, Jo","1 High St\r\nSydney",0412345678\nAl,"",0412345679\n'
    assert _rows(data) == [
        (1, ["Smith, Jo", "1 High St\r\nSydney", "0412345678"]),
        (2, ["Al", "", "0412345679"]),
    ]


def test_apostrophes_are_not_quotes() -> None:
    data = b"name,phone\nO'Brien,'0412345678\nD'Arcy,0412345679\n"
    assert _rows(data) == [(1, ["O'Brien", "'0412345678"]), (2, ["D'Arcy", "0412345679"])]


def test_blank_lines_are_skipped_and_not_numbered() -> None:
    data = b"\r\nname,phone\r\n\r\nJo,0412345678\r\n,\r\n  ,  \r\n\r\nAl,0412345679\r\n\r\n"
    document = open_csv(io.BytesIO(data))
    assert document.has_header
    assert list(document.rows()) == [(1, ["Jo", "0412345678"]), (2, ["Al", "0412345679"])]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline: str) -> None:
    data = newline.join(["name,phone", "Jo,0412345678", "Al,0412345679", ""]).encode()
    assert [n for n, _ in _rows(data)] == [1, 2]


@pytest.mark.parametrize(
    ("text", "has_header"),
    [
        ("name,phone\nJo,0412345678\n", True),
        ("Jo,0412345678\nAl,0412345679\n", False),
        ("first,last,email\nJo,Smith,jo@x.com\nAl,Brown,al@x.com\n", True),
        ("Client,Contact\nAcme,+61 2 9876 5432\nZed,(02) 9876 5433\n", True),
        ("0412345678\n0412345679\n", False),
    ],
)
def test_header_detection(text: str, has_header: bool) -> None:
    document = open_csv(io.BytesIO(text.encode()))
    assert document.has_header is has_header
    first = text.splitlines()[0].split(",")
    assert (document.header == first) is has_header


def test_no_header_gets_synthesised_column_names_and_every_row_is_data() -> None:
    document = open_csv(io.BytesIO(b"Jo,0412345678\nAl,0412345679,extra\n"))
    assert document.header == ["Column 1", "Column 2", "Column 3"]
    assert [n for n, _ in document.rows()] == [1, 2]


def test_single_column_file_falls_back_to_comma() -> None:
    document = open_csv(io.BytesIO(b"phone\n(02) 9876 5432\n0412 345 678\n+61412345679\n"))
    assert document.delimiter == ","
    assert document.header == ["phone"]
    assert [cells for _, cells in document.rows()] == [
        ["(02) 9876 5432"],
        ["0412 345 678"],
        ["+61412345679"],
    ]


def test_rows_can_be_read_twice_and_the_file_stays_open() -> None:
    with tempfile.SpooledTemporaryFile(max_size=16) as upload:
        upload.write(NAMES_AND_PHONES.encode())  # larger than max_size: rolled to disk
        document = open_csv(upload)
        first = list(document.rows())
        partial = document.rows()
        next(partial)
        partial.close()
        assert list(document.rows()) == first
        assert not upload.closed


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (codecs.BOM_UTF8, "empty"),
        (b"\n\n \r\n", "No data rows"),
        (b"name,phone\n", "No data rows"),
        (b"name,phone\n\n,\n", "No data rows"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", "Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "Excel"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x1f\x8b\x08\x00\x00\x00", "gzip"),
        (bytes(range(256)) * 8, "not a text file"),
    ],
)
def test_unreadable_files_have_a_client_reason(data: bytes, words: str) -> None:
    with pytest.raises(UnreadableFile) as caught:
        open_csv(io.BytesIO(data))
    assert words in caught.value.reason


def test_overlong_line_is_unreadable_with_its_line_number() -> None:
    data = b"name,phone\nJo,0412345678\n" + b"x" * (MAX_LINE_CHARS + 10) + b"\nAl,0412345679\n"
    document = open_csv(io.BytesIO(data))
    with pytest.raises(UnreadableFile) as caught:
        list(document.rows())
    assert caught.value.line == 3
    assert "longer than 64 KiB" in caught.value.reason


def test_unclosed_quote_is_unreadable_instead_of_swallowing_rows() -> None:
    rows = "".join(f"Person {i},04{i:08d}\n" for i in range(MAX_LINES_PER_ROW + 10))
    data = ('name,phone\nJo,0412345678\n"Al,0412345679\n' + rows).encode()
    document = open_csv(io.BytesIO(data))
    with pytest.raises(UnreadableFile) as caught:
        list(document.rows())
    assert caught.value.line == 3
    assert "never closes" in caught.value.reason


@pytest.mark.parametrize("ending", ["", "\n"])
def test_a_quote_left_open_on_the_last_line_is_unreadable(ending: str) -> None:
    data = f'name,phone\nJo,0412345678\n"Al,0412345679{ending}'.encode()
    with pytest.raises(UnreadableFile) as caught:
        list(open_csv(io.BytesIO(data)).rows())
    assert caught.value.line == 3
    assert "never closes" in caught.value.reason


def test_a_lone_quote_inside_a_cell_is_text() -> None:
    data = b'name,phone\nJo "JJ,0412345678\nAl,0412345679'
    assert _rows(data) == [(1, ['Jo "JJ', "0412345678"]), (2, ["Al", "0412345679"])]


def test_invalid_bytes_in_utf16_are_unreadable() -> None:
    good = "name,phone\nJo,0412345678\n".encode("utf-16")
    data = good + "Al,0412345679\n".encode("utf-16-le") + b"\x00\xdc"  # lone low surrogate
    with pytest.raises(UnreadableFile) as caught:
        list(open_csv(io.BytesIO(data)).rows())
    assert "not valid utf-16" in caught.value.reason


def test_detect_header_of_nothing_is_false() -> None:
    assert detect_header([]) is False


@pytest.mark.parametrize(
    ("header", "rows", "expected"),
    [
        (["id", "name", "Mobile Phone"], [["1", "Jo", "0412345678"]], 2),
        (["Tel"], [], 0),
        (["a", "b"], [["Jo", "0412345678"], ["Al", "(02) 9876 5432"]], 1),
        (["Account Number", "Contact Number"], [["12345", "0412345678"]], 1),
        (["phone", "other"], [["", "0412345678"], ["", "0412345679"]], 0),
        (["a", "b"], [["x", "y"]], None),
        ([], [], None),
    ],
)
def test_suggest_phone_column(
    header: list[str], rows: list[list[str]], expected: int | None
) -> None:
    assert suggest_phone_column(header, rows) == expected


def test_preview() -> None:
    lines = ["Name;Email;Mobile"] + [f"P{i};p{i}@x.com;04{i:08d}" for i in range(1, 30)]
    result = preview(io.BytesIO("\n".join(lines).encode("utf-8-sig")), n=3)
    assert result.encoding == "utf-8-sig"
    assert result.delimiter == ";"
    assert result.has_header
    assert result.header == ["Name", "Email", "Mobile"]
    assert result.rows == [
        ["P1", "p1@x.com", "0400000001"],
        ["P2", "p2@x.com", "0400000002"],
        ["P3", "p3@x.com", "0400000003"],
    ]
    assert result.suggested_phone_column == 2
