"""Validation of one phone number cell: accepted with its E.164 form, or rejected with a reason.

Policy choices (beyond the required rules):
- Only premium-rate numbers and emergency/short codes are refused as "not safe to dial".
  Toll-free (1800), shared-cost (1300, 10 digits), UAN, VoIP, personal and pager numbers
  are real services and are tested.
- Numbers on a global, non-geographic country code (+800 freephone, +870/+881 satellite,
  +882/+883 international networks) are refused as `invalid_country_code`: they belong to
  no country, satellite calls cost a premium, and no trunk is set up for them.
- A spreadsheet's scientific notation (6.14123E+11) is refused as `invalid_number` with a
  hint, since the digits were already lost before the upload.
- Numbers as people paste them: invisible format characters (Unicode category Cf:
  zero-width spaces and joiners, bidi marks, the BOM) are dropped and every Unicode space
  (category Zs) reads as a space before anything is checked. An extension at the end
  (`ext. 12`, `extension 12`, `x12`, `;ext=12`, `#12`) is split off: the number is checked
  without it and `Accepted.extension` keeps its digits (the call dials the number only).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Final, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType, shortnumberinfo
from phonenumbers import ValidationResult as Possible


class RejectCode(StrEnum):
    """Machine-readable reason a row was rejected at import."""

    NO_NUMBER = "no_number"
    CONTAINS_LETTERS = "contains_letters"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVALID_NUMBER = "invalid_number"
    EMERGENCY_OR_SHORT_CODE = "emergency_or_short_code"
    PREMIUM_RATE = "premium_rate"
    DUPLICATE = "duplicate"
    INVALID_COUNTRY_CODE = "invalid_country_code"


@dataclass(frozen=True, slots=True)
class Accepted:
    """A number safe to test: `e164` (+61412345678), `region` (ISO 3166 alpha-2 of the
    number itself, e.g. "AU", "CX"), `number_type` (lower-case phonenumbers type name such
    as "mobile", "fixed_line", "toll_free"), `extension` (digits written after the number,
    e.g. "12" from "ext. 12", or None)."""

    accepted: ClassVar[Literal[True]] = True
    e164: str
    region: str
    number_type: str
    extension: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row refused at import: `code` for machines, `reason` (an English sentence) for
    the client."""

    accepted: ClassVar[Literal[False]] = False
    code: RejectCode
    reason: str


NumberCheck = Accepted | Rejected

# Emergency numbers refused whatever the default region: a lead list made for one
# country may hold another's, and these are never anything else.
UNIVERSAL_EMERGENCY: Final = frozenset({"000", "111", "112", "911", "999"})

# Spaces (incl. no-break), dashes, dots, brackets, slashes; Excel's leading apostrophe.
_SEPARATORS: Final = re.compile(r"[\s\-\u2010-\u2015\u2212.()\[\]/']")
_DIALLABLE: Final = re.compile(r"\+?[0-9]+")
_SCIENTIFIC: Final = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE]\+?[0-9]+")
_TYPE_NAMES: Final = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}
_MAX_SHORT_CODE_DIGITS: Final = 6
# The longest emergency number of any region (phonenumbers' short-number metadata, and
# UNIVERSAL_EMERGENCY); a unit test holds it to the metadata.
MAX_EMERGENCY_DIGITS: Final = 6
_MIN_DIGITS_BEFORE_EXTENSION: Final = 6
# An extension written after the number; the separator before it is required so that
# digits alone are never read as one.
_EXTENSION: Final = re.compile(
    r"(?:\s*[;,]?\s*(?:ext(?:ension)?\.?|x)\s*[.:=]?|\s*;\s*ext\s*=|\s*#)\s*([0-9]{1,10})\s*$",
    re.IGNORECASE,
)


def _reject(code: RejectCode, reason: str) -> Rejected:
    return Rejected(code=code, reason=reason)


