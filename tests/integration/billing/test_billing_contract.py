"""Contract: every example message of billing's input topics goes through its handler.

Decoded as the consumer runner decodes (`ConsumerSpec.decode`) and handled by the
handler of each of billing's `ConsumerSpec`s, on the real store and broker.
"""

from __future__ import annotations

import pytest

from lc_billing.bootstrap import bootstrap
from lc_billing.config import BillingSettings
from lc_common.events import LEAD_VERDICTS, LeadVerdictV1
from lc_common.events.contract import examples

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


async def test_every_example_of_every_input_topic_is_handled(
    billing_settings: BillingSettings,
) -> None:
    runtime = await bootstrap(billing_settings)
    try:
        [spec] = runtime.consumers
        assert spec.topic is LEAD_VERDICTS
        verdicts: list[LeadVerdictV1] = []
        for example in examples(spec.topic):
            verdict = spec.decode(example.value)
            await spec.handler(verdict)
            verdicts.append(verdict)
        # All examples are of one lead: its first final verdict costs one unit, the
        # later ones (and the non-final ones) nothing.
        assert len({v.lead_id for v in verdicts}) == 1
        assert sum(v.final for v in verdicts) > 1
        account = verdicts[0].account_id
        assert await runtime.deps.ledger.balance(account) == -1
    finally:
        await runtime.close()
