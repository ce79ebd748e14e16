"""Every file of the hostile-input corpus through ingest's real API, on the real store and
broker: the preview and the import each give the clear error or the exact result the
table in tests/security/README.md states, and nothing is left in the upload directory."""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.security.corpus_files import CORPUS, GENERATED, SMALL, oversize, write_corpus
from tests.support import serving, until

from lc_ingest.config import IngestSettings
from lc_ingest.main import create_app
from lc_localstack.peers import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]
TOKEN = "security-corpus-token"
MAX_UPLOAD = 2 * 2**20
Rows = list[dict[str, str]]


@dataclass(frozen=True)
class Failed:
    """The batch fails with a reason containing `reason` (and `Line n:` when set); the
    preview answers 422 `unreadable_file` with the same sentence."""

    reason: str
    line: int | None = None


@dataclass(frozen=True)
class Imported:
    """The batch is imported with these counters; `check` looks at the download's rows."""

    imported: int
    accepted: int
    rejected: int
    check: Callable[[Rows], None] | None = None
    phone_column: str = ""
    delimiter: str = ","


def _e164s(rows: Rows) -> list[str]:
    return [row["cleanse_e164"] for row in rows]


def _formulas_quoted(rows: Rows) -> None:
    assert list(rows[0]) == ["'=name", "'@phone", "'+note", "'-x", *list(rows[0])[4:]]
    assert [r["'=name"] for r in rows] == [
        "'=cmd|' /C calc'!A0",
        "'+cmd|' /C calc'!A0",
        "Al",
        "Bo",
    ]
    assert [r["'@phone"] for r in rows] == [
        "0412 345 670",
        "+61412345671",  # a number is not a formula
        "'=0412345672",
        "0412345673",
    ]
    assert [r["'+note"] for r in rows] == ["'@SUM(1+1)", "'\t=1+1", "-12", "'\r=1"]
    assert [r["'-x"] for r in rows] == [
        "'-2+3",
        '\'=HYPERLINK("http://evil.example")',
        "+61 2 9374 4000",
        "'@A1",
    ]
    assert _e164s(rows) == ["+61412345670", "+61412345671", "", "+61412345673"]


def _invisible(rows: Rows) -> None:
    assert _e164s(rows) == [f"+6141234567{i}" for i in range(7)]


def _extensions(rows: Rows) -> None:
    assert [r["cleanse_detail"] for r in rows[:4]] == ["ext. 12", "ext. 34", "ext. 56", "ext. 78"]
    assert _e164s(rows)[:4] == ["+61412345673", "+61412345674", "+61412345675", "+61412345676"]
    assert [r["cleanse_detail"] for r in rows[4:]] == ["contains_letters"] * 3
    assert {r["cleanse_line_type"] for r in rows[:4]} == {"mobile"}


def _unsafe(rows: Rows) -> None:
    assert [r["cleanse_detail"] for r in rows] == [
        "emergency_or_short_code",
        "emergency_or_short_code",
        "premium_rate",
        "invalid_number",
        "too_short",
        "too_long",
        "invalid_country_code",
        "",
    ]


def _duplicates(rows: Rows) -> None:
    assert [r["cleanse_status"] for r in rows] == ["pending", "rejected", "rejected"]
    assert _e164s(rows) == ["+61412345670"] * 3
    assert [r["cleanse_detail"] for r in rows[1:]] == ["duplicate", "duplicate"]


def _good(rows: Rows) -> None:
    assert _e164s(rows) == ["+61412345670", "+61293744000", "+61412345671"]
    assert [r["cleanse_line_type"] for r in rows] == ["mobile", "fixed_line", "mobile"]


def _accents(rows: Rows) -> None:
    assert [r["Nom"] for r in rows] == ["Zoé", "Éric"]


def _address(rows: Rows) -> None:
    assert [r["address"] for r in rows] == ["12 Main St\nSydney NSW", '1 "Quoted" Rd']


def _first_phone_column(rows: Rows) -> None:
    assert _e164s(rows) == ["+61412345670", "+61412345671"]


