"""The carrier simulator as a process an outside checker can question and silence.

Runs `lc_carrier_sim.CarrierSimulator` (the same one `make up` runs) and a control
socket beside it, one command per line, one JSON answer per line:

- `stats`: `{"calls": {number: n}, "cancels": {number: n}, "silenced": {number: n}}`,
  where `calls` are new calls that reached the simulator's rules (so could ring),
  `cancels` the CANCELs it received, `silenced` the INVITE transactions it dropped
  while silent (they never reached the rules: nothing rang).
- `silent on` / `silent off`: drop every request (the carrier's INVITEs go
  unanswered, as when a trunk's far end is down) or answer again.

Run: `python tests/faults/carrier.py --port P --control-port C --rules sim/carrier/rules.yaml`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from lc_carrier_sim import CarrierSimulator


class Controlled:
    """A running simulator, its per-number CANCEL counts and its silent switch."""

    def __init__(self, sim: CarrierSimulator) -> None:
        self.sim = sim
        self.silent = False
        self.cancels: Counter[str] = Counter()
        self.silenced: Counter[str] = Counter()
        self._silenced_calls: set[str] = set()
        handle = sim.uas.handle

        def gate(req: Any, send: Any, reliable: bool) -> None:
            if self.silent:
                if req.method == "INVITE" and req.call_id not in self._silenced_calls:
                    self._silenced_calls.add(req.call_id)
                    self.silenced[req.number] += 1
                return
            if req.method == "CANCEL":
                self.cancels[req.number] += 1
            handle(req, send, reliable)

        sim.uas.handle = gate  # type: ignore[method-assign]

    def stats(self) -> dict[str, Any]:
        return {
            "calls": dict(self.sim.stats.calls),
            "cancels": dict(self.cancels),
            "silenced": dict(self.silenced),
            "silent": self.silent,
        }

    def command(self, line: str) -> dict[str, Any]:
        words = line.split()
        if words == ["stats"]:
            return self.stats()
        if len(words) == 2 and words[0] == "silent" and words[1] in ("on", "off"):
            self.silent = words[1] == "on"
            return {"silent": self.silent}
        return {"error": f"unknown command {line!r}"}


async def serve(args: argparse.Namespace) -> None:
    """Run the simulator and its control socket until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with CarrierSimulator(
        args.rules, host="127.0.0.1", port=args.port, transport="udp"
    ) as sim:
        controlled = Controlled(sim)

        async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while line := await reader.readline():
                    answer = controlled.command(line.decode().strip())
                    writer.write(json.dumps(answer).encode() + b"\n")
                    await writer.drain()
            writer.close()

        server = await asyncio.start_server(client, "127.0.0.1", args.control_port)
        async with server:
            await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="carrier simulator with a control socket")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--rules", type=Path, required=True)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
