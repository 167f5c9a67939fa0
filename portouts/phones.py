"""The one parser of phone numbers typed into a form (list filters, search, Telnyx reports).

Stored numbers are E.164 ("+12065550100"). What a person types says how to match it:

* "+1 206 …": the number starts with these digits (country code first);
* "(206) …": an area code first: the national number (after the country calling code,
  whichever it is) starts with these digits: +1 206 …, and "(207)" finds London's
  +44 207 … too. Calling codes are a prefix code, so `national_pattern` is exact;
* other digits ("555-0100", "2065550100"): the digits anywhere in the number.

A complete number (for a Telnyx report) is the same text read as E.164: "+…" as typed, or
ten national digits (optionally after a leading 1) in the North American plan, where the
port-outs of a Telnyx account almost all are (`NATIONAL_CALLING_CODE`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

#: The calling code of numbers typed nationally, area code first: "(206)" means +1 206.
NATIONAL_CALLING_CODE = "1"
NATIONAL_DIGITS = 10
MIN_DIGITS = 3

PHONE_CHARS = re.compile(r"^[\d\s().+\-/]+$")
E164 = re.compile(r"^\+[1-9]\d{3,14}$")
#: Any country calling code, as a regular expression both SQLite and PostgreSQL run.
CALLING_CODE = "(" + "|".join(str(code) for code in sorted(COUNTRY_CODE_TO_REGION_CODE)) + ")"

INVALID_PHONE = (
    "Enter at least 3 digits of a phone number, e.g. (206) 555-0100, (206) or +1 206 555 0100."
)


@dataclass(frozen=True)
class PhoneQuery:
    """A typed phone number: its digits and where in a stored number they must be."""

    digits: str
    #: the stored number starts with `start` ("+1206"; typed with a "+")
    start: str = ""
    #: the national number starts with `national` ("206"; typed as "(206)")
    national: str = ""

    @property
    def national_pattern(self) -> str:
        """A regular expression of the E.164 numbers whose national number starts so."""
        return f"^\\+{CALLING_CODE}{self.national}" if self.national else ""

    @property
    def e164(self) -> str | None:
        """The complete number in E.164, or None when the digits are not one."""
        number = self.start or self._national_number()  # "(206) 555-0100" as +1 206 …
        if not E164.match(number):
            return None
        national_plan = number.startswith(f"+{NATIONAL_CALLING_CODE}")
        if national_plan and len(number) != 1 + len(NATIONAL_CALLING_CODE) + NATIONAL_DIGITS:
            return None
        return number

    def _national_number(self) -> str:
        """Ten digits typed nationally (or eleven after the calling code) as E.164."""
        digits = self.digits
        if len(digits) == NATIONAL_DIGITS + 1 and digits.startswith(NATIONAL_CALLING_CODE):
            digits = digits[1:]
        return f"+{NATIONAL_CALLING_CODE}{digits}" if len(digits) == NATIONAL_DIGITS else ""


def looks_like_phone(value: str) -> bool:
    """Whether free text (the search box) is a phone number rather than a name or PON."""
    value = value.strip()
    return bool(PHONE_CHARS.match(value)) and len(re.sub(r"\D", "", value)) >= MIN_DIGITS


def parse_phone(value: str) -> PhoneQuery:
    """The phone number typed in `value`; ValidationError with a plain sentence otherwise."""
    value = value.strip()
    if not looks_like_phone(value):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    digits = re.sub(r"\D", "", value)
    if value.startswith("+"):
        return PhoneQuery(digits=digits, start=f"+{digits}")
    if value.startswith("("):
        return PhoneQuery(digits=digits, national=digits)
    return PhoneQuery(digits=digits)


def parse_complete_numbers(value: str) -> list[str]:
    """Complete numbers separated by commas, semicolons or new lines (or by spaces between
    "+…" numbers), in E.164; ValidationError naming those that are not complete numbers."""
    numbers: list[str] = []
    bad: list[str] = []
    for chunk in re.split(r"[,;\n]+", value or ""):
        chunk = chunk.strip()
        if not chunk:
            continue
        parts = chunk.split() if re.fullmatch(r"\+\S+(\s+\+\S+)+", chunk) else [chunk]
        for part in parts:
            try:
                number = parse_phone(part).e164
            except ValidationError:
                number = None
            if number is None:
                bad.append(part)
            else:
                numbers.append(number)
    if bad:
        raise ValidationError(
            "Write complete numbers, e.g. (206) 555-0100 or +1 206 555 0100 "
            f"(not {', '.join(bad[:3])}).",
            code="invalid_phone",
        )
    return numbers
