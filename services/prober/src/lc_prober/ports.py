"""The ports the prober's handler depends on: a trunk's SIP client and its signalling sender
(`lc_prober.adapters.sip.SipTrunkClient` and `lc_prober.adapters.sender.SignallingSender`
implement them)."""

from __future__ import annotations

from typing import Protocol

from lc_common.events import ProbeSignallingV1
from lc_prober.adapters.sip.result import CallResult


class Caller(Protocol):
    async def call(self, number: str) -> CallResult: ...
    def hang_up_all(self) -> int: ...


class SignallingOut(Protocol):
    def put(self, key: str, event: ProbeSignallingV1) -> None: ...
