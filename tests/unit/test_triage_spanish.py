"""The lexicon in Spanish: it still screens when the learned model is down (core/triage/lexicon_es.py).

The phrases here are the test author's own, written for this file; the frozen blind sets are
never copied into tests."""

from __future__ import annotations

import pytest

from core.triage import Level, screen


@pytest.mark.parametrize(
    "text",
    [
        "no puedo respirar bien desde hace un rato",
        "siento que me falta el aire y me silba el pecho",
        "se me esta cerrando la garganta",
        "se me hincharon los labios de repente y me salieron ronchas",
        "me desmaye en el baño",
        "me duele mucho el pecho, como presion",
        "ya no quiero vivir",
        "quiero hacerme daño",
        "mi hermana dice que se quiere morir",
        "mi oximetro marca 86",
    ],
)
def test_spanish_emergencies(text: str) -> None:
    assert screen(text, 2).level is Level.EMERGENCY, screen(text, 2).findings


@pytest.mark.parametrize(
    "text,day",
    [
        ("me esta saliendo pus de un granito", 3),
        ("tengo costras amarillas en la barbilla", 4),
        ("tengo fiebre y escalofrios", 2),
        ("me salio un fuego en el labio", 3),
        ("siento hormigueo en el labio como cuando me sale herpes", 2),
        ("tengo ronchas que pican por todo el cuerpo", 1),
        ("me duele el ojo y veo borroso", 1),
        ("esta mas hinchado hoy que ayer", 4),
        ("no para de sangrar desde hace 20 minutos", 0),
        ("huele feo la zona", 3),
    ],
)
def test_spanish_urgent_findings(text: str, day: int) -> None:
    assert screen(text, day).level.rank >= Level.URGENT.rank, screen(text, day).findings


@pytest.mark.parametrize(
    "text,day",
    [
        ("puedo usar maquillaje mañana?", 1),
        ("no tengo fiebre ni pus, solo un poco roja", 1),
        ("cero ronchas, cero fiebre, solo reseca", 5),
        ("que señales de infeccion debo vigilar?", 2),
        ("si me llegara a salir un fuego, que hago? por ahora nada", 2),
        ("ya me puse la crema que me dieron", 1),
        ("puedo rasurarme con navaja?", 3),
        ("tome todas las pastillas del antibiotico como me dijeron", 4),
        ("cuando puedo regresar al gimnasio?", 2),
        ("me muero por maquillarme", 1),
    ],
)
def test_calm_spanish_does_not_escalate(text: str, day: int) -> None:
    result = screen(text, day)
    assert result.level is Level.NONE, result.findings


def test_accents_and_the_letter_n_tilde_do_not_split_words() -> None:
    assert screen("quiero hacerme daño", 3).level is Level.EMERGENCY
    assert screen("quiero hacerme dano", 3).level is Level.EMERGENCY
    assert screen("está más hinchado que ayer", 4).level is Level.URGENT


def test_english_is_unchanged_by_the_spanish_patterns() -> None:
    assert screen("i passed out", 1).level is Level.EMERGENCY
    assert screen("no fever, no pus, just pink", 2).level is Level.NONE
