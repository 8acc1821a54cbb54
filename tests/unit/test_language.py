"""core.language: which language a conversation is answered in (issue #18)."""

from __future__ import annotations

import pytest

from core.language import decide, detected, normalise, requested


@pytest.mark.parametrize(
    "text, want",
    [
        ("en español por favor", "es"),
        ("¿Puede contestar en español?", "es"),
        ("hablas espanol?", "es"),
        ("Spanish please", "es"),
        ("español", "es"),
        ("in spanish pls", "es"),
        ("English please", "en"),
        ("en ingles porfa", "en"),
        ("do you speak english?", "en"),
        ("can I wear makeup tomorrow", None),
        ("puedo usar maquillaje mañana?", None),
        ("my english teacher said to ask", None),  # names a language, asks for none
    ],
)
def test_a_request_for_a_language_is_recognised_in_both_languages(text: str, want: str | None) -> None:
    assert requested(text) == want


@pytest.mark.parametrize(
    "text, model, want",
    [
        ("puedo usar maquillaje manana?", None, "es"),  # Spanish words, no accents, no model
        ("hola", None, "es"),
        ("gracias!!", "en", "es"),  # one Spanish word: whatever a model says about so little
        ("ok", "es", None),  # too little to change anything
        ("1", "en", None),
        ("3 dias", None, "es"),  # short, with a Spanish-only word and no English one
        ("see ya", None, None),
        ("can I wear makeup tomorrow", "en", "en"),
        ("can I wear makeup tomorrow", None, None),  # without the model, 2 common English words are not enough
        ("is it normal that my face is still red on day 4", None, "en"),
        ("el skinpen me dejo la cara roja", "es", "es"),
    ],
)
def test_a_message_changes_the_language_only_when_it_is_clear(text: str, model: str | None, want: str | None) -> None:
    assert detected(text, model) == want


def test_the_order_request_then_message_then_conversation_then_preference() -> None:
    # a request wins, and a message that is only a request says so
    d = decide("en español por favor", current="en", preferred="en", model_language="en")
    assert (d.language, d.switched, d.only_a_request) == ("es", True, True)
    d = decide("en español: puedo usar maquillaje?", current="en", model_language="es")
    assert (d.language, d.switched, d.only_a_request) == ("es", True, False)
    # the message's own language next
    assert decide("can you tell me when I can wear makeup", current="es", model_language="en").language == "en"
    # an unclear message keeps the conversation's language, then the patient's preference, then English
    assert decide("ok", current="es", preferred="en").language == "es"
    assert decide("ok", current=None, preferred="es").language == "es"
    assert decide("ok", current=None, preferred=None).language == "en"


@pytest.mark.parametrize(
    "value, want",
    [
        ("es-US", "es"),
        ("es_MX", "es"),
        ("ES", "es"),
        ("Spanish", "es"),
        ("Español", "es"),
        ("en-GB", "en"),
        ("fr-FR", None),
        ("", None),
        (None, None),
    ],
)
def test_browser_and_staff_language_values(value: str | None, want: str | None) -> None:
    assert normalise(value) == want