def check_number(raw: str, default_region: str = "AU") -> NumberCheck:
    """Decide whether a cell holds a phone number that may be tested.

    `default_region` (ISO alpha-2, case-insensitive) applies to numbers written without a
    country code. Accepted forms include `+61 412 345 678`, `0061...`, `0011 61...`,
    `61412345678` and national `(04) 1234-5678`. Raises ValueError for an unknown region.
    """
    region = default_region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown default region {default_region!r}")
    text, extension = split_extension(visible(raw))
    if not text:
        return _reject(RejectCode.NO_NUMBER, "The cell is empty: there is no number to test.")
    if _SCIENTIFIC.fullmatch(text):
        return _reject(
            RejectCode.INVALID_NUMBER,
            "The number was turned into scientific notation by a spreadsheet (like "
            "6.14E+11) and its digits are lost: format the column as text and export again.",
        )
    if any(ch.isalpha() for ch in text):
        return _reject(
            RejectCode.CONTAINS_LETTERS,
            "The number contains letters; a phone number may only hold digits.",
        )
    compact = _SEPARATORS.sub("", text)
    if not compact:
        return _reject(RejectCode.NO_NUMBER, "The cell holds no digits: there is no number.")
    if not _DIALLABLE.fullmatch(compact):
        return _reject(
            RejectCode.INVALID_NUMBER,
            "The number contains characters that are not part of a phone number.",
        )
    digits = compact.lstrip("+")
    if _is_emergency(digits, region):
        return _emergency(digits)
    parsed = _parse(compact, region)
    if isinstance(parsed, Rejected):
        return parsed
    result = _classify(parsed, region)
    if isinstance(result, Accepted) and extension is not None:
        return Accepted(result.e164, result.region, result.number_type, extension)
    return result


def visible(raw: str) -> str:
    """The cell as a person sees it: NFKC-normalised, without format characters (Cf:
    zero-width spaces and joiners, bidi marks), every Unicode space (Zs) a plain space,
    stripped."""
    if raw.isascii():
        # Plain ASCII (nearly every cell) has no format character, no space but " ", and
        # is its own NFKC form.
        return raw.strip()
    text = unicodedata.normalize("NFKC", raw)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        kept.append(" " if category == "Zs" else ch)
    return "".join(kept).strip()


def split_extension(text: str) -> tuple[str, str | None]:
    """`(number, extension digits)` of a cell such as `0412 345 673 ext. 12`; the extension
    is None when the cell has none."""
    found = _EXTENSION.search(text)
    number = text[: found.start()].strip() if found else ""
    # `04x2345678` is a typo, not a number with an extension.
    if found is None or sum(ch.isdigit() for ch in number) < _MIN_DIGITS_BEFORE_EXTENSION:
        return text, None
    return number, found.group(1)


def _parse(compact: str, region: str) -> phonenumbers.PhoneNumber | Rejected:
    """Parse with the region's own rules, then read a leading 00 as an international prefix."""
    first: phonenumbers.PhoneNumber | NumberParseException
    try:
        first = phonenumbers.parse(compact, region)
    except NumberParseException as error:
        first = error
    if compact.startswith("00") and not (
        isinstance(first, phonenumbers.PhoneNumber) and phonenumbers.is_valid_number(first)
    ):
        try:
            return phonenumbers.parse("+" + compact[2:], None)
        except NumberParseException as error:
            if not isinstance(first, phonenumbers.PhoneNumber):
                first = error
    if isinstance(first, phonenumbers.PhoneNumber):
        return first
    return _parse_error(first, compact)


def _parse_error(error: NumberParseException, compact: str) -> Rejected:
    kind = error.error_type
    if kind == NumberParseException.INVALID_COUNTRY_CODE:
        return _reject(
            RejectCode.INVALID_COUNTRY_CODE,
            "The number does not start with a known country code.",
        )
    if kind == NumberParseException.TOO_LONG:
        return _too_long(None)
    if kind in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
        return _too_short(None)
    if len(compact.lstrip("+")) < 3:
        return _too_short(None)
    return _reject(RejectCode.INVALID_NUMBER, "The value is not a phone number.")


