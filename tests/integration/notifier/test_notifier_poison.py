"""A poison event on each of the notifier's input topics: parked, counted, logged; it goes on."""

from __future__ import annotations

import pytest
from tests.integration.notifier.support import consumed
from tests.integration.notifier.test_notifier_service import (  # the notifier's stand-ins
    Stack,
    _finished,
    _verdict,
    stack,  # noqa: F401 (the fixture)
)
from tests.support import poison_is_parked_and_the_next_event_handled, serving

from lc_common.events import BATCH_EVENTS, LEAD_VERDICTS
from lc_notifier.main import create_app

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.smtp]


async def test_each_input_topic_parks_poison_and_goes_on(stack: Stack) -> None:  # noqa: F811
    settings = stack.settings
    app = create_app(settings, stack.clock)
    async with serving(app, settings.http_port):
        # `finished` for a batch ingest does not know: no final email can ever be written.
        await poison_is_parked_and_the_next_event_handled(
            settings,
            stack.publisher,
            BATCH_EVENTS,
            impossible=_finished(batch_id="bat_nowhere").model_dump(mode="json"),
            good=_finished(),
            handled=lambda: len(stack.mailbox.messages()) == 1,
        )
        ok = consumed(LEAD_VERDICTS.name, "notifier.lead-verdicts")
        # Attempt 0 is refused by the verdict's contract, before the handler.
        impossible = _verdict("acc_busy", 1).model_dump(mode="json")
        impossible["attempt"] = 0
        await poison_is_parked_and_the_next_event_handled(
            settings,
            stack.publisher,
            LEAD_VERDICTS,
            impossible=impossible,
            good=_verdict("acc_busy", 2),
            handled=lambda: consumed(LEAD_VERDICTS.name, "notifier.lead-verdicts") - ok >= 1,
            impossible_reason="undecodable",
        )
        assert app.state.workers.alive
