"""Receive a multipart upload as it arrives, spooling the file part to disk.

FastAPI's own form parsing spools the whole body before the handler runs and
cannot cap it; `streaming-form-data` parses the bytes as they come, so the size
cap is enforced while receiving and memory stays flat.

Limits before work: each text field has a size cap enforced while it is parsed, and
the fields sent before the file part are checked (`form_fields`) when the file part
starts, before a byte of it is spooled. Whatever goes wrong, the spooled file is removed
before the error is raised.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from starlette.requests import Request
from streaming_form_data import StreamingFormDataParser
from streaming_form_data.targets import FileTarget, ValueTarget

from lc_common.http import ServiceError
from lc_ingest.domain.csv_reader import DELIMITERS, Overrides

# Characters a field may hold; the parser caps its bytes at 4 per character (UTF-8).
FIELD_CHARS: Final = {
    "name": 200,
    "reference": 200,
    "phone_column": 200,
    "default_region": 2,
    "encoding": 40,
    "delimiter": 3,
    "has_header": 5,
}
FIELDS: Final = tuple(FIELD_CHARS)
_DELIMITER_NAMES: Final = {"\\t": "\t", "tab": "\t"}


@dataclass(frozen=True)
class FormFields:
    """The upload form's text fields, checked: blank means "not given" (region: the
    service's default)."""

    name: str = ""
    reference: str = ""
    phone_column: str = ""
    default_region: str = ""
    overrides: Overrides = field(default_factory=Overrides)


@dataclass(frozen=True)
class Upload:
    """A received upload: its text fields and the spooled file."""

    fields: FormFields
    path: Path
    filename: str
    size: int


class _FieldTooLong(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _CappedValue(ValueTarget):  # type: ignore[misc]
    """A text field whose bytes are capped while they arrive."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name
        self._cap = FIELD_CHARS[name] * 4
        self._size = 0

    def on_data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._cap:
            raise _FieldTooLong(self._name)
        super().on_data_received(chunk)


class _CheckedFile(FileTarget):  # type: ignore[misc]
    """The file part: the fields received before it are checked when it starts."""

    def __init__(self, path: Path, values: dict[str, _CappedValue]) -> None:
        super().__init__(str(path))
        self._values = values

    def on_start(self) -> None:
        form_fields(_texts(self._values))
        super().on_start()


def form_fields(values: dict[str, str]) -> FormFields:
    """Check the form's text fields (missing ones are blank); raises `ServiceError` 422
    naming the first field that is too long or not a value it may take."""
    for name, text in values.items():
        if len(text) > FIELD_CHARS[name]:
            raise _too_long_field(name)
    region = values.get("default_region", "").strip().upper()
    if region and not (len(region) == 2 and region.isascii() and region.isalpha()):
        raise ServiceError(422, "bad_region", "default_region must be a 2-letter country code.")
    delimiter = values.get("delimiter", "")
    delimiter = _DELIMITER_NAMES.get(delimiter.strip().lower(), delimiter)
    if delimiter and delimiter not in DELIMITERS:
        raise ServiceError(422, "bad_delimiter", "delimiter must be one of , ; | or a tab.")
    has_header = values.get("has_header", "").strip().lower()
    if has_header not in ("", "true", "false"):
        raise ServiceError(422, "bad_has_header", "has_header must be true or false.")
    encoding = values.get("encoding", "").strip()
    return FormFields(
        name=values.get("name", "").strip(),
        reference=values.get("reference", "").strip(),
        phone_column=values.get("phone_column", "").strip(),
        default_region=region,
        overrides=Overrides(
            encoding=encoding or None,
            delimiter=delimiter or None,
            has_header=None if not has_header else has_header == "true",
        ),
    )


async def receive_upload(request: Request, upload_dir: Path, max_bytes: int) -> Upload:
    """Parse a multipart body with a `file` part into a file under `upload_dir`.

    Raises `ServiceError` (and leaves nothing in `upload_dir`) when the body is not
    multipart, too large, malformed, has no file, or a field fails `form_fields`.
    """
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ServiceError(415, "not_multipart", "Send the file as multipart/form-data.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    upload_dir.mkdir(parents=True, exist_ok=True)
    path = upload_dir / f"{uuid.uuid4().hex}.upload"
    values = {name: _CappedValue(name) for name in FIELDS}
    file_target = _CheckedFile(path, values)
    try:
        parser = StreamingFormDataParser(headers=dict(request.headers))
        parser.register("file", file_target)
        for name, target in values.items():
            parser.register(name, target)
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise _too_large(max_bytes)
            parser.data_received(chunk)
        if not file_target.multipart_filename and not path.exists():
            raise ServiceError(422, "file_missing", "The form has no 'file' part.")
        fields = form_fields(_texts(values))
    except ServiceError:
        path.unlink(missing_ok=True)
        raise
    except _FieldTooLong as exc:
        path.unlink(missing_ok=True)
        raise _too_long_field(exc.name) from None
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise ServiceError(400, "bad_multipart", f"The upload could not be read: {exc}") from exc
    return Upload(
        fields=fields,
        path=path,
        filename=(file_target.multipart_filename or "upload.csv")[:200],
        size=path.stat().st_size if path.exists() else 0,
    )


def _texts(values: dict[str, _CappedValue]) -> dict[str, str]:
    return {name: t.value.decode("utf-8", "replace") for name, t in values.items() if t.value}


def _too_long_field(name: str) -> ServiceError:
    return ServiceError(
        422, "field_too_long", f"{name} is longer than {FIELD_CHARS[name]} characters."
    )


def _too_large(max_bytes: int) -> ServiceError:
    return ServiceError(
        413, "file_too_large", f"The file is larger than the limit of {max_bytes // 2**20} MiB."
    )
