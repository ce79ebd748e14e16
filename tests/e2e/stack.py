"""The whole system as real processes, on the session's broker and store, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lc_localstack.peers import free_port

BIN = Path(sys.executable).parent
SERVICES = ("gateway", "ingest", "scheduler", "prober", "classifier", "billing", "notifier")


@dataclass
class Stack:
    """Running services and how to reach them."""

    workdir: Path
    env: dict[str, str]
    ports: dict[str, int]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    # Processes a test took down on purpose: a supervisor leaves them alone.
    held: set[str] = field(default_factory=set)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, name: str, command: list[str], extra: dict[str, str] | None = None) -> None:
        """Start a process (logging to `<workdir>/<name>.log`); `restart` runs it again."""
        self.commands[name] = (command, dict(extra or {}))
        self.held.discard(name)
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command,
            env={**self.env, **(extra or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )

    def wait_ready(self, names: tuple[str, ...], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(names)
        while waiting and time.monotonic() < deadline:
            for name in list(waiting):
                proc = self.processes[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)}")
                try:
                    if httpx.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200:
                        waiting.remove(name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        if waiting:
            raise TimeoutError(f"not ready: {waiting}\n" + "\n".join(self.log(n) for n in waiting))

    def signal(self, name: str, sig: signal.Signals) -> None:
        """Send a signal to one process (SIGSTOP, SIGCONT, ...)."""
        self.processes[name].send_signal(sig)

    def kill(self, name: str) -> None:
        """kill -9 one process and reap it."""
        self.held.add(name)
        proc = self.processes[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def restart(self, name: str, ready: bool = True) -> None:
        """Start a process again with its first command line and environment (a supervisor)."""
        command, extra = self.commands[name]
        self.start(name, command, extra)
        if ready and name in self.ports:
            self.wait_ready((name,))

    def log(self, name: str, tail: int = 4000) -> str:
        path = self.workdir / f"{name}.log"
        return f"--- {name} ---\n" + (
            path.read_text(errors="replace")[-tail:] if path.exists() else ""
        )

    def stop(self) -> None:
        self.held.update(self.processes)
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
                proc.terminate()
        for proc in self.processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def create_account(self, name: str, email: str, password: str, credit: int) -> dict[str, str]:
        out = subprocess.run(
            [
                str(BIN / "python"),
                "-m",
                "lc_gateway.admin",
                "create-account",
                "--name",
                name,
                "--email",
                email,
                "--password",
                password,
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            cwd=self.workdir,
        )
        account: dict[str, str] = json.loads(out.stdout.strip().splitlines()[-1])
        if credit <= 0:
            return account
        response = httpx.post(
            f"{self.url('billing')}/internal/v1/grants",
            json={"units": credit, "description": "test credit"},
            headers={
                "X-LC-Internal-Token": self.env["LC_INTERNAL_TOKEN"],
                "X-LC-Account-Id": account["account_id"],
            },
        )
        response.raise_for_status()
        return account


START_ATTEMPTS = 3


def start_stack(workdir: Path, peer_env: dict[str, str], **options: Any) -> Stack:
    """`start_stack_once`, again on fresh ports when a port picked free was taken
    before its process bound it (other test runs on the machine race for ports)."""
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return start_stack_once(workdir, peer_env, **options)
        except RuntimeError as exc:
            if "address already in use" not in str(exc) or attempt == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def start_stack_once(
    workdir: Path,
    peer_env: dict[str, str],
    *,
    carrier: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    replicas: dict[str, str] | None = None,
    trunks: str | None = None,
    sip_port: int | None = None,
    start_carrier: bool = True,
) -> Stack:
    """Start the carrier simulator, a mailbox and every service; wait until all are ready.

    `carrier` replaces the simulator's command line (`{sip_port}` in it is filled in);
    `extra_env` is added to every process's environment; `replicas` starts more
    instances (`{"scheduler-b": "scheduler"}`) on their own HTTP ports, not awaited.
    `trunks` replaces the trunks file (YAML; `{sip_port}` in it is filled in);
    `sip_port` fixes the simulator's port; `start_carrier=False` leaves the carrier
    to the caller (a simulator run in-process, to read its counters).
    """
    replicas = replicas or {}
    ports = {name: free_port() for name in (*SERVICES, *replicas, "sip", "smtp")}
    if sip_port is not None:
        ports["sip"] = sip_port
    trunks_file = workdir / "trunks.yaml"
    trunks_file.write_text(
        trunks.replace("{sip_port}", str(ports["sip"]))
        if trunks is not None
        else f"- {{name: sim, host: 127.0.0.1, port: {ports['sip']}, transport: udp,"
        " channels: 20, cps: 50}\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LC_")},
        **peer_env,
        "PYTHONUNBUFFERED": "1",
        "LC_INTERNAL_TOKEN": "e2e-internal-token",
        "LC_TRUNKS_FILE": str(trunks_file),
        "LC_GATEWAY_URL": f"http://127.0.0.1:{ports['gateway']}",
        "LC_PUBLIC_URL": f"http://127.0.0.1:{ports['gateway']}",
        "LC_INSECURE_COOKIES": "true",
        "LC_INGEST_URL": f"http://127.0.0.1:{ports['ingest']}",
        "LC_BILLING_URL": f"http://127.0.0.1:{ports['billing']}",
        "LC_NOTIFIER_URL": f"http://127.0.0.1:{ports['notifier']}",
        # Webhooks to a receiver on the loopback, over plain http (never in production).
        "LC_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
        "LC_SMTP_PORT": str(ports["smtp"]),
        "LC_UPLOAD_DIR": str(workdir / "uploads"),
        "LC_CLASSIFIER_DATA_DIR": str(workdir / "classifier"),
        "LC_RETRY_SCHEDULE": "1s,1s,1s,1s,1s",
        "LC_CALLING_WINDOWS_ENFORCED": "false",
        "LC_DISPATCH_INTERVAL_SECONDS": "0.2",
        "LC_EARLY_MEDIA_SECONDS": "2",
        **(extra_env or {}),
    }
    stack = Stack(workdir=workdir, env=env, ports=ports)
    if start_carrier:
        _start_carrier(stack, carrier)
    stack.start(
        "mailbox",
        [
            str(BIN / "python"),
            "-m",
            "lc_localstack.mailbox",
            "--port",
            str(ports["smtp"]),
            "--dir",
            str(workdir / "mail"),
        ],
    )
    for name in SERVICES:
        stack.start(name, [str(BIN / f"lc-{name}")], {"LC_HTTP_PORT": str(ports[name])})
    for name, service in replicas.items():
        stack.start(name, [str(BIN / f"lc-{service}")], {"LC_HTTP_PORT": str(ports[name])})
    try:
        stack.wait_ready(SERVICES)
    except BaseException:
        stack.stop()
        raise
    return stack


def _start_carrier(stack: Stack, carrier: list[str] | None) -> None:
    port = str(stack.ports["sip"])
    stack.start(
        "carrier",
        [part.replace("{sip_port}", port) for part in carrier]
        if carrier
        else [
            str(BIN / "lc-carrier-sim"),
            "--host",
            "127.0.0.1",
            "--port",
            port,
            "--transport",
            "udp",
            "--rules",
            str(Path.cwd() / "sim/carrier/rules.yaml"),
        ],
    )
