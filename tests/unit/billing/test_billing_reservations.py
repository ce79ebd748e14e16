"""Reservation rules: who gets a unit, when credit events are due, what the reconciler does."""

from __future__ import annotations

import pytest

from lc_billing.domain.reservations import (
    plan_reservations,
    reconcile_action,
    state_after_credit,
    state_after_refusal,
)


def test_new_leads_take_units_in_request_order_while_any_are_available() -> None:
    plan = plan_reservations(["a", "b", "c", "d"], {}, [], available=2)
    assert (plan.granted, plan.refused, plan.held, plan.settled) == (["a", "b"], ["c", "d"], [], [])
    assert plan.reserved == ["a", "b"]


def test_held_and_settled_leads_take_nothing_and_duplicates_count_once() -> None:
    statuses = {"held": "open", "paid": "charged", "free": "freed", "gone": "released"}
    plan = plan_reservations(
        ["new", "held", "paid", "held", "free", "gone", "marked"], statuses, ["marked"], 1
    )
    assert plan.granted == ["new"]
    assert plan.held == ["held"]
    assert plan.settled == ["paid", "free", "marked"]
    # A lead released with its batch may be reserved again, credit permitting.
    assert plan.refused == ["gone"]
    assert plan.reserved == ["new", "held"]


def test_no_credit_refuses_every_new_lead_but_still_answers_held_ones() -> None:
    plan = plan_reservations(["a", "b"], {"b": "open"}, [], available=0)
    assert (plan.refused, plan.reserved) == (["a"], ["b"])
    assert plan_reservations(["a"], {}, [], available=-3).refused == ["a"]


@pytest.mark.parametrize(
    ("published", "refused", "due"),
    [("restored", 1, "exhausted"), ("exhausted", 1, None), ("restored", 0, None)],
)
def test_exhausted_is_due_once_on_a_refusal(published: str, refused: int, due: str | None) -> None:
    assert state_after_refusal(published, refused) == due  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("published", "available", "due"),
    [("exhausted", 1, "restored"), ("exhausted", 0, None), ("restored", 5, None)],
)
def test_restored_is_due_when_credit_gives_an_exhausted_account_a_unit(
    published: str, available: int, due: str | None
) -> None:
    assert state_after_credit(published, available) == due  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("final", "chargeable", "action"),
    [
        (True, True, "charge"),
        (True, False, "release"),
        (True, None, "release"),
        (False, None, "leave"),
        (None, None, "release"),  # unknown to ingest: its batch was deleted
    ],
)
def test_reconcile_action(final: bool | None, chargeable: bool | None, action: str) -> None:
    assert reconcile_action(final, chargeable) == action
