"""What a benchmark reads about a process from Linux's /proc and its /metrics page."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import httpx

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far, in seconds."""
    # /proc/<pid>/stat: the command name is in parentheses and may hold spaces, so the
    # fields are counted after its closing parenthesis (utime and stime are 14 and 15).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children_cpu_seconds() -> float:
    """CPU time (user + system) this process's ended and waited-for children used so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    return 0.0


def metric_sums(url: str, name: str, label: str) -> dict[str, float]:
    """`<name>` summed per value of `label` on a Prometheus /metrics page (for a
    histogram, pass its `_sum` series)."""
    sums: dict[str, float] = {}
    for line in httpx.get(url, timeout=10).text.splitlines():
        if not line.startswith(name + "{"):
            continue
        labels, value = line.rsplit(" ", 1)
        for pair in labels[len(name) + 1 : -1].split(","):
            key, _, quoted = pair.partition("=")
            if key == label:
                sums[quoted.strip('"')] = sums.get(quoted.strip('"'), 0.0) + float(value)
    return sums


class CpuMeter:
    """CPU some processes use over a window of wall time, in cores (1.0: one core busy)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._began = time.monotonic()
        self._cpu = self._now()

    def _now(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def restart(self) -> None:
        """Start the window now."""
        self._began, self._cpu = time.monotonic(), self._now()

    def cores(self) -> dict[str, float]:
        """Cores each process used since the window started."""
        wall = max(1e-9, time.monotonic() - self._began)
        return {name: (cpu - self._cpu[name]) / wall for name, cpu in self._now().items()}


def cores_text(cores: dict[str, float]) -> str:
    """`name 0.98, other 0.40`."""
    return ", ".join(f"{name} {used:.2f}" for name, used in cores.items())
