"""SIP on the wire, the parts both ends of a test call share: cutting a TCP stream into
messages, header names and the top Via branch, the small G.711 SDP both sides write, and
a lean message parser/serialiser with name-addr helpers (the prober's hot path), and the
checks that refuse to put a non-E.164 number or a line break into a request (`safety`).

The prober (a UAC) and the carrier simulator (a UAS with its own request parser) use
these; neither imports the other.
"""

from lc_sip.framing import MAX_HEADER_BYTES, SipFramer
from lc_sip.headers import COMPACT_HEADERS, via_branch
from lc_sip.safety import UnsafeSipValue, require_e164, require_header_value
from lc_sip.sdp import AudioDescription, audio_sdp, parse_audio

__all__ = [
    "COMPACT_HEADERS",
    "MAX_HEADER_BYTES",
    "AudioDescription",
    "SipFramer",
    "UnsafeSipValue",
    "audio_sdp",
    "parse_audio",
    "require_e164",
    "require_header_value",
    "via_branch",
]
