"""The OpenAPI document shows an example of every batch route's request and answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter
from tests.unit.gateway.openapi_support import assert_examples, router_operations

from lc_gateway.api import batches, users, webhooks
from lc_gateway.api.schemas import BATCH_EXAMPLE, Batch, BatchPatch


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return router_operations(batches.router)


@pytest.mark.parametrize(("method", "path", "operation"), operations())
def test_every_batch_route_has_examples(method: str, path: str, operation: dict[str, Any]) -> None:
    assert_examples(batches.router, method, path, operation)


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


OTHER_ROUTERS = [webhooks.router, users.router]


@pytest.mark.parametrize(
    ("router", "method", "path", "operation"),
    [(router, *op) for router in OTHER_ROUTERS for op in router_operations(router)],
)
def test_every_webhook_and_user_route_has_examples(
    router: APIRouter, method: str, path: str, operation: dict[str, Any]
) -> None:
    assert_examples(router, method, path, operation)