NOT_TEXT = "not a text file"
EXPECTED: dict[str, Failed | Imported] = {
    "empty.csv": Failed("The file is empty."),
    "whitespace_only.csv": Failed("no rows with a value"),
    "header_only.csv": Failed("header row only"),
    "binary_random.csv": Failed(NOT_TEXT),
    "nul_bytes.csv": Failed(NOT_TEXT),
    "control_chars.csv": Failed(NOT_TEXT),
    "utf16le_no_bom.csv": Imported(3, 3, 0, _good),
    "utf16_bom.csv": Imported(3, 3, 0),
    "utf32_bom.csv": Imported(3, 3, 0, _good),
    "utf8_bom_cp1252_body.csv": Failed("not valid utf-8-sig"),
    "cp1252_semicolon.csv": Imported(2, 2, 0, _accents, delimiter=";"),
    "columns_1001.csv": Failed("more than 1000 columns", line=1),
    "columns_100k.csv": Failed("longer than 64 KiB", line=1),
    "line_1mib.csv": Failed("longer than 64 KiB", line=3),
    "formulas_everywhere.csv": Imported(4, 3, 1, _formulas_quoted, phone_column="@phone"),
    "eol_lf.csv": Imported(3, 3, 0, _good),
    "eol_crlf.csv": Imported(3, 3, 0, _good),
    "eol_cr.csv": Imported(3, 3, 0, _good),
    "eol_mixed.csv": Imported(3, 3, 0, _good),
    "quote_open_at_end.csv": Failed("never closes", line=1),
    "quote_swallows_rows.csv": Failed("look like rows of their own", line=2),
    "multiline_address.csv": Imported(2, 2, 0, _address),
    "duplicate_headers.csv": Imported(2, 2, 0, _first_phone_column, phone_column="phone"),
    "duplicate_numbers.csv": Imported(3, 1, 2, _duplicates),
    "blank_lines.csv": Imported(3, 3, 0, _good),
    "zip_archive.csv": Failed("ZIP archive"),
    "gzip_file.csv": Failed("gzip"),
    "xlsx_renamed.csv": Failed("Excel workbook (.xlsx)"),
    "pdf_renamed.csv": Failed("PDF"),
    "png_renamed.csv": Failed("PNG image"),
    "invisible_in_numbers.csv": Imported(7, 7, 0, _invisible),
    "extensions_and_letters.csv": Imported(7, 4, 3, _extensions),
    "unsafe_numbers.csv": Imported(8, 1, 7, _unsafe),
    "not_csv_html.csv": Failed("header row only"),
    "rtl_override_in_text.csv": Imported(2, 2, 0),
}


@dataclass
class Ingest:
    client: httpx.AsyncClient
    upload_dir: Path
    files: Path
    seen: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
async def ingest(
    kafka_bootstrap: str, mongodb_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Ingest]:
    """One real ingest (its own topics and database) for the whole corpus."""
    tag = uuid.uuid4().hex[:10]
    upload_dir = tmp_path_factory.mktemp("uploads")
    files = tmp_path_factory.mktemp("generated")
    settings = IngestSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_uri=mongodb_uri,  # type: ignore[arg-type]
        mongodb_database=f"t{tag}",
        topic_prefix=f"t{tag}.",
        environment="test",
        http_port=free_port(),
        internal_token=TOKEN,  # type: ignore[arg-type]
        upload_dir=upload_dir,
        max_upload_bytes=MAX_UPLOAD,
    )
    headers = {"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": "acc_hostile"}
    async with (
        serving(create_app(settings), settings.http_port) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client,
    ):
        yield Ingest(client, upload_dir, files)


def corpus_bytes(name: str, files: Path) -> bytes:
    if name in GENERATED:
        return GENERATED[name](files).read_bytes()
    return (CORPUS / name).read_bytes()


async def nothing_left(upload_dir: Path) -> None:
    await until(lambda: not any(upload_dir.iterdir()), what="an empty upload directory")


