"""How responses find their transaction, and the non-INVITE client transaction.

A call's BYE and CANCEL each run a non-INVITE client transaction (RFC 3261 17.1.2):
the request is sent once, retransmitted by Timer E over unreliable transports, and
given up by Timer F; provisional responses only slow the retransmissions to T2.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Protocol

from lc_prober.adapters.sip.config import SipTimers
from lc_prober.adapters.sip.mailbox import TIMED_OUT, Mailbox
from lc_prober.adapters.sip.transport import TransportError
from lc_sip.message import SipResponse

TxKey = tuple[str, str, str]
"""(Call-ID, top Via branch, CSeq method): how responses find their transaction."""


class TransactionContext(Protocol):
    """What a non-INVITE transaction needs from the trunk client."""

    reliable: bool

    def send(self, data: bytes) -> None: ...
    def register(self, key: TxKey, handler: Callable[[object], None]) -> None: ...


def begin_non_invite(
    ctx: TransactionContext, loop: asyncio.AbstractEventLoop, key: TxKey, data: bytes
) -> Mailbox:
    """Open the transaction: route its responses to a new mailbox, then send the request."""
    mailbox = Mailbox(loop)
    ctx.register(key, mailbox.put)
    ctx.send(data)
    return mailbox


async def finish_non_invite(
    ctx: TransactionContext,
    loop: asyncio.AbstractEventLoop,
    timers: SipTimers,
    data: bytes,
    mailbox: Mailbox,
) -> SipResponse | None:
    """Follow an opened transaction to its final response; None if none came in time.

    Timer E retransmits `data` (unreliable transports only), Timer F (64*T1) gives up;
    a transport failure also gives None. Closes the mailbox; the caller unregisters.
    """
    try:
        now = loop.time()
        deadline = now + timers.timer_b
        interval = timers.t1
        next_retransmit = math.inf if ctx.reliable else now + interval
        while True:
            now = loop.time()
            if now >= deadline:
                return None
            if now >= next_retransmit:
                ctx.send(data)
                interval = min(2 * interval, timers.t2)
                next_retransmit = now + interval
            event = await mailbox.next(min(deadline, next_retransmit))
            if event is TIMED_OUT:
                continue
            if isinstance(event, SipResponse):
                if event.code >= 200:
                    return event
                if not ctx.reliable:
                    interval = timers.t2
                    next_retransmit = loop.time() + interval
            elif isinstance(event, Exception):
                return None
    except TransportError:
        return None
    finally:
        mailbox.close()
