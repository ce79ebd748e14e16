"""The OpenAPI document shows an example of every batch route's request and answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from lc_gateway.api import API_PREFIX, batches
from lc_gateway.api.schemas import BATCH_EXAMPLE, Batch, BatchPatch


def document() -> dict[str, Any]:
    app = FastAPI()
    app.include_router(batches.router, prefix=API_PREFIX)
    return app.openapi()


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in document()["paths"].items()
        for method, operation in methods.items()
    ]


def has_example(media: dict[str, Any], schemas: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    ref = media.get("schema", {}).get("$ref", "")
    return bool(ref) and "examples" in schemas[ref.rsplit("/", 1)[-1]]


@pytest.mark.parametrize(("method", "path", "operation"), operations())
def test_every_batch_route_has_examples(method: str, path: str, operation: dict[str, Any]) -> None:
    schemas = document()["components"]["schemas"]
    for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
        assert has_example(media, schemas), (method, path, "request", media_type)
    for status, answer in operation["responses"].items():
        for media_type, media in answer.get("content", {}).items():
            assert has_example(media, schemas), (method, path, status, media_type)


def test_the_routes_are_all_there() -> None:
    assert {(m, p) for m, p, _ in operations()} == {
        ("post", "/api/v1/imports/preview"),
        ("post", "/api/v1/batches"),
        ("get", "/api/v1/batches"),
        ("get", "/api/v1/batches/{batch_id}"),
        ("patch", "/api/v1/batches/{batch_id}"),
        ("get", "/api/v1/batches/{batch_id}/download"),
    }


def test_the_examples_are_valid_and_consistent() -> None:
    batch = Batch.model_validate(BATCH_EXAMPLE)
    assert batch.accepted == batch.processed + batch.remaining
    assert batch.processed == batch.connected + batch.disconnected + batch.indeterminate
    assert batch.imported == batch.accepted + batch.rejected
    for example in BatchPatch.model_json_schema()["examples"]:
        BatchPatch.model_validate(example)
