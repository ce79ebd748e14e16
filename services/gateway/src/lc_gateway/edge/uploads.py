"""Uploads pass through the gateway as a stream, never spooled, with a size cap.

The multipart body goes to ingest byte for byte with its own Content-Type
(boundary included); ingest parses it. The gateway counts the bytes and
watches the form as it passes (`upload_form`): field limits, the file's hash.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from fastapi import Request

from lc_gateway.edge.upload_form import UploadForm, read_ahead, watched
from lc_gateway.errors import BodyTooLarge, GatewayError


async def capped(chunks: AsyncIterable[bytes], limit: int) -> AsyncIterator[bytes]:
    """Yield `chunks` unchanged; raise `BodyTooLarge` as soon as more than `limit` bytes pass."""
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge(limit)
        if chunk:
            yield chunk


def multipart_stream(request: Request, limit: int) -> tuple[AsyncIterator[bytes], str]:
    """The request's multipart body as a capped stream, and its Content-Type.

    Refuses at once (413) a body whose declared Content-Length is over the cap,
    and (415) anything that is not `multipart/form-data` with a boundary.
    """
    content_type = request.headers.get("content-type", "")
    is_multipart = content_type.lower().startswith("multipart/form-data")
    if not is_multipart or "boundary=" not in content_type:
        raise GatewayError(
            "Send the file as multipart/form-data with a 'file' field.",
            status=415,
            code="unsupported_media_type",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    return capped(request.stream(), limit), content_type


@dataclass(frozen=True)
class Upload:
    """An upload being received: the body to forward, its Content-Type, and the watched form."""

    body: AsyncIterator[bytes]
    content_type: str
    form: UploadForm


async def open_upload(request: Request, limit: int) -> Upload:
    """Start receiving an upload: the parts ahead of the file are read and checked already."""
    source, content_type = multipart_stream(request, limit)
    form = UploadForm(content_type)
    ahead = await read_ahead(source, form)
    return Upload(watched(ahead, source, form), content_type, form)


async def drain(upload: Upload) -> None:
    """Read the rest of an upload without forwarding it (to hash it)."""
    async for _ in upload.body:
        pass
