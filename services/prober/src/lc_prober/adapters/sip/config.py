"""Configuration of a SIP trunk client: where to send, who we say we are, timers, policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TransportName = Literal["udp", "tcp"]


@dataclass(frozen=True, slots=True)
class SipTimers:
    """RFC 3261 timer base values, in seconds; tests shrink them to run fast."""

    t1: float = 0.5
    """RTT estimate: Timer A starts at T1 and doubles; Timer B and F are 64*T1."""
    t2: float = 4.0
    """Cap of the non-INVITE retransmission interval."""
    timer_d: float = 32.0
    """How long a completed INVITE transaction absorbs retransmitted finals (UDP only)."""

    @property
    def timer_b(self) -> float:
        """INVITE transaction timeout while no response at all has arrived."""
        return 64 * self.t1


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """When a test call is cancelled; nothing here decides a verdict."""

    ring_seconds: float = 0.0
    """Ringing (180) time before CANCEL; 0 cancels at the first 180."""
    early_media_seconds: float = 4.0
    """How long to listen to early media after a provisional response with SDP."""
    cancel_on_sit: bool = True
    """Cancel as soon as a special information tone is heard in early media."""
    proceeding_seconds: float = 30.0
    """Cancel when only 100/183-without-SDP arrived for this long (no sign of life)."""


@dataclass(frozen=True, slots=True)
class TrunkConfig:
    """One SIP trunk: the peer, our identity towards it, timers and default call policy."""

    host: str
    port: int = 5060
    transport: TransportName = "udp"
    local_host: str = "0.0.0.0"
    """Address our signalling socket binds; 0.0.0.0 binds all interfaces."""
    local_port: int = 0
    """0 picks an ephemeral port."""
    username: str | None = None
    password: str | None = None
    from_user: str = "leadcleanser"
    caller_id: str | None = None
    """Our calling line identity (E.164): the From user and the P-Asserted-Identity."""
    from_host: str | None = None
    """Host in the From URI; defaults to the trunk host (what most trunks expect)."""
    from_display: str | None = None
    contact_host: str | None = None
    """Host the trunk is told to use (Via/Contact/SDP); default: our local address."""
    contact_port: int | None = None
    keep_plus: bool = True
    """Keep the '+' of the E.164 number in the Request-URI user part."""
    user_agent: str = "LeadCleanser-Prober/0.1"
    timers: SipTimers = field(default_factory=SipTimers)
    policy: CallPolicy = field(default_factory=CallPolicy)
    media: bool = True
    """Offer SDP (PCMU/PCMA) with a per-call RTP port so early media can be heard."""
    rtp_host: str | None = None
    """Address RTP sockets bind; default: the signalling bind address."""
    max_call_seconds: float = 120.0
    """Hard upper bound on one call, whatever the peer does."""

    @property
    def has_credentials(self) -> bool:
        """Whether digest authentication can be answered."""
        return self.username is not None and self.password is not None
