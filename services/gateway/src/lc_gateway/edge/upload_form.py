"""Watching an upload form as it streams through: field limits, the file's hash, CSRF.

The gateway forwards the multipart body to ingest byte for byte, but parses a
copy as it passes (`streaming-form-data`, no buffering): the text fields are
kept (each within its limit), the file part only hashed. Parts before the file
are read ahead (`read_ahead`), so a form whose text fields come first is
checked before a byte of its file leaves the gateway; a field sent after the
file fails the upload as soon as it passes its limit.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from streaming_form_data import StreamingFormDataParser
from streaming_form_data.targets import BaseTarget

from lc_gateway.errors import FieldInvalid, GatewayError

# The longest each text field may be, in characters.
FIELD_LIMITS = {
    "name": 200,
    "reference": 200,
    "phone_column": 200,
    "default_region": 2,
    "encoding": 40,
    "delimiter": 2,
    "has_header": 5,
    "csrf_token": 128,
}
_REGION = re.compile(r"^[A-Za-z]{2}$")
_ENCODING = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
# The delimiters ingest can be told to use (contract C1): the characters themselves.
DELIMITERS = frozenset({",", ";", "\t", "|"})
# Text parts ahead of the file may not take more than this before the file starts.
READ_AHEAD_LIMIT = 64 * 1024


class _Field(BaseTarget):  # type: ignore[misc]
    """Keeps a text part, refusing it once it passes its limit (UTF-8: up to 4 bytes a char)."""

    def __init__(self, name: str, limit: int) -> None:
        super().__init__()
        self.name = name
        self.limit = limit
        self.data = bytearray()

    def on_data_received(self, chunk: bytes) -> None:
        self.data.extend(chunk)
        if len(self.data) > 4 * self.limit:
            raise _too_long(self.name, self.limit)

    def on_finish(self) -> None:
        if len(self.text) > self.limit:
            raise _too_long(self.name, self.limit)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


class _FileHash(BaseTarget):  # type: ignore[misc]
    """SHA-256 of the file part, and whether the part has begun."""

    def __init__(self) -> None:
        super().__init__()
        self.sha256 = hashlib.sha256()
        self.began = False

    def on_start(self) -> None:
        self.began = True

    def on_data_received(self, chunk: bytes) -> None:
        self.sha256.update(chunk)


def _too_long(name: str, limit: int) -> FieldInvalid:
    return FieldInvalid(f"The field {name!r} may be at most {limit} characters long.")


@dataclass
class UploadForm:
    """A multipart form observed while it streams; see the module's docstring."""

    content_type: str
    _parser: StreamingFormDataParser = field(init=False)
    _fields: dict[str, _Field] = field(init=False)
    _file: _FileHash = field(init=False)

    def __post_init__(self) -> None:
        self._parser = StreamingFormDataParser(headers={"Content-Type": self.content_type})
        self._fields = {name: _Field(name, limit) for name, limit in FIELD_LIMITS.items()}
        for name, target in self._fields.items():
            self._parser.register(name, target)
        self._file = _FileHash()
        self._parser.register("file", self._file)

    def feed(self, chunk: bytes) -> None:
        """Parse the next bytes; raise `FieldInvalid` or a 400 when the form is not acceptable."""
        try:
            self._parser.data_received(chunk)
        except GatewayError:
            raise
        except Exception as exc:
            raise GatewayError(
                "The upload is not a readable multipart form.", status=400, code="bad_multipart"
            ) from exc

    @property
    def file_began(self) -> bool:
        """True once the file part has started."""
        return self._file.began

    @property
    def fields(self) -> dict[str, str]:
        """The text fields received so far (CSRF token excluded), stripped but the delimiter
        (a tab is a delimiter, not blank space)."""
        return {
            name: target.text if name == "delimiter" else target.text.strip()
            for name, target in self._fields.items()
            if name != "csrf_token" and target.data
        }

    @property
    def csrf_token(self) -> str | None:
        """The form's `csrf_token` field, if it came yet."""
        target = self._fields["csrf_token"]
        return target.text if target.data else None

    def check_complete(self) -> None:
        """After the last byte: the checks that need whole fields (their shapes)."""
        check_fields(self.fields)

    def request_hash(self) -> str:
        """SHA-256 of what the request asks for: its text fields and its file's hash."""
        canonical = json.dumps(
            {"fields": self.fields, "file_sha256": self._file.sha256.hexdigest()}, sort_keys=True
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def check_fields(fields: dict[str, str]) -> None:
    """Raise `FieldInvalid` for a field ingest would refuse: region, encoding, delimiter, header."""
    region = fields.get("default_region", "")
    if region and not _REGION.match(region):
        raise FieldInvalid("The field 'default_region' must be a two-letter country code.")
    encoding = fields.get("encoding", "")
    if encoding and not _ENCODING.match(encoding):
        raise FieldInvalid("The field 'encoding' must be a codec name such as utf-8 or cp1252.")
    delimiter = fields.get("delimiter", "")
    if delimiter and delimiter not in DELIMITERS:
        raise FieldInvalid("The field 'delimiter' must be one of , ; | or a tab.")
    if fields.get("has_header", "") not in ("", "true", "false"):
        raise FieldInvalid("The field 'has_header' must be true or false.")


async def read_ahead(chunks: AsyncIterator[bytes], form: UploadForm) -> list[bytes]:
    """Feed `form` until its file part begins (or the body ends); the chunks read, to forward.

    Raises `FieldInvalid` if the parts ahead of the file take more than `READ_AHEAD_LIMIT`.
    """
    taken: list[bytes] = []
    size = 0
    async for chunk in chunks:
        form.feed(chunk)
        taken.append(chunk)
        size += len(chunk)
        if form.file_began:
            break
        if size > READ_AHEAD_LIMIT:
            raise FieldInvalid(
                f"The form's fields before the file take more than {READ_AHEAD_LIMIT} bytes."
            )
    return taken


async def watched(
    ahead: list[bytes], rest: AsyncIterator[bytes], form: UploadForm
) -> AsyncIterator[bytes]:
    """The whole body again (`ahead`, then `rest`), fed to `form` as it passes; checks the end."""
    for chunk in ahead:
        yield chunk
    async for chunk in rest:
        form.feed(chunk)
        yield chunk
    form.check_complete()
