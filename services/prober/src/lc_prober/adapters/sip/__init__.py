"""An asyncio SIP user agent client (RFC 3261) for short test calls over UDP or TCP.

Why hand-written: no asyncio SIP stack on PyPI is complete enough — aiosipua has no
retransmission timers and never ACKs 3xx-6xx responses; sippy is complete but runs
its own threads. So this is a thin client over ``lc_sip``'s lean parser and
serialiser (``sipmessage`` cost too much per call, see :mod:`lc_sip.message`) that
implements what a test call needs: the INVITE client transaction
with Timers A, B and D, ACK of every final, CANCEL after a provisional response
(RFC 3261 9.1), the CANCEL/200 race (ACK then BYE), digest authentication
(RFC 2617/7616), the Reason header (RFC 3326) and early media listening.

It only records signalling (:class:`CallResult`); it never decides a verdict.
"""

from lc_prober.adapters.sip.client import SipTrunkClient
from lc_prober.adapters.sip.config import CallPolicy, SipTimers, TrunkConfig
from lc_prober.adapters.sip.digest import DigestError, answer_challenge, digest_response
from lc_prober.adapters.sip.reason import ReasonValue, parse_reason, q850_cause
from lc_prober.adapters.sip.result import CallResult, EarlyMedia, EndedBy, ResponseRecord
from lc_prober.adapters.sip.transport import TransportError
from lc_sip.framing import SipFramer

__all__ = [
    "CallPolicy",
    "CallResult",
    "DigestError",
    "EarlyMedia",
    "EndedBy",
    "ReasonValue",
    "ResponseRecord",
    "SipFramer",
    "SipTimers",
    "SipTrunkClient",
    "TransportError",
    "TrunkConfig",
    "answer_challenge",
    "digest_response",
    "parse_reason",
    "q850_cause",
]
