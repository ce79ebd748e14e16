"""``lc-carrier-sim``: run the carrier simulator in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from lc_carrier_sim.server import CarrierSimulator
from lc_carrier_sim.uas import SimTimers
from lc_common.logging import configure_logging


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="lc-carrier-sim", description="A SIP endpoint that answers like a phone network."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5070)
    parser.add_argument("--transport", choices=["udp", "tcp", "both"], default="both")
    parser.add_argument(
        "--rules", type=Path, default=Path(__file__).resolve().parents[2] / "rules.yaml"
    )
    parser.add_argument("--t1", type=float, default=0.5, help="RFC 3261 T1 in seconds")
    parser.add_argument("--seed", type=int, default=None, help="seed for latency draws")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    sim = CarrierSimulator(
        args.rules,
        host=args.host,
        port=args.port,
        transport=args.transport,
        timers=SimTimers(t1=args.t1),
        seed=args.seed,
    )
    async with sim:
        await stop.wait()


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = parse_args(argv)
    configure_logging("carrier-sim", args.log_level)
    asyncio.run(serve(args))


if __name__ == "__main__":
    run()
