"""Import at the speed of parsing: ingest's import against a bare parse loop on one file.

    uv run python bench/import_ratio.py [--rows 200000] [--rows 1000000]

Each size gets one CSV of realistic width (about 60 bytes a row: id, first and last
name, an AU phone number written in one of several ways people write them, suburb,
state, postcode, source; about 2% of the numbers are invalid and 2% repeat an earlier
number in another format). Then, side by side in this run:

- **bare loop**, in this process: `csv` + `phonenumbers` (parse, `is_valid_number`,
  format E.164) + a `set` for duplicates. What parsing and checking alone cost.
- **import**, through the real `lc-ingest` process on its own broker (Tansu) and store
  (nx-27017), both started here: the file is posted to ingest's upload route
  (`POST /internal/v1/batches`, as the gateway does) and the batch polled until its
  import is done (`imported == rows` and no longer `importing`). Time runs from the
  start of the upload to that moment: receive, parse, check, dedupe, store, count,
  publish.

It prints rows/s of each, the ratio (goal: >= 0.5 at 200,000 rows), and ingest's
peak resident memory (`VmHWM` of the process, goal: <= 250 MB at 1,000,000 rows).
To show what bounds the import it also prints, for the import's wall time, how long
each pipeline stage was at work (`lc_ingest_import_stage_seconds`) and the CPU that
ingest, the store and the broker used: on a 2-core box ingest runs at one full core
(its judging thread shares the GIL with storing and publishing).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.stack import BIN, Stack

from lc_localstack.peers import Peer, free_port, start_broker, start_store
from support.proc import cpu_seconds, metric_sums, peak_rss_mb

TOKEN = "bench-internal-token"
ACCOUNT = "acc_bench"
TIMEOUT = 3600.0

FIRST = ("Olivia", "Jack", "Charlotte", "Noah", "Amelia", "Liam", "Isla", "Oliver", "Mia", "Leo")
LAST = ("Nguyen", "Smith", "Williams", "Brown", "Jones", "Tran", "Wilson", "Taylor", "Lee")
PLACES = (
    ("Parramatta", "NSW", "2150"),
    ("Fitzroy", "VIC", "3065"),
    ("Toowong", "QLD", "4066"),
    ("Fremantle", "WA", "6160"),
    ("Glenelg", "SA", "5045"),
    ("Sandy Bay", "TAS", "7005"),
)
# National significant numbers in AU ranges phonenumbers holds valid: mobiles, landlines.
AREAS = ("2 9", "3 9", "7 3", "8 9", "2 4")
SOURCES = ("web form", "expo 2026", "referral", "purchased list", "call back")
BAD = ("0412 345", "n/a", "", "041234567890", "13 00", "phone later", "000")


def national(rng: random.Random) -> str:
    """A valid AU number without its trunk prefix: `412345678` or `293744000`."""
    if rng.random() < 0.7:
        return f"4{rng.choice('0123')}{rng.randrange(10**7):07d}"
    area = rng.choice(AREAS).replace(" ", "")
    return f"{area}{rng.randrange(10**7):07d}"


def written(nsn: str, rng: random.Random) -> str:
    """The number as a person might have typed it."""
    style = rng.randrange(7)
    if nsn.startswith("4"):
        spaced = f"0{nsn[:3]} {nsn[3:6]} {nsn[6:]}"
    else:
        spaced = f"(0{nsn[0]}) {nsn[1:5]} {nsn[5:]}"
    return (
        spaced,
        f"0{nsn}",
        f"+61{nsn}",
        f"+61 {nsn[:3]} {nsn[3:6]} {nsn[6:]}",
        f"61{nsn}",
        f"0{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}",
        spaced,
    )[style]


def write_csv(path: Path, rows: int, seed: int = 12) -> None:
    """`rows` data rows (plus a header), about 60 bytes each."""
    rng = random.Random(seed)
    seen: list[str] = []
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["id", "first_name", "last_name", "phone", "suburb", "state", "postcode", "source"]
        )
        for i in range(rows):
            luck = rng.random()
            if luck < 0.02:
                phone = rng.choice(BAD)
            elif luck < 0.04 and seen:
                phone = written(rng.choice(seen), rng)
            else:
                nsn = national(rng)
                if len(seen) < 10_000:
                    seen.append(nsn)
                phone = written(nsn, rng)
            place = rng.choice(PLACES)
            writer.writerow(
                [
                    100_000 + i,
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    phone,
                    *place,
                    rng.choice(SOURCES),
                ]
            )


@dataclass
class Bare:
    rows: int
    valid: int
    seconds: float


def bare_loop(path: Path) -> Bare:
    """csv + phonenumbers parse/validate/format + a set: the floor an import can reach."""
    began = time.perf_counter()
    seen: set[str] = set()
    rows = valid = 0
    with path.open(newline="") as f:
        reader = csv.reader(f)
        column = next(reader).index("phone")
        for cells in reader:
            rows += 1
            try:
                number = phonenumbers.parse(cells[column], "AU")
            except phonenumbers.NumberParseException:
                continue
            if not phonenumbers.is_valid_number(number):
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in seen:
                seen.add(e164)
                valid += 1
    return Bare(rows, valid, time.perf_counter() - began)


STAGES = "lc_ingest_import_stage_seconds_sum"


@dataclass
class Imported:
    seconds: float
    batch: dict[str, object]
    rss_before_mb: float
    rss_peak_mb: float
    stage_seconds: dict[str, float]
    cpu_seconds: dict[str, float]


def import_through_ingest(stack: Stack, peers: list[Peer], path: Path, rows: int) -> Imported:
    """Upload the file to ingest and poll the batch until its import is done; what each
    import stage and each process (ingest, store, broker) spent meanwhile."""
    pid = stack.processes["ingest"].pid
    pids = {"ingest": pid} | {peer.name: peer.process.pid for peer in peers}
    rss_before = peak_rss_mb(pid)
    metrics_url = stack.url("ingest") + "/metrics"
    stages_before = metric_sums(metrics_url, STAGES, "stage")
    cpu_before = {name: cpu_seconds(p) for name, p in pids.items()}
    headers = {"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": ACCOUNT}
    with httpx.Client(base_url=stack.url("ingest"), headers=headers, timeout=600) as api:
        began = time.perf_counter()
        with path.open("rb") as upload:
            created = api.post(
                "/internal/v1/batches",
                files={"file": (path.name, upload, "text/csv")},
                data={"name": path.stem, "reference": path.stem, "phone_column": "phone"},
            )
        created.raise_for_status()
        batch_id = created.json()["id"]
        deadline = began + TIMEOUT
        while True:
            batch = api.get(f"/internal/v1/batches/{batch_id}").json()
            if batch["status"] == "failed":
                raise RuntimeError(f"the import failed: {batch['failure_reason']}")
            if batch["imported"] == rows and batch["status"] != "importing":
                break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"import not done after {TIMEOUT} s: {batch}")
            time.sleep(0.1)
        seconds = time.perf_counter() - began
    stages = metric_sums(metrics_url, STAGES, "stage")
    return Imported(
        seconds,
        batch,
        rss_before,
        peak_rss_mb(pid),
        {name: total - stages_before.get(name, 0.0) for name, total in stages.items()},
        {name: cpu_seconds(p) - cpu_before[name] for name, p in pids.items()},
    )


def _figures(seconds: dict[str, float], wall: float) -> str:
    """`name 12.3 (0.31)` per entry: seconds and their share of the wall time."""
    return ", ".join(f"{name} {s:.1f} ({s / wall:.2f})" for name, s in sorted(seconds.items()))


def start_ingest(workdir: Path, broker: str, store: str) -> Stack:
    """`lc-ingest` as its own process on the given peers (as tests/e2e/stack.py does)."""
    tag = uuid.uuid4().hex[:8]
    stack = Stack(
        workdir=workdir,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("LC_")},
            "PYTHONUNBUFFERED": "1",
            "KAFKA_BOOTSTRAP_SERVERS": broker,
            "MONGODB_URI": store,
            "LC_ENVIRONMENT": "test",
            "LC_TOPIC_PREFIX": f"b{tag}.",
            "LC_MONGODB_DATABASE": f"b{tag}",
            "LC_INTERNAL_TOKEN": TOKEN,
            "LC_UPLOAD_DIR": str(workdir / "uploads"),
            "LC_LOG_LEVEL": "WARNING",
        },
        ports={"ingest": free_port()},
    )
    stack.start("ingest", [str(BIN / "lc-ingest")], {"LC_HTTP_PORT": str(stack.ports["ingest"])})
    stack.wait_ready(("ingest",))
    return stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="file sizes (200000)")
    args = parser.parse_args()
    sizes = args.rows or [200_000]
    workdir = Path(tempfile.mkdtemp(prefix="lc-bench-import-"))
    broker = start_broker(log_path=workdir / "broker.log")
    store = start_store(workdir / "store")
    stack: Stack | None = None
    try:
        stack = start_ingest(workdir, broker.address, store.address)
        for rows in sizes:
            path = workdir / f"leads-{rows}.csv"
            write_csv(path, rows)
            size = path.stat().st_size
            bare = bare_loop(path)
            done = import_through_ingest(stack, [store, broker], path, rows)
            bare_rate, import_rate = bare.rows / bare.seconds, rows / done.seconds
            b = done.batch
            print(
                f"{rows:,} rows, {size / 1e6:.1f} MB ({size / rows:.0f} bytes a row)\n"
                f"  bare loop: {bare.seconds:7.1f} s, {bare_rate:9,.0f} rows/s "
                f"({bare.valid:,} valid distinct)\n"
                f"  import:    {done.seconds:7.1f} s, {import_rate:9,.0f} rows/s "
                f"(accepted {b['accepted']:,}, rejected {b['rejected']:,}, status {b['status']})\n"
                f"  ratio: {import_rate / bare_rate:.2f} of the bare loop "
                f"(goal >= 0.5 at 200,000)\n"
                f"  ingest peak RSS: {done.rss_peak_mb:.0f} MB "
                f"(before the upload {done.rss_before_mb:.0f} MB; goal <= 250 MB at 1,000,000)\n"
                f"  import stages, seconds (share): {_figures(done.stage_seconds, done.seconds)}\n"
                f"  CPU seconds (cores): {_figures(done.cpu_seconds, done.seconds)}"
            )
            path.unlink()
    finally:
        if stack is not None:
            stack.stop()
        store.stop()
        broker.stop()
    print(f"  logs: {workdir}")


if __name__ == "__main__":
    main()
