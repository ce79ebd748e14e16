"""The little SDP a test call needs: G.711 audio on one port, and reading the peer's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CODEC_NAMES = {0: "PCMU", 8: "PCMA"}


def audio_sdp(
    host: str, port: int, payload_types: Sequence[int], *, origin: str, session_id: int = 1
) -> bytes:
    """A session with one G.711 audio stream on host:port, in the given payload types."""
    formats = " ".join(str(pt) for pt in payload_types)
    lines = [
        "v=0",
        f"o={origin} {session_id} {session_id} IN IP4 {host}",
        "s=-",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {formats}",
        *(f"a=rtpmap:{pt} {CODEC_NAMES[pt]}/8000" for pt in payload_types),
        "a=ptime:20",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


@dataclass(frozen=True, slots=True)
class AudioDescription:
    """Where the peer sends/receives audio and in which payload types."""

    host: str | None
    port: int
    payload_types: tuple[int, ...]


def parse_audio(body: bytes) -> AudioDescription | None:
    """The first ``m=audio`` of an SDP body, with its (media- or session-level) ``c=``."""
    text = body.decode("utf-8", errors="replace")
    session_host: str | None = None
    media_host: str | None = None
    port: int | None = None
    payloads: tuple[int, ...] = ()
    in_audio = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            if in_audio:
                break
            parts = line[2:].split()
            if len(parts) >= 3 and parts[0] == "audio" and parts[1].split("/")[0].isdigit():
                in_audio = True
                port = int(parts[1].split("/")[0])
                payloads = tuple(int(p) for p in parts[3:] if p.isdigit())
        elif line.startswith("c="):
            parts = line[2:].split()
            host = parts[2].split("/")[0] if len(parts) >= 3 else None
            if in_audio:
                media_host = host
            elif port is None:
                session_host = host
    if port is None:
        return None
    return AudioDescription(host=media_host or session_host, port=port, payload_types=payloads)
