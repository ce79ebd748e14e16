"""lc_sip.safety: no request is built from a number that is not E.164 or a value with CR/LF."""

from __future__ import annotations

import pytest

from lc_sip import UnsafeSipValue, require_e164, require_header_value
from lc_sip.safety import require_header_values


@pytest.mark.parametrize("number", ["+6121234", "+61212345678", "+123456789012345"])
def test_e164_numbers_pass(number: str) -> None:
    assert require_e164(number) == number


@pytest.mark.parametrize(
    "number",
    [
        "61212345678",  # no plus
        "+612123",  # 6 digits
        "+1234567890123456",  # 16 digits
        "+6121234567a",
        "+61 212345678",
        "+61212345678;user=phone",
        "+61212345678@evil.example",
        "+61212345678\r\nX-Evil: 1",
        "+٦١٢١٢٣٤٥٦٧٨",  # Arabic-Indic digits are digits to \d, not to a trunk
        "",
        "*100#",
    ],
)
def test_anything_else_is_refused(number: str) -> None:
    with pytest.raises(UnsafeSipValue):
        require_e164(number)


@pytest.mark.parametrize("value", ["a\r\nVia: x", "a\nb", "a\rb", "a\0b"])
def test_a_header_value_with_a_line_break_is_refused(value: str) -> None:
    with pytest.raises(UnsafeSipValue, match="X-Test"):
        require_header_value("X-Test", value)


def test_header_values_and_names_are_checked() -> None:
    require_header_values([("To", '"A, B" <sip:+61212345678@h>;tag=1')])
    with pytest.raises(UnsafeSipValue):
        require_header_values([("Authorization", "Digest x\r\n")])
    with pytest.raises(UnsafeSipValue):
        require_header_values([("X\r\nEvil", "v")])


def test_the_error_is_a_value_error() -> None:
    # Callers that already handle bad input as ValueError keep working.
    assert issubclass(UnsafeSipValue, ValueError)