def download_rows(body: bytes, delimiter: str) -> Rows:
    assert body.startswith(codecs.BOM_UTF8)
    text = body.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_corpus_file(ingest: Ingest, name: str) -> None:
    expected = EXPECTED[name]
    data = corpus_bytes(name, ingest.files)
    form = {"name": name, "reference": "corpus"}
    if isinstance(expected, Imported):
        form["phone_column"] = expected.phone_column
    files = {"file": (name, data, "text/csv")}

    preview = await ingest.client.post("/internal/v1/imports/preview", files=files, data=form)
    await nothing_left(ingest.upload_dir)
    if isinstance(expected, Failed):
        assert preview.status_code == 422, preview.text
        error = preview.json()["error"]
        assert error["code"] == "unreadable_file" and expected.reason in error["message"]
    else:
        assert preview.status_code == 200, preview.text
        if expected.phone_column:
            dry_run = preview.json()["dry_run"]
            assert (dry_run["rows"], dry_run["accepted"], dry_run["rejected"]) == (
                expected.imported,
                expected.accepted,
                expected.rejected,
            )

    created = await ingest.client.post("/internal/v1/batches", files=files, data=form)
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]
    batch: dict[str, Any] = {}

    async def settled() -> bool:
        nonlocal batch
        batch = (await ingest.client.get(f"/internal/v1/batches/{batch_id}")).json()
        return batch["status"] in ("queued", "failed", "paused_no_credit")

    await until(settled, within=60, what=f"{name} imported or failed")
    await nothing_left(ingest.upload_dir)
    if isinstance(expected, Failed):
        assert batch["status"] == "failed"
        assert expected.reason in batch["failure_reason"], batch["failure_reason"]
        if expected.line is not None:
            assert batch["failure_reason"].startswith(f"Line {expected.line}: ")
        assert batch["imported"] == 0
        return
    assert (batch["imported"], batch["accepted"], batch["rejected"]) == (
        expected.imported,
        expected.accepted,
        expected.rejected,
    ), batch
    download = await ingest.client.get(f"/internal/v1/batches/{batch_id}/download")
    assert download.status_code == 200
    rows = download_rows(download.content, expected.delimiter)
    assert len(rows) == expected.imported
    for row in rows:  # our own values are never altered by the formula guard
        assert not row["cleanse_e164"].startswith("'")
    if expected.check is not None:
        expected.check(rows)


async def test_oversize_upload_is_refused_and_nothing_is_left(ingest: Ingest) -> None:
    data = oversize(ingest.files, MAX_UPLOAD).read_bytes()
    for route in ("/internal/v1/imports/preview", "/internal/v1/batches"):
        refused = await ingest.client.post(route, files={"file": ("big.csv", data, "text/csv")})
        assert refused.status_code == 413 and refused.json()["error"]["code"] == "file_too_large"
        await nothing_left(ingest.upload_dir)


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"name": "n" * 2**20}, "field_too_long"),
        ({"reference": "r" * 201}, "field_too_long"),
        ({"phone_column": "p" * 10_000}, "field_too_long"),
        ({"default_region": "AUS"}, "field_too_long"),
        ({"default_region": "1!"}, "bad_region"),
        ({"delimiter": ":"}, "bad_delimiter"),
        ({"has_header": "maybe"}, "bad_has_header"),
        ({"encoding": "e" * 41}, "field_too_long"),
    ],
)
async def test_bad_form_fields_are_refused_and_nothing_is_left(
    ingest: Ingest, form: dict[str, str], code: str
) -> None:
    data = (CORPUS / "eol_lf.csv").read_bytes()
    for route in ("/internal/v1/imports/preview", "/internal/v1/batches"):
        # Fields first, as browsers send them: refused before the file is spooled.
        refused = await ingest.client.post(
            route, files={"file": ("leads.csv", data, "text/csv")}, data=form
        )
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code
        await nothing_left(ingest.upload_dir)
    listed = await ingest.client.get("/internal/v1/batches")
    assert all(b["reference"] != "r" * 201 for b in listed.json()["batches"])


def test_the_corpus_is_complete_and_as_generated(tmp_path: Path) -> None:
    committed = {p.name for p in CORPUS.iterdir()}
    assert committed == set(SMALL)
    assert len(committed | set(GENERATED)) >= 25
    assert set(EXPECTED) == committed | set(GENERATED)
    write_corpus(tmp_path)
    for name in SMALL:
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), name
    readme = (Path(__file__).parent / "README.md").read_text()
    missing = [name for name in EXPECTED if f"`{name}`" not in readme]
    assert not missing, f"README.md does not describe {missing}"
