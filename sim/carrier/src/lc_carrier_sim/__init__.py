"""Carrier simulator: a SIP endpoint (UAS) that answers like a telephone network.

Rules (YAML) map dialled numbers to behaviours: ringing, early media (ringback or a
special information tone with an announcement), answer, rejections with optional
Q.850 causes, silence, flapping failures; plus a channel limit and digest auth.
"""

from lc_carrier_sim.rules import AuthConfig, Match, Rule, SimConfig, load_rules
from lc_carrier_sim.server import CarrierSimulator
from lc_carrier_sim.uas import SimStats, SimTimers

__all__ = [
    "AuthConfig",
    "CarrierSimulator",
    "Match",
    "Rule",
    "SimConfig",
    "SimStats",
    "SimTimers",
    "load_rules",
]
