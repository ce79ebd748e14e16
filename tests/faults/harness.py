"""One fault run: its own peers, the whole stack as processes, observers, and the judge.

`FaultRun.start` brings everything up; a test imports batches, injects faults,
waits for the batches to end, then `judge` reads the end state (carrier counts,
downloads, topics, ledger, mailbox) and hands it to `tests.faults.checker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import email
import email.policy
import io
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lc_localstack.peers import free_port
from tests.e2e.stack import BIN, Stack, start_stack
from tests.faults import checker
from tests.faults.faults import OwnPeers, carrier_command
from tests.faults.observe import Poller, Tap
from tests.faults.supervisor import Supervisor

TRUNK_TOPIC = "probe.requests.sim"
TAPPED = ["leads.accepted", TRUNK_TOPIC, "lead.verdicts"]
# How long the judge waits for consumers that rejoin their groups after a fault.
CATCH_UP_SECONDS = 90.0
# Shorter clocks than production, so a fault heals within a test. The probe timeout
# stays longer than a restarted scheduler takes to rejoin its consumer groups (its
# dead predecessor's 30 s session, then the join), as production's 600 s does:
# otherwise it re-dispatches probes whose verdicts merely wait for it to come back.
FAULT_ENV = {
    "LC_PROBE_TIMEOUT_SECONDS": "75",
    "LC_MAX_CALL_SECONDS": "15",
    "LC_PROBE_EXPIRY_SKEW_SECONDS": "5",
    "LC_SWEEP_INTERVAL_SECONDS": "2",
    "LC_LEASE_TTL_SECONDS": "6",
    "LC_LEASE_RENEW_SECONDS": "2",
    "LC_DAILY_HOUR": "0",
    "LC_DAILY_CHECK_INTERVAL_SECONDS": "2",
    "LC_REDRIVE_FINAL_GRACE_SECONDS": "30",
    "LC_REDRIVE_INTERVAL_SECONDS": "20",
    # The prober's trunk back-off must end well before a request expires, as in
    # production (back-off at most 120 s, a request expires 510 s after dispatch):
    # otherwise a run's tail of 503 numbers trips the breaker and every request
    # waiting out the back-off expires, again and again.
    "LC_HEALTH_BACKOFF_MAX_SECONDS": "4",
    # A classifier whose changelog went with the broker restarts after 20 s, not 120 s.
    "LC_CLASSIFIER_RECOVERY_STALL_SECONDS": "20",
    "LC_TOPIC_CHECK_SECONDS": "5",
    # Billing's reconciler charges a reservation whose verdict was lost (F3) once it is
    # 20 s old, not 15 min: the run's catch-up wait is 90 s.
    "LC_BILLING_RECONCILE_AFTER_SECONDS": "20",
    "LC_BILLING_RECONCILE_INTERVAL_SECONDS": "2",
}


def logged_dispatches(workdir: Path) -> dict[str, str]:
    """probe id -> lead id of every dispatch the schedulers logged as acknowledged by the
    broker (`probe_dispatched`, written after the publish and its mark are done)."""
    found: dict[str, str] = {}
    for path in workdir.glob("scheduler*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if '"probe_dispatched"' not in line:
                continue
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                found[entry["probe_id"]] = entry["lead_id"]
    return found


def leads_csv(count: int, first: int = 0, invalid_first: int = 0) -> bytes:
    """A CSV of `count` AU mobile numbers whose last digits cycle 0-9 (the simulator's rules),
    after `invalid_first` rows that are rejected at import."""
    out = io.StringIO()
    out.write("name,phone\n")
    for i in range(invalid_first):
        out.write(f"bad {i},not a number {i}\n")
    for i in range(first, first + count):
        out.write(f"lead {i},041{i:07d}\n")
    return out.getvalue().encode()


@dataclass
class FaultRun:
    """The stack of one fault test and what watches it."""

    workdir: Path
    peers: OwnPeers
    stack: Stack
    api: httpx.AsyncClient
    tap: Tap
    poller: Poller
    granted: int
    supervisor: Supervisor
    account_id: str = ""
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def start(
        cls,
        workdir: Path,
        *,
        credit: int = 100_000,
        extra_env: dict[str, str] | None = None,
        replicas: dict[str, str] | None = None,
    ) -> FaultRun:
        peers = OwnPeers.start(workdir)
        control = free_port()
        carrier = [
            str(BIN / "python"),
            str(Path.cwd() / "tests/faults/carrier.py"),
            "--port",
            "{sip_port}",
            "--control-port",
            str(control),
            "--rules",
            str(Path.cwd() / "sim/carrier/rules.yaml"),
        ]
        try:
            stack = await asyncio.to_thread(
                start_stack,
                workdir,
                peers.env,
                carrier=carrier,
                extra_env={**FAULT_ENV, **(extra_env or {})},
                replicas=replicas,
            )
        except BaseException:
            peers.stop()
            raise
        stack.ports["carrier-control"] = control
        try:
            account = await asyncio.to_thread(
                stack.create_account, "Fault Centre", "faults@example.com", "fault-password", credit
            )
        except BaseException:  # leave no processes behind a run that never started
            await asyncio.to_thread(stack.stop)
            peers.stop()
            raise
        api = httpx.AsyncClient(
            base_url=stack.url("gateway"),
            headers={"Authorization": f"Bearer {account['api_key']}"},
            timeout=30,
        )
        tap = Tap(peers.bootstrap, TAPPED)
        tap.start()
        poller = Poller(api)
        poller.start()
        supervisor = Supervisor(stack)
        supervisor.start()
        return cls(
            workdir, peers, stack, api, tap, poller, credit, supervisor, account["account_id"]
        )

    async def close(self) -> None:
        await asyncio.to_thread(self.supervisor.stop)
        await self.poller.stop()
        await self.tap.stop()
        await self.api.aclose()
        await asyncio.to_thread(self.stack.stop)
        self.peers.stop()

    def logs(self) -> str:
        return "\n".join(self.stack.log(name, 3000) for name in self.stack.processes)

    async def import_batch(self, content: bytes, name: str) -> str:
        """Upload a batch (retrying while the gateway or ingest is down); its id."""
        for _ in range(60):
            try:
                created = await self.api.post(
                    "/api/v1/batches",
                    files={"file": (f"{name}.csv", content, "text/csv")},
                    data={"name": name, "reference": name, "phone_column": "phone"},
                    headers={"Idempotency-Key": f"import-{name}"},
                    timeout=120,
                )
                if created.status_code == 201:
                    batch_id: str = created.json()["id"]
                    self.names[batch_id] = name
                    return batch_id
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)
        raise AssertionError(f"could not import {name}")

    async def batch(self, batch_id: str) -> dict[str, Any]:
        """The batch as the API shows it; {} while the gateway or ingest does not answer."""
        try:
            response = await self.api.get(f"/api/v1/batches/{batch_id}", timeout=5)
            return dict(response.json()) if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            return {}

    async def wait_batch(
        self, batch_id: str, check: Any, within: float, what: str
    ) -> dict[str, Any]:
        """Poll the batch until `check(batch)` holds; AssertionError after `within` s."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batch = await self.batch(batch_id)
            if batch and check(batch):
                return batch
            await asyncio.sleep(0.5)
        raise AssertionError(f"timed out after {within}s waiting for {what}: {batch}")

    async def set_paused(self, batch_id: str, paused: bool) -> None:
        response = await self.api.patch(f"/api/v1/batches/{batch_id}", json={"paused": paused})
        assert response.status_code == 200, response.text

    async def download(self, batch_id: str) -> list[dict[str, str]]:
        response = await self.api.get(f"/api/v1/batches/{batch_id}/download", timeout=60)
        assert response.status_code == 200, response.text
        return list(csv.DictReader(io.StringIO(response.text)))

    async def mails_once_settled(self, expected: set[str]) -> list[str]:
        """The mailbox's subjects, once every expected one arrived (or the wait ran out).

        A notifier restarted after kill -9 first waits out its dead predecessor's
        session in the consumer group; the final emails follow.
        """
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while True:
            subjects = self.mail_subjects()
            if expected <= set(subjects) or time.monotonic() > deadline:
                return subjects
            await asyncio.sleep(1)

    async def charged_once_settled(self, final_leads: int) -> int:
        """Units deducted, once billing has caught up with the verdicts (or given up).

        A billing process restarted after kill -9 first waits out its dead
        predecessor's session in the consumer group; its charges then follow.
        """
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while True:
            transactions = await self.all_transactions()
            charged = sum(abs(int(t["units"])) for t in transactions if t["kind"] == "deduction")
            if charged >= final_leads or time.monotonic() > deadline:
                return charged
            await asyncio.sleep(1)

    async def chargeable_in_ingest(self, lead_ids: list[str]) -> int:
        """How many of these leads ingest holds final and chargeable (its internal API)."""
        token = {"X-LC-Internal-Token": self.stack.env["LC_INTERNAL_TOKEN"]}
        found = 0
        async with httpx.AsyncClient(base_url=self.stack.url("ingest"), headers=token) as ingest:
            for start in range(0, len(lead_ids), 1000):
                response = await ingest.post(
                    "/internal/v1/leads/states", json={"lead_ids": lead_ids[start : start + 1000]}
                )
                assert response.status_code == 200, response.text
                found += sum(
                    1 for lead in response.json()["leads"] if lead["final"] and lead["chargeable"]
                )
        return found

    async def all_transactions(self) -> list[dict[str, Any]]:
        """Every transaction of the account, following the API's pages."""
        found: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"limit": 500}
        while True:
            page = (await self.api.get("/api/v1/billing/transactions", params=params)).json()
            found.extend(page["transactions"])
            if not page.get("next_cursor"):
                return found
            params["cursor"] = page["next_cursor"]

    def mail_subjects(self) -> list[str]:
        subjects = []
        for path in sorted((self.workdir / "mail").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            subjects.append(str(message["Subject"]))
        return subjects

    async def judge(
        self,
        expected: dict[str, str],
        *,
        strict_attempts: bool = True,
        broker_lost: bool = False,
        dead_letters: dict[str, int] | None = None,
        settle: float = 5.0,
    ) -> checker.Report:
        """Read the end state of the batches (id -> expected terminal status) and check it.

        `strict_attempts`: also calls <= attempts recorded in the downloads, for runs
        in which no call's signalling can be lost (no prober killed, no broker loss).
        `broker_lost`: events published before the loss may be gone before the tap read
        them, so leads are numbered from the downloads too, the chargeable ones are
        counted from ingest's record, and I7 (every accepted lead announced on
        `leads.accepted`) is not judged from the tap.
        """
        report = checker.Report()
        # Billing, the notifier and the tap follow the verdicts on their own consumers.
        await asyncio.sleep(settle)
        stats = await carrier_command(self.stack, "stats")
        calls: dict[str, int] = stats["calls"]
        accepted_events = self.tap.of("leads.accepted", "lead_id", "e164")
        number_of = {e["lead_id"]: e["e164"] for e in accepted_events}
        # The tap reads the request topic behind the prober; what a broker lost before
        # the tap read it is in the scheduler's log of acknowledged dispatches.
        probes = {
            p["probe_id"]: p["lead_id"] for p in self.tap.of(TRUNK_TOPIC, "probe_id", "lead_id")
        }
        tapped = len(probes)
        probes.update(logged_dispatches(self.stack.workdir))
        dispatches = Counter(probes.values())
        verdicts = [
            checker.Verdict(
                v["event_id"],
                v["lead_id"],
                v["status"],
                v["final"],
                v["attempt"],
                v.get("chargeable", False),
            )
            for v in self.tap.of("lead.verdicts", "lead_id", "status", "final", "attempt")
        ]
        attempts: Counter[str] = Counter()
        final_leads = 0
        finished_names = []
        for batch_id, status in expected.items():
            batch = await self.batch(batch_id)
            report.add("I6 terminal", checker.check_terminal(batch, status))
            rows = await self.download(batch_id)
            if status == "finished":
                report.add("I1 download", checker.check_download_final(rows))
                finished_names.append(self.names[batch_id])
            for row_number, row in enumerate(rows, start=1):
                cell = row.get("cleanse_e164")
                # Keyed as the carrier keys calls: "+<digits>", whatever the cell shows.
                number = "+" + "".join(c for c in cell if c.isdigit()) if cell else None
                if number and broker_lost:
                    # A lead's id is its batch and its row number (rejected rows count).
                    number_of.setdefault(f"{batch_id}:{row_number:09d}", number)
                if row.get("cleanse_status") in checker.FINAL_STATUSES:
                    final_leads += 1
                if number and row.get("cleanse_status") != "rejected":
                    attempts[number] += int(row.get("cleanse_attempts") or 0)
            announced = [lead for lead in number_of if lead.startswith(f"{batch_id}:")]
            if (
                not broker_lost
                and batch.get("accepted") is not None
                and len(announced) != batch["accepted"]
            ):
                report.add(
                    "I7 outbox",
                    [
                        f"{batch_id}: {len(announced)} leads.accepted"
                        f" for {batch['accepted']} accepted"
                    ],
                )
            if status == "finished":
                if broker_lost:  # judged on the leads whose verdicts the tap saw at all
                    seen = {v.lead_id for v in verdicts}
                    announced = [lead for lead in announced if lead in seen]
                report.add("I1 verdicts", checker.check_final_once(announced, verdicts))
        by_number = checker.per_number(dict(dispatches), number_of)
        report.add(
            "I2 dispatches", checker.check_calls_within(calls, by_number, "dispatched probes")
        )
        if strict_attempts:
            report.add(
                "I2 attempts", checker.check_calls_within(calls, attempts, "attempts recorded")
            )
        report.add("I5 counters", checker.check_counters(self.poller.samples))
        batch_leads = [
            lead for lead in number_of if any(lead.startswith(f"{b}:") for b in expected)
        ]
        if broker_lost:  # verdicts from before the loss may be gone: ingest's record decides
            chargeable = await self.chargeable_in_ingest(batch_leads)
        else:
            chargeable = checker.chargeable_final(verdicts, batch_leads)
        charged = await self.charged_once_settled(chargeable)
        balance = int((await self.api.get("/api/v1/billing/balance")).json()["balance"])
        balances = [*self.poller.balances, balance]
        report.add(
            "I3/I4 billing", checker.check_charges(charged, chargeable, balances, self.granted)
        )
        wanted = {f"Batch finished: {name}": 1 for name in finished_names}
        subjects = await self.mails_once_settled(set(wanted))
        daily = {s for s in subjects if s.startswith("Leads processed on ")}
        wanted.update({s: 1 for s in daily})
        # A daily summary is due only after the account's local day has ended, which no
        # run of a few minutes reaches: here each one sent must be sent once; that it is
        # sent when due is the notifier's tests' job (they drive its clock).
        report.add("I9 mails", checker.check_mails(subjects, wanted))
        if dead_letters:
            from tests.faults.faults import count_records

            dlqs = [f"{t}.dlq" for t in dead_letters]
            deadline = time.monotonic() + CATCH_UP_SECONDS
            while True:
                parked = await count_records(self.peers.bootstrap, dlqs)
                short = [t for t, n in dead_letters.items() if parked.get(f"{t}.dlq", 0) < n]
                if not short or time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
            report.add(
                "poison",
                checker.check_dead_letters(
                    {t.removesuffix(".dlq"): n for t, n in parked.items()}, dead_letters
                ),
            )
        report.figures = {
            "calls_at_carrier": sum(calls.values()),
            "silenced_invites": sum(stats["silenced"].values()),
            "cancels": sum(stats["cancels"].values()),
            "dispatched_probes": sum(dispatches.values()),
            "dispatches_missed_by_tap": sum(dispatches.values()) - tapped,
            "attempts_recorded": sum(attempts.values()),
            "final_leads": final_leads,
            "chargeable_final_leads": chargeable,
            "charged": charged,
            "balance": balance,
            "counter_polls": len(self.poller.samples),
            "unavailable_polls": self.poller.unavailable,
            "mails": dict(Counter(subjects)),
            "restarted_by_supervisor": dict(self.supervisor.restarts),
        }
        return report
