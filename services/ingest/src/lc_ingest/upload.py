"""Receive a multipart upload as it arrives, spooling the file part to disk.

FastAPI's own form parsing spools the whole body before the handler runs and
cannot cap it; `streaming-form-data` parses the bytes as they come, so the size
cap is enforced while receiving and memory stays flat.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from streaming_form_data import StreamingFormDataParser
from streaming_form_data.targets import FileTarget, ValueTarget

from lc_ingest.errors import ClientError

FIELDS = ("name", "reference", "phone_column", "default_region")


@dataclass(frozen=True)
class Upload:
    """A received upload: its text fields and the spooled file."""

    fields: dict[str, str]
    path: Path
    filename: str
    size: int


async def receive_upload(request: Request, upload_dir: Path, max_bytes: int) -> Upload:
    """Parse a multipart body with a `file` part into a file under `upload_dir`."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ClientError(415, "not_multipart", "Send the file as multipart/form-data.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    upload_dir.mkdir(parents=True, exist_ok=True)
    path = upload_dir / f"{uuid.uuid4().hex}.upload"
    parser = StreamingFormDataParser(headers=dict(request.headers))
    file_target = FileTarget(str(path))
    values = {name: ValueTarget() for name in FIELDS}
    parser.register("file", file_target)
    for name, target in values.items():
        parser.register(name, target)
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise _too_large(max_bytes)
            parser.data_received(chunk)
    except ClientError:
        path.unlink(missing_ok=True)
        raise
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise ClientError(400, "bad_multipart", f"The upload could not be read: {exc}") from exc
    if not file_target.multipart_filename and not path.exists():
        raise ClientError(422, "file_missing", "The form has no 'file' part.")
    return Upload(
        fields={name: t.value.decode("utf-8", "replace").strip() for name, t in values.items()},
        path=path,
        filename=file_target.multipart_filename or "upload.csv",
        size=path.stat().st_size if path.exists() else 0,
    )


def _too_large(max_bytes: int) -> ClientError:
    return ClientError(
        413, "file_too_large", f"The file is larger than the limit of {max_bytes // 2**20} MiB."
    )
