"""What a benchmark reads about a process from Linux's /proc and its /metrics page."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far, in seconds."""
    # /proc/<pid>/stat: the command name is in parentheses and may hold spaces, so the
    # fields are counted after its closing parenthesis (utime and stime are 14 and 15).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


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
