"""Canned replies: validation and filling placeholders (core/canned.py)."""

from __future__ import annotations

import pytest

from core import canned


def test_placeholders_are_filled_for_the_conversation() -> None:
    text = canned.fill(
        "Hi {first_name}, {clinic} here: call {clinic_phone}.",
        language="en",
        first_name="Ana",
        clinic="Glow",
        clinic_phone="(201) 555-0100",
    )
    assert text == "Hi Ana, Glow here: call (201) 555-0100."


def test_without_a_name_the_greeting_still_reads_well_in_both_languages() -> None:
    assert canned.fill("Hi {first_name}, ok.", language="en", first_name=None, clinic="", clinic_phone="") == "Hi there, ok."
    assert canned.fill("Hola {first_name}, ¿puede?", language="es", first_name="", clinic="", clinic_phone="") == "Hola, ¿puede?"


@pytest.mark.parametrize(
    ("title", "language", "body", "message"),
    [
        ("", "en", "text", "title"),
        ("t", "en", "  ", "text"),
        ("t" * 101, "en", "text", "too long"),
        ("t", "en", "x" * 1601, "too long"),
        ("t", "de", "text", "English or Spanish"),
        ("t", "en", "Hi {name}", "placeholders"),
        ("t", "en", "a } b", "placeholders"),
    ],
)
def test_invalid_canned_replies_are_refused(title: str, language: str, body: str, message: str) -> None:
    with pytest.raises(canned.CannedError, match=message):
        canned._validated(title, language, body)


def test_nul_characters_and_windows_line_ends_are_cleaned() -> None:
    assert canned._validated(" Photo\x00 ", "es", "Hola\r\nfoto\x00") == ("Photo", "es", "Hola\nfoto")
