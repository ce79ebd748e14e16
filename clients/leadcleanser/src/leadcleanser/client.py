"""A small client of the public API v1, raising typed errors.

Every error the API answers has the body `{"error": {"code", "message"}}`;
`error_for` turns a status and body into the matching exception, so the
command line maps exceptions, not status codes, to its exit codes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

API = "/api/v1"
UPLOAD_CHUNK = 256 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class LeadCleanserError(Exception):
    """Anything that kept a request from getting the answer it asked for."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ConnectionFailed(LeadCleanserError):
    """The API could not be reached, or the connection broke before the answer."""


class ApiError(LeadCleanserError):
    """The API answered with an error: its HTTP status, `code` and `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code, message)
        self.status = status


class AuthError(ApiError):
    """401 or 403: the API key is missing, wrong, revoked, or may not do this."""


class NotFound(ApiError):
    """404: no such batch (or route) in this account."""


class ServerError(ApiError):
    """5xx, 429, or an answer that is not the API's: worth trying again later."""


def error_for(status: int, body: bytes) -> ApiError:
    """The exception for an error answer: the API's code and message when the body has them."""
    code, message = f"http_{status}", ""
    try:
        detail = json.loads(body)["error"]
        code, message = str(detail["code"]), str(detail["message"])
    except (ValueError, TypeError, KeyError):
        message = body.decode("utf-8", "replace").strip()[:200]
    message = message or f"The API answered HTTP {status}."
    if status in (401, 403):
        return AuthError(status, code, message)
    if status == 404:
        return NotFound(status, code, message)
    if status >= 500 or status == 429:
        return ServerError(status, code, message)
    return ApiError(status, code, message)


def api_root(url: str) -> str:
    """The service's base URL, whether given with or without a trailing `/` or `/api/v1`."""
    root = url.strip().rstrip("/")
    return root.removesuffix(API)


def form_envelope(fields: Mapping[str, str], filename: str, boundary: str) -> tuple[bytes, bytes]:
    """The multipart/form-data bytes before and after the file's content.

    Text fields come first, so the gateway checks them before the file streams;
    the file is the part named `file`, sent as `text/csv`.
    """

    def quoted(value: str) -> str:
        # As browsers do (HTML's multipart encoding): no raw quotes or line breaks in a header.
        return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")

    head = bytearray()
    for name, value in fields.items():
        head += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        head += value.encode("utf-8") + b"\r\n"
    head += (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{quoted(filename)}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return bytes(head), tail


def _file_chunks(
    head: bytes, source: IO[bytes], tail: bytes, sent: Callable[[int], None]
) -> Iterator[bytes]:
    yield head
    while chunk := source.read(UPLOAD_CHUNK):
        yield chunk
        sent(len(chunk))
    yield tail


class Client:
    """The API v1 of one Lead Cleanser service, acting for the account of one API key.

    Every method raises `ConnectionFailed` when the service cannot be reached and an
    `ApiError` (or its subclass) when it answers with an error.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=api_root(url) + API,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ConnectionFailed("connection_failed", _describe(exc, self._http)) from exc
        if response.is_error:
            raise error_for(response.status_code, response.content)
        try:
            return response.json()
        except ValueError as exc:
            raise ServerError(
                response.status_code, "unexpected_answer", "The answer is not the API's JSON."
            ) from exc

    def upload(
        self,
        path: Path,
        fields: Mapping[str, str],
        sent: Callable[[int], None] = lambda n: None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Import the CSV at `path` as a new batch; the new batch's JSON.

        `fields` are the form's text fields (name, reference, phone_column,
        default_region); the file streams from disk in chunks, `sent(n)` called
        after each. With `idempotency_key`, a repeat of the same upload (a script
        retrying after a lost answer) gets the first one's batch, not a second batch.
        """
        boundary = secrets.token_hex(16)
        head, tail = form_envelope(fields, path.name, boundary)
        size = path.stat().st_size
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        with path.open("rb") as source:
            return dict(
                self._json(
                    "POST",
                    "/batches",
                    content=_file_chunks(head, source, tail, sent),
                    headers=headers,
                )
            )

    def batches(self) -> list[dict[str, Any]]:
        """Every batch of the account, newest first."""
        return list(self._json("GET", "/batches")["batches"])

    def batch(self, batch_id: str) -> dict[str, Any]:
        """One batch with its counters; `NotFound` if the account has no such batch."""
        return dict(self._json("GET", f"/batches/{_segment(batch_id)}"))

    def set_paused(self, batch_id: str, paused: bool) -> dict[str, Any]:
        """Pause or unpause a batch; the batch as it is afterwards."""
        return dict(self._json("PATCH", f"/batches/{_segment(batch_id)}", json={"paused": paused}))

    def balance(self) -> dict[str, Any]:
        """The account's credit: `{"account_id", "balance", "unit"}`."""
        return dict(self._json("GET", "/billing/balance"))

    def download(self, batch_id: str, sink: IO[bytes], processed_on: date | None = None) -> int:
        """Write the batch's CSV to `sink` byte for byte as the API sends it; the bytes written.

        With `processed_on`, only the leads processed on that day (UTC).
        """
        params = {"processed_on": processed_on.isoformat()} if processed_on else None
        written = 0
        try:
            with self._http.stream(
                "GET", f"/batches/{_segment(batch_id)}/download", params=params
            ) as response:
                if response.is_error:
                    raise error_for(response.status_code, response.read())
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    written += len(chunk)
        except httpx.TransportError as exc:
            raise ConnectionFailed("connection_failed", _describe(exc, self._http)) from exc
        return written


def _segment(batch_id: str) -> str:
    # An id is one path segment, whatever the user typed (no `../`, no `?`).
    return quote(batch_id, safe="")


def _describe(exc: httpx.TransportError, http: httpx.Client) -> str:
    what = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"{http.base_url} did not answer in time ({what})."
    return f"Could not reach {http.base_url} ({what}: {exc or 'no detail'})."
