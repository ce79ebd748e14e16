"""What the scheduler does with each event it consumes: one module per topic.

| topic | handler |
|---|---|
| `leads.accepted` | `leads.LeadsAccepted.handle_many` (bulks of one fetch) |
| `probe.retries` | `retries.ProbeRetries.handle_many` (coalesced, see `coalesce`) |
| `lead.verdicts` | `verdicts.LeadVerdicts.handle_many` (coalesced) |
| `batch.events` | `batch_events.BatchEvents.handle` |
| `billing.events` | `credit_events.CreditEvents.handle` |

Handlers take typed events; decoding, retries, dead-lettering and commits belong
to the consumer runner (`consumers`). Every handler reads and changes the
schedule only inside one of its transactions, and is idempotent (see
`domain.entries` and `domain.batches`). Impossible events (a number that is not
E.164, attempt 0, a lead id outside its batch) are refused by the event
contracts in `lc_common.events` at decode and never reach a handler, so no
handler checks them again.
"""

from lc_scheduler.handlers.batch_events import BatchEvents
from lc_scheduler.handlers.credit_events import CreditEvents
from lc_scheduler.handlers.leads import LeadsAccepted
from lc_scheduler.handlers.retries import ProbeRetries
from lc_scheduler.handlers.verdicts import LeadVerdicts

__all__ = ["BatchEvents", "CreditEvents", "LeadVerdicts", "LeadsAccepted", "ProbeRetries"]
