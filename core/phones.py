"""Phone numbers, with Google's libphonenumber (``phonenumbers``): staff and patients write them
as people do ("(201) 555-0142", "201.555.0142", "+1 201 555 0142"); we store E.164.

Pure: no database. The clinic's numbers are US numbers unless written with a country code.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberMatcher
from phonenumbers.phonenumberutil import ValidationResult

DEFAULT_REGION = "US"
_NOT_DIALLABLE = re.compile(r"[^\d\s+\-().]")


class NotAPhoneNumber(ValueError):
    pass


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """One number typed by a person -> E.164, or NotAPhoneNumber. Accepts any number of a possible
    length for its country (fictional 555 numbers included: the clinic decides what it dials)."""
    text = (raw or "").strip()
    if not text or len(text) > 40 or _NOT_DIALLABLE.search(text):
        raise NotAPhoneNumber("no phone number")  # letters ("vanity" numbers) and other signs are typos here
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise NotAPhoneNumber(str(exc)) from exc
    # the whole number: a local 7-digit "555-0124" lacks its area code
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        raise NotAPhoneNumber("not a possible phone number")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def find_in_text(text: str, region: str = DEFAULT_REGION) -> str | None:
    """The first valid phone number written inside a message ("call me at 201 555 0142"), as E.164.

    Only numbers libphonenumber considers valid for their country: a temperature, a time, a price
    or a menu number ("100.4", "10:30", "$350", "2") is never read as a phone number."""
    for match in PhoneNumberMatcher(text or "", region):
        return phonenumbers.format_number(match.number, PhoneNumberFormat.E164)
    return None


def display(e164: str | None) -> str:
    """As people read it: "(201) 555-0142" for a US number, international format otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == DEFAULT_REGION:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
