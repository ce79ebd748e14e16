"""The `leadcleanser` executable against the whole system: upload and wait, download, show,
pause and unpause, balance, `--json`, and the exit codes of bad keys, unknown ids and
unreachable services."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from lc_localstack.peers import free_port
from tests.e2e.stack import Stack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.mongo, pytest.mark.sip]

SAMPLE = Path("deploy/local/sample-leads.csv").resolve()
LEADCLEANSER = str(Path(sys.executable).parent / "leadcleanser")


@dataclass
class Cli:
    """The executable run for one account of a running stack."""

    stack: Stack
    api_key: str
    account_id: str

    def env(self, **overrides: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
        return {
            **base,
            "LC_URL": self.stack.url("gateway"),
            "LC_API_KEY": self.api_key,
            "COLUMNS": "200",
            **overrides,
        }

    def __call__(
        self, *args: str, timeout: float = 60, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LEADCLEANSER, *args],
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.stack.url("gateway"),
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, mongodb_uri: str
) -> Iterator[Stack]:
    # One stack for the module (the `peer_env` fixture is per test): its own topics and database.
    tag = uuid.uuid4().hex[:10]
    peer_env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MONGODB_URI": mongodb_uri,
        "LC_ENVIRONMENT": "test",
        "LC_TOPIC_PREFIX": f"t{tag}.",
        "LC_MONGODB_DATABASE": f"t{tag}",
    }
    running = start_stack(tmp_path_factory.mktemp("cli-stack"), peer_env)
    try:
        yield running
    finally:
        running.stop()


def account(stack: Stack, credit: int) -> Cli:
    tag = uuid.uuid4().hex[:8]
    created = stack.create_account(f"CLI {tag}", f"cli-{tag}@example.com", "cli-password", credit)
    return Cli(stack, created["api_key"], created["account_id"])


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_upload_waits_to_finished_then_downloads_the_csv(stack: Stack, tmp_path: Path) -> None:
    cli = account(stack, credit=1000)
    uploaded = cli(
        "upload", str(SAMPLE), "--name", "x", "--phone-column", "phone", "--wait", timeout=240
    )
    if uploaded.returncode != 0:
        print("\n".join(stack.log(n) for n in stack.processes))
    assert uploaded.returncode == 0, uploaded.stderr
    batch_id = uploaded.stdout.strip()
    assert batch_id.startswith("bat_"), uploaded.stdout
    assert "Finished: 5 connected, 3 disconnected, 2 indeterminate" in uploaded.stderr

    out = tmp_path / "out.csv"
    downloaded = cli("download", batch_id, "-o", str(out))
    assert downloaded.returncode == 0, downloaded.stderr
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 1 + 16
    assert rows[0][:5] == ["first_name", "last_name", "phone", "suburb", "notes"]
    assert not out.with_name("out.csv.part").exists()
    with cli.api() as api:
        assert out.read_bytes() == api.get(f"/api/v1/batches/{batch_id}/download").content

    to_stdout = subprocess.run(
        [LEADCLEANSER, "download", batch_id], env=cli.env(), capture_output=True, timeout=60
    )
    assert to_stdout.returncode == 0
    assert to_stdout.stdout == out.read_bytes()

    today = datetime.now(UTC).date().isoformat()
    one_day = cli("download", batch_id, "--processed-on", today, "-o", str(tmp_path / "d.csv"))
    assert one_day.returncode == 0, one_day.stderr
    day_rows = list(csv.reader(io.StringIO((tmp_path / "d.csv").read_text("utf-8-sig"))))
    assert 1 < len(day_rows) <= 1 + 16

    shown = cli("show", batch_id)
    assert shown.returncode == 0, shown.stderr
    assert batch_id in shown.stdout
    assert "finished" in shown.stdout

    as_json = cli("show", batch_id, "--json")
    batch = json.loads(as_json.stdout)
    assert (batch["status"], batch["processed"], batch["remaining"]) == ("finished", 10, 0)

    listed = json.loads(cli("batches", "--json").stdout)
    assert [b["id"] for b in listed["batches"]] == [batch_id]
    table = cli("batches")
    assert table.returncode == 0
    assert batch_id in table.stdout

    # Billing charges each final lead on its own consumer: await the last deduction.
    def charged() -> bool:
        credit = json.loads(cli("balance", "--json").stdout)
        return bool(credit["balance"] == 990)

    wait_for(charged, 60, "billing to charge the 10 tested leads")
    assert cli("balance").stdout.strip() == "990 CU"


def test_pause_and_unpause(stack: Stack, tmp_path: Path) -> None:
    cli = account(stack, credit=1000)
    # Enough numbers that ring that the batch cannot finish before the pause arrives
    # (the 16-row sample can, on a loaded machine, and a finished batch cannot pause).
    leads = tmp_path / "many.csv"
    leads.write_text("phone\n" + "".join(f"0412{i:06d}\n" for i in range(0, 2000, 10)))
    created = cli("upload", str(leads), "--name", "to pause", "--phone-column", "phone", "--json")
    assert created.returncode == 0, created.stderr
    batch_id = json.loads(created.stdout)["id"]

    # Paused while importing (or just after): it stays paused, nothing more is dialled.
    paused = cli("pause", batch_id, "--json")
    assert paused.returncode == 0, paused.stderr
    assert json.loads(paused.stdout)["paused"] is True
    assert cli("pause", batch_id).stdout.strip() == f"{batch_id}: paused"
    assert json.loads(cli("show", batch_id, "--json").stdout)["status"] == "paused"

    unpaused = cli("unpause", batch_id, "--json")
    assert unpaused.returncode == 0, unpaused.stderr
    assert json.loads(unpaused.stdout)["paused"] is False
    waited = cli("show", batch_id, "--json")
    assert json.loads(waited.stdout)["status"] != "paused"


def test_wait_says_a_batch_is_paused_for_credit_and_goes_on_once_granted(
    stack: Stack, tmp_path: Path
) -> None:
    cli = account(stack, credit=0)
    assert json.loads(cli("balance", "--json").stdout)["balance"] == 0

    # No credit: --wait keeps waiting and says why, then finishes once credit is granted.
    stderr = (tmp_path / "wait.err").open("w")
    follower = subprocess.Popen(
        [LEADCLEANSER, "upload", str(SAMPLE), "--name", "later", "--phone-column=phone", "--wait"],
        env=cli.env(),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        wait_for(
            lambda: "lack of credit" in (tmp_path / "wait.err").read_text(),
            90,
            "--wait to show the batch paused for lack of credit",
        )
        assert follower.poll() is None, "still waiting while paused"
        granted = httpx.post(
            f"{stack.url('billing')}/internal/v1/grants",
            json={"units": 100, "description": "test credit"},
            headers={
                "X-LC-Internal-Token": stack.env["LC_INTERNAL_TOKEN"],
                "X-LC-Account-Id": cli.account_id,
            },
        )
        granted.raise_for_status()
        stdout, _ = follower.communicate(timeout=240)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0, (tmp_path / "wait.err").read_text()[-3000:]
    assert stdout.strip().startswith("bat_")


def test_unknown_ids_bad_keys_and_unreachable_services_have_their_exit_codes(
    stack: Stack,
) -> None:
    cli = account(stack, credit=0)

    unknown = cli("show", "bat_0000000000000000")
    assert unknown.returncode == 4, unknown.stderr
    assert "batch_not_found" in unknown.stderr or "not_found" in unknown.stderr
    assert cli("show", "no-such-thing").returncode == 4
    assert cli("pause", "bat_0000000000000000").returncode == 4
    assert cli("download", "bat_0000000000000000").returncode == 4

    as_json = cli("show", "bat_0000000000000000", "--json")
    assert as_json.returncode == 4
    assert json.loads(as_json.stderr)["error"]["status"] == 404

    bad_key = cli("batches", LC_API_KEY="lc_not_a_real_key")
    assert bad_key.returncode == 3, bad_key.stderr
    error = json.loads(cli("balance", "--json", LC_API_KEY="lc_wrong").stderr)["error"]
    assert error["code"] == "not_authenticated"

    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = cli("balance", LC_URL=closed)
    assert unreachable.returncode == 5
    assert "connection_failed" in unreachable.stderr

    missing = cli("upload", str(SAMPLE), "--name", "x", LC_URL="")
    assert missing.returncode == 2


def test_a_field_refused_by_the_api_is_a_usage_error(stack: Stack, tmp_path: Path) -> None:
    cli = account(stack, credit=0)
    refused = cli("upload", str(SAMPLE), "--name", "x", "--default-region", "AUS")
    assert refused.returncode == 2, refused.stderr
    assert "invalid_field" in refused.stderr
    big = tmp_path / "big.csv"
    big.write_bytes(b"phone\n" + b"0412345670\n" * 3_000_000)
    refused = cli("upload", str(big), "--name", "x", "--default-region", "AUS")
    assert refused.returncode == 2, refused.stderr
