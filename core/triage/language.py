"""Is this message in Spanish? A deterministic fallback for when the learned model is not loaded
(the model's own language head decides otherwise). Counts common Spanish function words and
symptom words against English ones; accents are optional (patients often leave them out)."""

from __future__ import annotations

import re
import unicodedata

_ES = frozenset(
    """que q k de la el los las mi me se te le lo una uno por para con sin pero porque xq
    tengo tiene estoy esta estan siento duele dolor hinchado hinchada hinchazon ojo ojos cara labio
    labios garganta respirar aire fiebre calentura pus costra costras granos ronchas comezon picazon
    ardor sangre sangrado mareo desmaye pecho ayer hoy manana dias dia tratamiento normal puedo
    ya muy mas mucho poco tambien quiero hacer nada vida morir ayuda hola gracias usted""".split()
)
_EN = frozenset(
    """the a an and of to my me is it i im i'm it's its this that with for on in at have has
    face skin red swollen can cant could should would what when how day days today yesterday
    treatment feel feels pain hurts after still just no not""".split()
)
_WORD = re.compile(r"[a-z']+")


def word_counts(text: str) -> tuple[int, int]:
    """How many common Spanish and English words the message has (accents optional)."""
    norm = unicodedata.normalize("NFKD", (text or "").lower())
    norm = "".join(ch for ch in norm if not unicodedata.combining(ch))
    words = _WORD.findall(norm)
    return sum(1 for w in words if w in _ES), sum(1 for w in words if w in _EN)


def looks_spanish(text: str) -> bool:
    es, en = word_counts(text)
    return es >= 2 and es > en


def looks_english(text: str) -> bool:
    es, en = word_counts(text)
    return en >= 3 and en > 2 * es
