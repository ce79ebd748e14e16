"""The API client's pure parts: error mapping, base URL, the multipart framing of uploads."""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
from pathlib import Path

import httpx
import pytest

from leadcleanser.client import (
    ApiError,
    AuthError,
    Client,
    NotFound,
    ServerError,
    api_root,
    error_for,
    form_envelope,
)


def body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthError),
        (403, AuthError),
        (404, NotFound),
        (429, ServerError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
    ],
)
def test_each_status_maps_to_its_error(status: int, kind: type[ApiError]) -> None:
    error = error_for(status, body("some_code", "Some message."))
    assert type(error) is kind
    assert (error.status, error.code, error.message) == (status, "some_code", "Some message.")


@pytest.mark.parametrize("status", [400, 409, 410, 413, 415, 422])
def test_other_client_errors_are_plain_api_errors(status: int) -> None:
    error = error_for(status, body("batch_deleted", "Deleted."))
    assert type(error) is ApiError
    assert error.code == "batch_deleted"


def test_an_unknown_batch_keeps_the_api_code() -> None:
    error = error_for(404, body("batch_not_found", "No batch bat_x."))
    assert isinstance(error, NotFound)
    assert error.code == "batch_not_found"


def test_a_body_that_is_not_the_api_shape_still_gives_an_error() -> None:
    error = error_for(502, b"<html>Bad Gateway</html>")
    assert isinstance(error, ServerError)
    assert error.code == "http_502"
    assert error.message == "<html>Bad Gateway</html>"
    empty = error_for(500, b"")
    assert empty.message == "The API answered HTTP 500."
    wrong_shape = error_for(400, b'{"detail": "x"}')
    assert wrong_shape.code == "http_400"


@pytest.mark.parametrize(
    "given",
    [
        "http://host:8000",
        "http://host:8000/",
        "http://host:8000/api/v1",
        " http://host:8000/api/v1/",
    ],
)
def test_the_base_url_is_accepted_with_or_without_the_api_path(given: str) -> None:
    assert api_root(given) == "http://host:8000"


def parse_form(content_type: str, payload: bytes) -> list[tuple[str, str | None, bytes]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + payload
    )
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_filename(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    ]


def test_the_form_puts_the_fields_first_and_the_file_last() -> None:
    head, tail = form_envelope(
        {"name": "Été leads", "phone_column": "phone"}, 'odd"name.csv', "BOUNDARY1"
    )
    content = b"phone\r\n0412 345 670\r\n"
    parts = parse_form("multipart/form-data; boundary=BOUNDARY1", head + content + tail)
    assert [p[0] for p in parts] == ["name", "phone_column", "file"]
    assert parts[0][2] == "Été leads".encode()
    assert parts[1][2] == b"phone"
    assert parts[2][1] == "odd%22name.csv"
    assert parts[2][2] == content


def test_an_upload_streams_the_file_with_an_exact_length(tmp_path: Path) -> None:
    csv_file = tmp_path / "leads.csv"
    csv_file.write_bytes(b"phone\n" + b"0412345670\n" * 100_000)
    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        payload = b"".join(request.stream)  # type: ignore[union-attr]
        seen["length"] = int(request.headers["content-length"])
        seen["payload"] = payload
        seen["key"] = request.headers.get("idempotency-key")
        seen["auth"] = request.headers["authorization"]
        seen["path"] = request.url.path
        return httpx.Response(201, json={"id": "bat_1", "status": "importing"})

    sent: list[int] = []
    client = Client("http://api.test/", "lc_key", transport=httpx.MockTransport(handler))
    batch = client.upload(csv_file, {"name": "x"}, sent.append, idempotency_key="job-1")
    assert batch == {"id": "bat_1", "status": "importing"}
    assert seen["length"] == len(seen["payload"])  # type: ignore[arg-type]
    assert sum(sent) == csv_file.stat().st_size
    assert len(sent) > 1, "the file goes in chunks"
    assert (seen["key"], seen["auth"], seen["path"]) == (
        "job-1",
        "Bearer lc_key",
        "/api/v1/batches",
    )


def test_a_batch_id_stays_one_path_segment() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(404, content=body("not_found", "No."))

    client = Client("http://api.test", "k", transport=httpx.MockTransport(handler))
    with pytest.raises(NotFound):
        client.batch("../billing/balance")
    with pytest.raises(NotFound):
        client.download("a?b", io.BytesIO())
    assert paths == ["/api/v1/batches/..%2Fbilling%2Fbalance", "/api/v1/batches/a%3Fb/download"]
