"""Contract: every example message of billing's input topics goes through its handler.

Decoded as the consumer runner decodes (`ConsumerSpec.decode`) and handled by the
handler of each of billing's `ConsumerSpec`s, on the real store and broker.
"""

from __future__ import annotations

import pytest

from lc_billing import handlers
from lc_billing.adapters.ledger import Balance
from lc_billing.bootstrap import build
from lc_billing.config import BillingSettings
from lc_common.events import LEAD_VERDICTS
from lc_common.events.contract import examples

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


async def test_every_example_of_every_input_topic_is_handled(
    billing_settings: BillingSettings,
) -> None:
    runtime = await build(billing_settings)
    try:
        [spec] = runtime.consumers
        assert spec.topic is LEAD_VERDICTS
        decoded = [spec.decode(example.value) for example in examples(spec.topic)]
        # All examples are of one lead, which holds a reservation.
        assert len({v.lead_id for v in decoded}) == 1
        account, lead = decoded[0].account_id, decoded[0].lead_id
        await handlers.grant(runtime.deps, account, 1, "contract")
        await handlers.reserve(runtime.deps, account, [(lead, decoded[0].batch_id)])
        for verdict in decoded:
            await spec.handler(verdict)
        # Its final verdicts settle it once, by what they say: a charge if one is
        # chargeable, else the unit goes back.
        charged = any(v.final and v.chargeable for v in decoded)
        assert sum(v.final for v in decoded) > 1
        assert await runtime.deps.ledger.balance(account) == Balance(
            balance=0 if charged else 1, reserved=0, available=0 if charged else 1
        )
    finally:
        await runtime.close()
