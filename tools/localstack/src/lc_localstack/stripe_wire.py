"""Stripe's wire formats, as far as the payments simulator speaks them; no I/O.

- Requests are form-encoded with brackets for nesting (`metadata[account_id]=...`,
  `line_items[0][price_data][currency]=aud`): `decode_form` turns them back into
  the JSON shape the API documents.
- Webhooks carry `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
  under the endpoint's `whsec_...` secret: `signature_header` builds it exactly as
  Stripe does, so `stripe.Webhook.construct_event` verifies it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any

_KEY_PART = re.compile(r"\[([^\]]*)\]")


class FormError(ValueError):
    """A form field whose name cannot be a Stripe parameter (bad brackets, mixed shapes)."""


def _split(name: str) -> list[str]:
    head, _, rest = name.partition("[")
    if not head or "]" in head:
        raise FormError(f"parameter name {name!r}")
    parts = [head]
    if rest:
        rest = "[" + rest
        found = _KEY_PART.findall(rest)
        if "".join(f"[{p}]" for p in found) != rest:
            raise FormError(f"parameter name {name!r}")
        parts.extend(found)
    return parts


def _listify(node: Any) -> Any:
    """Turn dicts keyed 0..n-1 (Stripe's array encoding) into lists, depth first."""
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    keys = list(converted)
    if keys and all(k.isdigit() for k in keys):
        indices = sorted(int(k) for k in keys)
        if indices == list(range(len(indices))):
            return [converted[str(i)] for i in indices]
    return converted


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The nested parameters of a Stripe form body; values stay strings, as Stripe gets them."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        parts = _split(name)
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FormError(f"parameter {name!r} nests under a value")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise FormError(f"parameter {name!r} is both a value and an object")
        node[parts[-1]] = value
    result: dict[str, Any] = _listify(root)
    return result


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """`Stripe-Signature` of a webhook body: `t=<timestamp>,v1=<hex HMAC-SHA256>`."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def amount_total(line_items: list[dict[str, Any]]) -> int:
    """The sum of `unit_amount * quantity` over inline-priced line items (smallest unit)."""
    return sum(
        int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in line_items
    )


def new_id(prefix: str) -> str:
    """An object id shaped like a test-mode Stripe id (`cs_test_...`, `evt_...`)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def event(kind: str, obj: dict[str, Any], created: int) -> dict[str, Any]:
    """A v1 snapshot event around `obj`, as Stripe posts it to a webhook endpoint."""
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
        "data": {"object": obj},
    }
