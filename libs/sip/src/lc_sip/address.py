"""Reading and writing name-addr values (From, To, Contact, Route, Record-Route)."""

from __future__ import annotations


def split_list(value: str) -> list[str]:
    """Split a header value at the commas between its elements (RFC 3261 7.3.1).

    Commas inside a quoted display name or inside ``<...>`` belong to the element.
    """
    if "," not in value:
        stripped = value.strip()
        return [stripped] if stripped else []
    parts: list[str] = []
    start = 0
    quoted = angled = escaped = False
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif quoted:
            if ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            angled = True
        elif ch == ">":
            angled = False
        elif ch == "," and not angled:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


def addresses(values: list[str]) -> list[str]:
    """Every element of a list header given as several lines, in order."""
    return [element for value in values for element in split_list(value)]


def address_uri(value: str) -> str:
    """The URI of one name-addr or addr-spec (``"n" <sip:a@b;lr>;tag=x`` → ``sip:a@b;lr``).

    Without angle brackets the parameters after ``;`` belong to the header, not the URI.
    """
    if '"' in value:
        value = _after_display_name(value)
    lt = value.find("<")
    if lt >= 0:
        gt = value.find(">", lt)
        if gt < 0:
            raise ValueError(f"unterminated <URI> in {value!r}")
        return value[lt + 1 : gt].strip()
    return value.split(";", 1)[0].strip()


def address_param(value: str, name: str) -> str | None:
    """A header parameter (after the URI) such as ``tag``, or None."""
    if '"' in value:
        value = _after_display_name(value)
    gt = value.rfind(">")
    params = value[gt + 1 :] if gt >= 0 else value.partition(";")[2]
    wanted = name.lower()
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == wanted:
            return val.strip()
    return None


def format_address(
    uri: str, *, display: str | None = None, params: tuple[tuple[str, str], ...] = ()
) -> str:
    """A name-addr: ``"display" <uri>;name=value``; the display name is quoted and escaped."""
    out = f"<{uri}>"
    if display:
        escaped = display.replace("\\", "\\\\").replace('"', '\\"')
        out = f'"{escaped}" {out}'
    return out + "".join(f";{k}={v}" for k, v in params)


def _after_display_name(value: str) -> str:
    """The value with a leading quoted display name removed."""
    start = value.find('"')
    i = start + 1
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        if value[i] == '"':
            return value[:start] + value[i + 1 :]
        i += 1
    raise ValueError(f"unterminated quoted string in {value!r}")
