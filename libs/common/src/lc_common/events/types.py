"""Constrained field types shared by every event model.

Anything that reaches a peer (a SIP trunk, a store, an email) is constrained
here, at the contract, so an invalid event fails to decode wherever it arrives
and the consumer runner parks it on the dead-letter topic. Handlers need not
re-check these rules.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

#: An E.164 number: `+`, a country code that does not start with 0, 7 to 15 digits.
#: Nothing else: no separators, no SIP URI parts, no whitespace or CR/LF.
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]

#: An identifier we minted (account, batch, lead, probe, trunk): letters, digits, `_.:-`.
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:\-]{1,128}$")]

#: A SIP Call-ID as RFC 3261 words it: visible ASCII, no whitespace, so no CR/LF.
SipCallId = Annotated[str, StringConstraints(pattern=r"^[!-~]{1,256}$")]

#: An attempt number: the first call of a lead is attempt 1.
Attempt = Annotated[int, Field(ge=1, le=100)]

#: The lease epoch of the scheduler leader that wrote an event (0: none given).
Epoch = Annotated[int, Field(ge=0)]

#: A short text a client typed or we wrote (batch name, reference, detail).
ShortText = Annotated[str, StringConstraints(max_length=500)]

#: A longer explanation (a reason a batch failed).
Reason = Annotated[str, StringConstraints(max_length=2000)]

#: A SIP response code.
SipCode = Annotated[int, Field(ge=100, le=699)]

#: A Q.850 cause value.
Q850Cause = Annotated[int, Field(ge=0, le=127)]
