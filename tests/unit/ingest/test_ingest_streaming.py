"""A large upload is streamed: memory stays bounded whatever the file size."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from lc_ingest.domain import open_csv

ROWS = 200_000
PEAK_LIMIT = 20 * 1024 * 1024


def test_200k_rows_stream_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    note = "n" * 100  # makes the file larger than the memory limit
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("name;phone;note\r\n")
        for i in range(ROWS):
            out.write(f"Person {i};04{i:08d};{note}\r\n")
    assert path.stat().st_size > PEAK_LIMIT

    with path.open("rb") as upload:
        tracemalloc.start()
        try:
            document = open_csv(upload)
            count = 0
            last: list[str] = []
            for row_number, cells in document.rows():
                count += 1
                assert row_number == count
                last = cells
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert document.delimiter == ";"
    assert count == ROWS
    assert last == [f"Person {ROWS - 1}", f"04{ROWS - 1:08d}", note]
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.1f} MiB"
