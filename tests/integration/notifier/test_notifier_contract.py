"""Contract: every example message of the notifier's input topics goes through its handlers.

Decoded as the consumer runner decodes (`ConsumerSpec.decode`) and handled by the
handler of each of the notifier's `ConsumerSpec`s, on the real store, broker and
SMTP server, with HTTP stand-ins for gateway and ingest that know the examples'
account and batch.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from tests.integration.notifier.support import gateway_app, ingest_app
from tests.support import serving

from lc_common.clock import ManualClock
from lc_common.events import BATCH_EVENTS, BILLING_EVENTS, LEAD_VERDICTS
from lc_common.events.contract import examples
from lc_localstack.mailbox import running_mailbox
from lc_localstack.peers import free_port
from lc_notifier.bootstrap import build
from lc_notifier.config import NotifierSettings

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.smtp]


async def test_every_example_of_every_input_topic_is_handled(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    batch_event = json.loads(examples(BATCH_EVENTS)[0].value)
    account_id, batch_id = batch_event["account_id"], batch_event["batch_id"]
    account = {"id": account_id, "name": "Example", "email": "ops@example.test"}
    account["time_zone"] = "Australia/Sydney"
    counters = dict.fromkeys(("imported", "accepted", "connected", "processed"), 1) | dict.fromkeys(
        ("rejected", "disconnected", "indeterminate", "retry", "remaining"), 0
    )
    batch = {
        "id": batch_id,
        "account_id": account_id,
        "name": batch_event["name"],
        "reference": batch_event["reference"],
        "status": "finished",
        "finished_at": "2026-03-02T07:04:00+00:00",
        **counters,
    }
    ingest, _ = ingest_app({batch_id: batch}, [])
    gateway_port, ingest_port = free_port(), free_port()
    async with (
        running_mailbox(tmp_path / "mail") as mailbox,
        serving(gateway_app({account_id: account}), gateway_port) as gateway_url,
        serving(ingest, ingest_port) as ingest_url,
    ):
        settings = NotifierSettings(
            http_port=free_port(),
            gateway_url=gateway_url,
            ingest_url=ingest_url,
            public_url="https://app.example",
            smtp_port=mailbox.port,
        )
        clock = ManualClock(datetime(2026, 3, 2, 12, tzinfo=UTC))
        runtime = await build(settings, clock)
        try:
            specs = {spec.topic.name: spec for spec in runtime.consumers}
            assert set(specs) == {BATCH_EVENTS.name, LEAD_VERDICTS.name, BILLING_EVENTS.name}
            for topic in (BATCH_EVENTS, LEAD_VERDICTS, BILLING_EVENTS):
                spec = specs[topic.name]
                for example in examples(topic):
                    await spec.handler(spec.decode(example.value))
            # One `finished` example: one final email; one `exhausted` example: one
            # "out of credit" email; both to the account.
            mails = mailbox.messages()
            assert sorted(m["X-LC-Notification"].split(":")[0] for m in mails) == [
                "credit",
                "final",
            ]
            assert {m["To"] for m in mails} == {"ops@example.test"}
            # Final verdicts made the day's summary due for the account.
            pending = await runtime.deps.activity.pending(date(2026, 3, 10))
            assert [a for a, _ in pending] == [account_id]
        finally:
            await runtime.close()
