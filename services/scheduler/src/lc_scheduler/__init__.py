"""The scheduler: routes leads to trunks, paces dispatch, holds retries, honours pause and windows.

Run: `lc-scheduler` (`lc_scheduler.main:run`), HTTP on `LC_HTTP_PORT` (8002):
`/healthz`, `/readyz`, `/metrics`, `POST|GET /internal/v1/redrive`.

How it works
- Consumes `leads.accepted`, `probe.retries`, `lead.verdicts`, `batch.events`,
  `billing.events` (groups `scheduler.*`, one runner each, its strategy on its spec in
  `consumers`, a handler module per topic in `handlers/`, dead letters to `<topic>.dlq`);
  publishes `ProbeRequestV1` to `probe.requests.<trunk>`, and after each round
  `LeadsDispatchedV1` per batch to `leads.dispatched` (ingest shows `testing`). Accepted leads are
  read in bulks (the `Bulk` consumer strategy, up to `LC_INTAKE_BULK_MAX` per
  fetch, two bulks in flight) and stored with one write per bulk, so a small
  batch queued in the topic behind a 200,000-lead one is reached in about a
  minute and a half rather than five (`bench/scheduler_fairness.py`).
  Impossible events (a number that is not E.164, attempt 0, no batch id) fail
  their contract at decode and are dead-lettered as undecodable.
- MongoDB (database `<LC_MONGODB_DATABASE>_scheduler`) is the record:
  `dispatch_entries` (`_id` = lead id; state queued/outstanding/final, attempt,
  due_at, trunk, probe_id, sent, zones, fence; indexes (batch_id, state, due_at) and
  (state, due_at)) and `batches` (`_id` = batch id; pause flags, active, failed,
  release_pending, fence; index (active)). Every write is by `_id`, in bulk, and
  fenced: it matches only documents whose `fence` is at most the leader's lease
  epoch and stamps it; a new leader first stamps every open entry and batch with
  its epoch, so a stale leader's write matches nothing and raises
  `LeadershipLost` (the process exits and restarts as a standby).
- `schedule.Schedule` is the working copy of the open entries, loaded at startup:
  per-batch heaps by due time and outstanding probes per trunk (`working_copy`), so a
  round never scans the store. Its state is read and changed only inside
  `async with schedule.transaction() as tx:` (which holds its lock), through `tx`'s
  methods; writes go to the store first, then to the copy. One process owns it:
  replicas elect a leader through a lease in MongoDB (`leadership`, collection
  `leases`); only the holder loads the schedule, consumes and dispatches, and a
  standby takes over when the lease runs out or is released.
- `dispatcher.Dispatcher` rounds (every `LC_DISPATCH_INTERVAL_SECONDS`, and at
  once when a verdict frees room): free room per trunk = its bound minus its
  outstanding probes, the bound being channels + ceil(cps x
  `LC_DISPATCH_LOOP_SECONDS`) (Little's law: what the trunk holds plus what it
  starts while a verdict comes back; at least ceil(channels x
  `LC_OUTSTANDING_FACTOR`); `lc_scheduler_probe_loop_seconds` shows the real
  dispatch-to-verdict time); handed out one lead at a time in
  turns over accounts, then batches (`domain.fairness`); trunk by prefix and
  most free room, avoiding `avoid_trunk` where another trunk carries the number
  (`domain.routing`); leads outside their calling window move to its next
  opening (`domain.windows`). Sweeps re-dispatch outstanding probes unanswered
  after `LC_PROBE_TIMEOUT_SECONDS` (new probe id, same attempt).
- Credit (`credit`): before a picked lead is stored as outstanding, billing
  reserves a unit for it (`POST {LC_BILLING_URL}/internal/v1/reservations`, one
  request per account per round, outside any schedule transaction). Only reserved
  leads are dispatched; settled ones are closed without a call; refused ones go
  back to their queue and block the account until `billing.events` says
  `restored` (or a re-check every `LC_CREDIT_RECHECK_SECONDS` is granted). If
  billing does not answer, nothing of that account is dispatched that round.
  A `failed` or `deleted` batch drops its entries and its reservations are
  released (`POST .../reservations/release`, asked until billing answers).
  Metrics `lc_scheduler_reservations_total{outcome}`, `lc_scheduler_blocked_accounts`.
- Outbox (`relay`): an outstanding entry is stored with `sent` false; the relay
  (after each round, at startup, in each sweep) publishes its `ProbeRequestV1`
  (with the leader's `epoch` and `expires_at` = dispatched_at +
  `LC_PROBE_TIMEOUT_SECONDS` - `LC_MAX_CALL_SECONDS` - `LC_PROBE_EXPIRY_SKEW_SECONDS`,
  checked positive at startup, and `dispatched_at`) and marks it sent. billing
  and ingest are called over one pooled HTTP client.
- Pause (`handlers.batch_events`): a `paused` batch is not dispatched, and its
  probes dispatched at or before the pause are void (the prober drops their
  requests, `lc_prober.domain.pauses`): their leads are queued again, same attempt and
  reservation, due `LC_PAUSE_REQUEUE_AFTER_SECONDS` (default max call + skew)
  after the pause, so a call a prober started before it learnt of the pause has
  answered first (`lc_scheduler_pause_voided_total`).
- `redrive.Redriver` pages through ingest's open leads (startup and on demand):
  inserts unknown ones that ingest holds non-final, re-opens ones final here for
  longer than `LC_REDRIVE_FINAL_GRACE_SECONDS` (ingest never saw the verdict). A
  retry for a lead with no entry here is skipped, never adopted
  (`lc_scheduler_unknown_lead_retries_total`).
- `retention.Retention` keeps the retention clock (from `batch.events`): 42 days
  (`LC_RETENTION_DAYS`) after a batch finished, failed or was paused it asks ingest
  to delete it (`DELETE /internal/v1/batches/{id}`) and drops its entries.
- Calling windows are enforced in production, or wherever
  `LC_CALLING_WINDOWS_ENFORCED=true`; per-country overrides in
  `LC_CALLING_WINDOWS` (JSON) or `LC_CALLING_WINDOWS_FILE` (YAML).
"""
