"""The OpenAPI document shows an example of every billing route's request and answers."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.gateway.openapi_support import assert_examples, router_operations

from lc_gateway.api import billing
from lc_gateway.api.billing import PURCHASE_REQUEST_EXAMPLES, RECEIPT_EXAMPLE, Receipt
from lc_gateway.api.schemas import Balance, Purchase, PurchaseRequest, TransactionList


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return router_operations(billing.router)


@pytest.mark.parametrize(("method", "path", "operation"), operations())
def test_every_billing_route_has_examples(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    assert_examples(billing.router, method, path, operation)


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
