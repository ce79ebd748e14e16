"""The scheduler's consumers: for each input topic its spec, strategy included.

The runner (`lc_common.consumer`) is chosen by each spec's strategy:
- `Single` (`batch.events`, `billing.events`): one event at a time, in order;
- `Single(concurrency)` (`probe.retries`, `lead.verdicts`): many events at once,
  each parked in a `Coalescer` that applies them in one write;
- `Bulk` (`leads.accepted`): what one fetch returns, up to `LC_INTAKE_BULK_MAX`,
  goes to the handler at once. Intake must keep up with a 200,000-lead import,
  or a small batch queued behind it in the topic waits for all of it to be read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from lc_common.consumer import Bulk, ConsumerSpec, Single
from lc_common.events import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    PROBE_RETRIES,
    LeadAcceptedV1,
)
from lc_scheduler.coalesce import Coalescer
from lc_scheduler.config import SchedulerSettings
from lc_scheduler.handlers import (
    BatchEvents,
    CreditEvents,
    LeadsAccepted,
    LeadVerdicts,
    ProbeRetries,
)


def scheduler_consumers(
    settings: SchedulerSettings,
    leads: LeadsAccepted,
    retries: ProbeRetries,
    verdicts: LeadVerdicts,
    batch_events: BatchEvents,
    credit_events: CreditEvents,
) -> list[ConsumerSpec[Any]]:
    """Every consumer of the scheduler, in the order a lead lives."""
    concurrent = Single(concurrency=settings.consumer_concurrency)
    coalesced_retries = Coalescer(retries.handle_many, settings.insert_batch_max)
    coalesced_verdicts = Coalescer(verdicts.handle_many, settings.insert_batch_max)
    return [
        ConsumerSpec.of(
            "scheduler",
            LEADS_ACCEPTED,
            _one_at_a_time(leads),
            strategy=Bulk(leads.handle_many, max_bulk=settings.intake_bulk_max),
        ),
        ConsumerSpec.of("scheduler", PROBE_RETRIES, coalesced_retries.handle, strategy=concurrent),
        ConsumerSpec.of("scheduler", LEAD_VERDICTS, coalesced_verdicts.handle, strategy=concurrent),
        ConsumerSpec.of("scheduler", BATCH_EVENTS, batch_events.handle),
        ConsumerSpec.of("scheduler", BILLING_EVENTS, credit_events.handle),
    ]


def _one_at_a_time(leads: LeadsAccepted) -> Callable[[LeadAcceptedV1], Awaitable[None]]:
    """The spec's per-event handler, which a spec must have (the `Bulk` strategy hands
    whole fetches to `handle_many` instead): a bulk of one."""

    async def handle(event: LeadAcceptedV1) -> None:
        await leads.handle_many([event])

    return handle