def _classify(number: phonenumbers.PhoneNumber, default_region: str) -> NumberCheck:
    country_code = number.country_code or 0
    country = f"+{country_code}"
    home = phonenumbers.region_code_for_country_code(country_code)
    if home == "ZZ":
        return _reject(
            RejectCode.INVALID_COUNTRY_CODE,
            f"The number starts with {country}, which is not a country code.",
        )
    if home == "001":
        return _reject(
            RejectCode.INVALID_COUNTRY_CODE,
            f"{country} is a global service code (satellite or international network), not a "
            "country; such numbers are not tested.",
        )
    national = phonenumbers.national_significant_number(number)
    if _is_emergency(national, home):
        return _emergency(national)
    # A number is valid exactly when its type is known (`is_valid_number` and `number_type`
    # both look the type up under the region `region_code_for_number` finds): one lookup.
    kind = phonenumbers.number_type(number)
    valid = kind != PhoneNumberType.UNKNOWN
    if shortnumberinfo.is_valid_short_number_for_region(number, home) or (
        valid
        and len(national) <= _MAX_SHORT_CODE_DIGITS
        and shortnumberinfo.is_possible_short_number_for_region(number, home)
    ):
        return _reject(
            RejectCode.EMERGENCY_OR_SHORT_CODE,
            f"{national} is a short code (a special service number), not a phone line; "
            "it is not tested.",
        )
    possible = phonenumbers.is_possible_number_with_reason(number)
    where = f"{home} ({country})"
    if possible in (Possible.TOO_SHORT, Possible.IS_POSSIBLE_LOCAL_ONLY):
        return _too_short(where)
    if possible == Possible.TOO_LONG:
        return _too_long(where)
    if possible == Possible.INVALID_LENGTH:
        return _reject(
            RejectCode.INVALID_NUMBER,
            f"The number has the wrong number of digits for a phone number in {where}.",
        )
    if not valid:
        # Lengths the country allows for any service (AU: 5 to 12 digits) hide a mobile or
        # landline that lost digits (0412 345 67) or lacks its area code (9876 5432).
        by_type = {
            Possible.TOO_SHORT if reason == Possible.IS_POSSIBLE_LOCAL_ONLY else reason
            for reason in (
                phonenumbers.is_possible_number_for_type_with_reason(number, kind)
                for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)
            )
        }
        if by_type == {Possible.TOO_SHORT}:
            return _too_short(where)
        if by_type == {Possible.TOO_LONG}:
            return _too_long(where)
        return _reject(
            RejectCode.INVALID_NUMBER,
            f"The number is not in a range allocated to any phone service in {where}.",
        )
    if kind == PhoneNumberType.PREMIUM_RATE:
        return _reject(
            RejectCode.PREMIUM_RATE,
            "The number is a premium-rate service, charged at a premium to the caller; it is "
            "not tested.",
        )
    return Accepted(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(number) or home,
        number_type=_TYPE_NAMES.get(kind, "unknown"),
    )


def _is_emergency(digits: str, region: str) -> bool:
    # A phone line's worth of digits is no emergency number anywhere: skip the patterns.
    if len(digits) > MAX_EMERGENCY_DIGITS:
        return False
    return digits in UNIVERSAL_EMERGENCY or shortnumberinfo.is_emergency_number(digits, region)


def _emergency(digits: str) -> Rejected:
    return _reject(
        RejectCode.EMERGENCY_OR_SHORT_CODE,
        f"{digits} is an emergency number and must never be called.",
    )


def _too_short(where: str | None) -> Rejected:
    suffix = f" in {where}" if where else ""
    return _reject(
        RejectCode.TOO_SHORT,
        f"The number has too few digits for a phone number{suffix}: a digit or the area code "
        "may be missing.",
    )


def _too_long(where: str | None) -> Rejected:
    suffix = f" in {where}" if where else ""
    return _reject(
        RejectCode.TOO_LONG, f"The number has too many digits for a phone number{suffix}."
    )


def duplicate_of(first_row: int) -> Rejected:
    """The rejection for a number already seen on data row `first_row` of the same batch."""
    return _reject(
        RejectCode.DUPLICATE,
        f"The number is a duplicate: it already appears on data row {first_row}.",
    )


__all__ = [
    "UNIVERSAL_EMERGENCY",
    "Accepted",
    "NumberCheck",
    "RejectCode",
    "Rejected",
    "check_number",
    "duplicate_of",
    "split_extension",
    "visible",
]
