"""A batch's results CSV, streamed from its leads in row order (the download route)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

from lc_ingest.domain.batch import Batch
from lc_ingest.domain.csv_writer import BOM, header_line, result_of, row_line
from lc_ingest.ports import IngestStore

_ENCODING = "utf-8"
_CHUNK_BYTES = 65536


async def download_chunks(
    store: IngestStore, batch: Batch, finalised_between: tuple[dt.datetime, dt.datetime] | None
) -> AsyncIterator[bytes]:
    """The CSV bytes (UTF-8 with a BOM): the original header and rows plus the `cleanse_*`
    columns, in the upload's delimiter; with `finalised_between`, only the leads whose
    final verdict fell in that range `[start, end)`.

    Lines are grouped into chunks of about 64 KiB to keep the response efficient.
    """
    delimiter = batch.delimiter
    width = len(batch.header)
    buffer = [BOM + header_line(batch.header, delimiter)]
    size = len(buffer[0])
    async for lead in store.iter_leads(batch.id, finalised_between):
        line = row_line(lead.cells, result_of(lead), delimiter, width)
        buffer.append(line)
        size += len(line)
        if size >= _CHUNK_BYTES:
            yield "".join(buffer).encode(_ENCODING)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode(_ENCODING)
