"""The OpenAPI document shows an example of every billing route's request and answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from tests.unit.gateway.test_gateway_openapi_examples import has_example

from lc_gateway.api import API_PREFIX, billing
from lc_gateway.api.billing import PURCHASE_REQUEST_EXAMPLES, RECEIPT_EXAMPLE, Receipt
from lc_gateway.api.schemas import Balance, Purchase, PurchaseRequest, TransactionList


def document() -> dict[str, Any]:
    app = FastAPI()
    app.include_router(billing.router, prefix=API_PREFIX)
    return app.openapi()


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in document()["paths"].items()
        for method, operation in methods.items()
    ]


@pytest.mark.parametrize(("method", "path", "operation"), operations())
def test_every_billing_route_has_examples(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    schemas = document()["components"]["schemas"]
    for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
        assert has_example(media, schemas), (method, path, "request", media_type)
    for status, answer in operation["responses"].items():
        for media_type, media in answer.get("content", {}).items():
            assert has_example(media, schemas), (method, path, status, media_type)


def test_the_billing_routes_are_all_there() -> None:
    assert {(m, p) for m, p, _ in operations()} == {
        ("get", "/api/v1/billing/balance"),
        ("get", "/api/v1/billing/transactions"),
        ("post", "/api/v1/billing/purchases"),
        ("get", "/api/v1/billing/receipts"),
    }


def test_the_billing_examples_are_valid() -> None:
    Balance.model_validate(billing.BALANCE_EXAMPLE)
    TransactionList.model_validate(billing.TRANSACTIONS_EXAMPLE)
    Purchase.model_validate(billing.PURCHASE_EXAMPLE)
    for example in PURCHASE_REQUEST_EXAMPLES.values():
        PurchaseRequest.model_validate(example["value"])
    receipt = Receipt.model_validate(RECEIPT_EXAMPLE)
    assert receipt.amount_cents == receipt.units * 5
