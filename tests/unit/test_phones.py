"""Phone numbers as people write them (core/phones.py, on libphonenumber)."""

from __future__ import annotations

import pytest

from core.patients import PatientError, normalize_phone
from core.phones import NotAPhoneNumber, display, find_in_text, to_e164


@pytest.mark.parametrize(
    "raw", ["(201) 555-0142", "201-555-0142", "201.555.0142", "2015550142", "+1 201 555 0142", "+12015550142", "1 (201) 555-0142"]
)
def test_us_numbers_in_any_common_format(raw: str) -> None:
    assert to_e164(raw) == "+12015550142"
    assert normalize_phone(raw) == "+12015550142"


def test_numbers_with_a_country_code_keep_it() -> None:
    assert to_e164("+44 20 7946 0958") == "+442079460958"
    assert display("+442079460958").startswith("+44 20")


@pytest.mark.parametrize("raw", ["", "555-0124", "+1 (201) abc", "call me", "12", "+1 201 555 0142 ext. 9 9 9 9 9 9 9 9 9 9 9"])
def test_what_is_not_a_whole_number_is_refused(raw: str) -> None:
    with pytest.raises(NotAPhoneNumber):
        to_e164(raw)
    with pytest.raises(PatientError):
        normalize_phone(raw)


@pytest.mark.parametrize(
    "text, found",
    [
        ("call me at 201 555 0142 please", "+12015550142"),
        ("my cell is (917) 555-0199, my lip is swelling", "+19175550199"),
        ("temp is 100.4 since 10:30", None),
        ("it cost $350 and I'm on day 14", None),
        ("2", None),
        ("I had it done on 11/23/2026", None),
    ],
)
def test_a_number_inside_a_message_but_never_a_temperature_time_price_or_date(text: str, found: str | None) -> None:
    assert find_in_text(text) == found


def test_display_is_how_a_us_patient_writes_it() -> None:
    assert display("+12015550142") == "(201) 555-0142"
    assert display("") == ""
