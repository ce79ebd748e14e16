"""The simulator's Stripe wire formats against the official `stripe` library itself."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlencode

import pytest
import stripe
from stripe._encode import _api_encode

from lc_localstack.stripe_wire import FormError, amount_total, decode_form, event, signature_header

SECRET = "whsec_unit_test_secret"


def test_a_signature_built_here_is_one_construct_event_accepts() -> None:
    payload = json.dumps(event("checkout.session.completed", {"id": "cs_1"}, 1)).encode()
    header = signature_header(payload, SECRET, int(time.time()))
    verified = stripe.Webhook.construct_event(payload, header, SECRET)
    assert verified.type == "checkout.session.completed"
    assert verified.data.object["id"] == "cs_1"
    # Byte for byte what the library computes for the same timestamp.
    t = int(header.split(",")[0][2:])
    assert header == stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET, t)


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        (lambda p, h: (p.replace(b"cs_1", b"cs_2"), h), "body changed"),
        (lambda p, h: (p, signature_header(p, "whsec_other", int(time.time()))), "wrong secret"),
        (lambda p, h: (p, signature_header(p, SECRET, int(time.time()) - 3600)), "too old"),
        (lambda p, h: (p, ""), "no header"),
    ],
)
def test_construct_event_refuses_what_the_simulator_did_not_sign(tamper: object, why: str) -> None:
    payload = json.dumps(event("checkout.session.completed", {"id": "cs_1"}, 1)).encode()
    header = signature_header(payload, SECRET, int(time.time()))
    body, sig = tamper(payload, header)  # type: ignore[operator]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sig, SECRET)


def test_the_form_the_library_sends_decodes_to_the_params_given() -> None:
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "aud",
                    "unit_amount": 5,
                    "product_data": {"name": "Lead Cleanser credit"},
                },
                "quantity": 300,
            }
        ],
        "client_reference_id": "pur_1",
        "metadata": {"account_id": "acc_1", "purchase_id": "pur_1", "units": "300"},
        "success_url": "https://app/billing/return?session_id={CHECKOUT_SESSION_ID}",
    }
    # The encoding the library applies before it sends a request, through the wire.
    wire = urlencode(list(_api_encode(params)))
    decoded = decode_form(parse_qsl(wire, keep_blank_values=True))
    assert decoded["line_items"][0]["price_data"]["product_data"]["name"] == "Lead Cleanser credit"
    assert decoded["line_items"][0]["quantity"] == "300"
    assert decoded["metadata"] == {"account_id": "acc_1", "purchase_id": "pur_1", "units": "300"}
    assert decoded["success_url"] == params["success_url"]
    assert amount_total(decoded["line_items"]) == 1500


def test_decode_form_reads_a_raw_body_and_refuses_broken_names() -> None:
    raw = "a[0][b]=1&a[1][b]=2&m[k]=v&x="
    assert decode_form(parse_qsl(raw, keep_blank_values=True)) == {
        "a": [{"b": "1"}, {"b": "2"}],
        "m": {"k": "v"},
        "x": "",
    }
    for broken in ("a[b", "[a]", "a]b[", "a[b]c"):
        with pytest.raises(FormError):
            decode_form([(broken, "1")])
    with pytest.raises(FormError):
        decode_form([("a", "1"), ("a[b]", "2")])
