"""`lc-stack`: run the whole system on one machine, no Docker (`make up` / `make down`).

`up` starts every process of deploy/local/Procfile under honcho in the
background, waits until the control panel answers, creates the demo account and
prints (and writes to .local/demo.env) how to use it. `down` stops the process
group it started, by process id.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from lc_localstack.peers import broker_command, store_command, wait_for_port

ROOT = Path.cwd()
LOCAL = ROOT / ".local"
PID_FILE = LOCAL / "stack.pid"
LOG_FILE = LOCAL / "stack.log"
DEMO_ENV = LOCAL / "demo.env"
GATEWAY = "http://127.0.0.1:8000"
BILLING = "http://127.0.0.1:8005"
READY_URLS = [f"http://127.0.0.1:{port}/readyz" for port in range(8000, 8007)]
DEMO = {"name": "Demo Call Centre", "email": "demo@example.com", "password": "demo-password"}
DEMO_CREDIT = 100_000


def _running_pid() -> int | None:
    try:
        pid = int(PID_FILE.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stack_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LC_TRUNKS_FILE", str(ROOT / "deploy/local/trunks.yaml"))
    env.setdefault("LC_PUBLIC_URL", GATEWAY)
    env.setdefault("PYTHONUNBUFFERED", "1")
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    return env


def up(timeout: float) -> int:
    """Start everything and wait for it; print the demo credentials."""
    if _running_pid():
        print("The stack is already running (make down stops it).")
        return 0
    for sub in ("mail", "store", "uploads", "classifier"):
        (LOCAL / sub).mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with LOG_FILE.open("ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "honcho",
                "start",
                "-f",
                "deploy/local/Procfile",
                "-d",
                ".",
                "-e",
                "deploy/local/stack.env",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_stack_env(),
            start_new_session=True,  # its own process group, so `down` stops every child
        )
    PID_FILE.write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    waiting = list(READY_URLS)
    while waiting and time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"The stack stopped while starting; see {LOG_FILE}.", file=sys.stderr)
            return 1
        waiting = [url for url in waiting if not _answers(url)]
        time.sleep(0.5)
    if waiting:
        print(f"Not ready after {timeout:.0f}s: {waiting}; see {LOG_FILE}.", file=sys.stderr)
        return 1
    demo = _create_demo_account()
    _write_demo_env(demo)
    elapsed = time.monotonic() - started
    print(f"Lead Cleanser is up in {elapsed:.0f}s.")
    print(f"  Control panel: {GATEWAY}/")
    print(f"  Login:         {demo['login']} / {DEMO['password']}")
    print(f"  API key:       {demo['api_key']}")
    print(f"  Written to {DEMO_ENV} (source it for LC_URL, LC_USER, LC_PASSWORD, LC_API_KEY).")
    print(f"  Logs: {LOG_FILE}   Mails: {LOCAL / 'mail'}   Stop: make down")
    return 0


def _create_demo_account() -> dict[str, str]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "lc_gateway.admin",
            "create-account",
            "--name",
            DEMO["name"],
            "--email",
            DEMO["email"],
            "--password",
            DEMO["password"],
        ],
        check=True,
        capture_output=True,
        text=True,
        env=_stack_env(),
    )
    demo: dict[str, str] = json.loads(out.stdout.strip().splitlines()[-1])
    balance = _billing("GET", "/internal/v1/balance", demo["account_id"])
    if balance.get("balance", 0) < DEMO_CREDIT // 2:
        _billing(
            "POST",
            "/internal/v1/grants",
            demo["account_id"],
            {"units": DEMO_CREDIT, "description": "Demo credit"},
        )
    return demo


def _billing(
    method: str, path: str, account_id: str, body: dict[str, object] | None = None
) -> dict[str, int]:
    request = urllib.request.Request(
        BILLING + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            "X-LC-Internal-Token": os.environ.get("LC_INTERNAL_TOKEN", "dev-only-secret-change-me"),
            "X-LC-Account-Id": account_id,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, int] = json.loads(response.read())
        return result


def _write_demo_env(demo: dict[str, str]) -> None:
    # Exported, so that programs started after `source .local/demo.env` (the
    # `leadcleanser` command line) see them too.
    DEMO_ENV.write_text(
        f"export LC_URL={GATEWAY}\n"
        f"export LC_USER={demo['login']}\n"
        f"export LC_PASSWORD={DEMO['password']}\n"
        f"export LC_API_KEY={demo['api_key']}\n"
    )


def down() -> int:
    """Stop the process group `up` started and wait until it is gone."""
    pid = _running_pid()
    if pid is None:
        print("The stack is not running.")
        PID_FILE.unlink(missing_ok=True)
        return 0
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.killpg(pid, signal.SIGKILL)
    PID_FILE.unlink(missing_ok=True)
    print("Lead Cleanser stopped.")
    return 0


def supervise(command: list[str]) -> int:
    """Run a service and start it again when it crashes, as Kubernetes would.

    honcho stops every process when one exits; a crashed service must not take
    the whole local stack down with it.
    """
    backoff = 1.0
    while True:
        started = time.monotonic()
        code = subprocess.call(command)
        if code in (0, -signal.SIGTERM, -signal.SIGINT, 128 + signal.SIGTERM):
            return 0
        if time.monotonic() - started > 60:
            backoff = 1.0
        print(f"{command[0]} exited with {code}; restarting in {backoff:.0f}s", flush=True)
        time.sleep(backoff)
        backoff = min(backoff * 2, 30.0)


def await_peers(timeout: float) -> int:
    """Wait for the broker and the store of the local stack."""
    wait_for_port("127.0.0.1", 9092, timeout)
    wait_for_port("127.0.0.1", 27017, timeout)
    return 0


def main() -> None:
    """Entry point of `lc-stack`."""
    parser = argparse.ArgumentParser(prog="lc-stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up_cmd = sub.add_parser("up", help="start everything in the background")
    up_cmd.add_argument("--timeout", type=float, default=180)
    sub.add_parser("down", help="stop everything")
    await_cmd = sub.add_parser("await-peers", help="wait for the local broker and store")
    await_cmd.add_argument("--timeout", type=float, default=60)
    run_cmd = sub.add_parser("supervise", help="run a command, restarting it when it crashes")
    run_cmd.add_argument("argv", nargs=argparse.REMAINDER)
    broker = sub.add_parser("broker", help="run the Tansu broker in the foreground")
    broker.add_argument("--port", type=int, default=9092)
    store = sub.add_parser("store", help="run nx-27017 in the foreground")
    store.add_argument("--port", type=int, default=27017)
    store.add_argument("--data-dir", type=Path, default=LOCAL / "store")
    args = parser.parse_args()
    if args.command == "up":
        sys.exit(up(args.timeout))
    if args.command == "down":
        sys.exit(down())
    if args.command == "await-peers":
        sys.exit(await_peers(args.timeout))
    if args.command == "supervise":
        sys.exit(supervise([a for a in args.argv if a != "--"]))
    if args.command == "broker":
        os.execv(broker_command(args.port)[0], broker_command(args.port))
    if args.command == "store":
        command = store_command(args.port, args.data_dir.resolve())
        os.execv(command[0], command)
