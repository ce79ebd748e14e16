"""Early media: RTP reception, G.711 decoding and tone detection (SIT, ringback, silence, voice).

The detectors are pure functions over numpy arrays of 8 kHz samples, so they are
tested with synthesized audio; :class:`RtpReceiver` feeds them from the network.
"""

from lc_prober.adapters.media.classify import AudioFinding, classify_audio, find_sit
from lc_prober.adapters.media.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from lc_prober.adapters.media.rtp import RtpReceiver, parse_rtp
from lc_prober.adapters.media.sdp import AudioDescription, build_offer, parse_audio
from lc_prober.adapters.media.sit import SitDetection

__all__ = [
    "AudioDescription",
    "AudioFinding",
    "RtpReceiver",
    "SitDetection",
    "alaw_decode",
    "alaw_encode",
    "build_offer",
    "classify_audio",
    "find_sit",
    "parse_audio",
    "parse_rtp",
    "ulaw_decode",
    "ulaw_encode",
]
