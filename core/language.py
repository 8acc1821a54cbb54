"""The language a conversation is answered in (issue #18): English or Spanish.

Decided once per turn, in this order:

1. the patient asks for one ("en español por favor", "English please"): that, from now on;
2. the message itself is clearly in one language: that (a patient who switches mid-way is
   followed). Clear means: common Spanish words outnumber English ones (``looks_spanish``), a
   one-word Spanish greeting or thanks, or, for three words or more, the learned red-flag model's
   language head (multilingual sentence encoder), or, without the model, clearly more English
   words than Spanish; a short message with a Spanish-only word and no English one is Spanish
   whatever the model says (it reads English loan words: "que es microneedling");
3. otherwise the conversation keeps the language it has ("ok", "1", "3" change nothing);
4. a new conversation starts in the patient's preferred language (staff or the CSV import set it),
   else the web chat browser's language, else English.

Pure: no database; the caller stores the result on the conversation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core.triage.language import looks_english, looks_spanish, word_counts

ENGLISH = "en"
SPANISH = "es"
LANGUAGES = (ENGLISH, SPANISH)
LANGUAGE_NAMES = {ENGLISH: "English", SPANISH: "Español"}

_WORDS = re.compile(r"[a-z]+")
# one-word messages that are Spanish whatever the model says
_SPANISH_ALONE = frozenset("hola gracias buenas buenos adios ayuda porfa porfavor si claro vale oiga disculpe".split())
# Spanish words no English message uses: in a short message with no English word, they decide
# ("que es microneedling", "ola k ase"), where the model's language head (trained on sentences,
# for the safety reply) reads the English loan words and says English.
_SPANISH_ONLY = frozenset(
    """que q k de el los las mi mis se por para con pero porque xq pq tengo tiene tienen estoy esta estan
    puedo puede hola gracias buenas buenos hay voy vas nos como cuando donde usted ustedes muy mucho
    tambien tmb quiero ayer hoy manana dia dias cuanto cuantos cuesta sirve sale hace hacer bueno pues
    ahi aqui alguien nadie algo nada entonces despues antes mejor eres es un una eso esto mismo tu su
    sus del al si oye estas""".split()
)
_SHORT = 6


def _plain(text: str) -> str:
    norm = unicodedata.normalize("NFKD", (text or "").lower())
    return "".join(ch for ch in norm if not unicodedata.combining(ch))


_TO_SPANISH = re.compile(
    r"\b(?:en|in)\s+(?:espanol|castellano|spanish)\b"
    r"|\b(?:espanol|spanish)\s+(?:por\s*fa\w*|please|pls|plz)\b"
    r"|\b(?:habla\w*|speak\w*)\s+(?:espanol|spanish)\b"
    r"|^\W*(?:espanol|spanish)\W*$"
)
_TO_ENGLISH = re.compile(
    r"\b(?:en|in)\s+(?:ingles|english)\b"
    r"|\b(?:ingles|english)\s+(?:por\s*fa\w*|please|pls|plz)\b"
    r"|\b(?:habla\w*|speak\w*)\s+(?:ingles|english)\b"
    r"|^\W*(?:ingles|english)\W*$"
)


# the words around a request that ask for nothing else ("¿me puede contestar en español, por favor?")
_REQUEST_WORDS = frozenset(
    """por favor porfa please pls plz puede puedes podria contestar responder me you can could answer reply
    escribir hablar talk do si yes ok""".split()
)


def requested(text: str) -> str | None:
    """The language the patient asks to be answered in, if the message asks for one."""
    plain = _plain(text)
    if _TO_SPANISH.search(plain):
        return SPANISH
    if _TO_ENGLISH.search(plain):
        return ENGLISH
    return None


def detected(text: str, model_language: str | None = None) -> str | None:
    """The message's own language when it is clear, else None (keep the conversation's)."""
    words = _WORDS.findall(_plain(text))
    if not words:
        return None
    if looks_spanish(text) or (len(words) <= 2 and words[0] in _SPANISH_ALONE):
        return SPANISH
    if len(words) <= _SHORT and any(w in _SPANISH_ONLY for w in words) and not word_counts(text)[1]:
        return SPANISH  # a short message with a Spanish word and no English one
    if len(words) >= 3 and model_language in LANGUAGES:
        return model_language
    if looks_english(text):  # the model is not loaded: English words, clearly
        return ENGLISH
    return None


def normalise(value: str | None) -> str | None:
    """ "es-US", "es_MX", "ES", "Spanish", "español" -> "es"; unknown -> None."""
    plain = _plain(value or "").strip().replace("_", "-")
    if not plain:
        return None
    if plain.split("-")[0] in LANGUAGES:
        return plain.split("-")[0]
    return {"spanish": SPANISH, "espanol": SPANISH, "english": ENGLISH, "ingles": ENGLISH}.get(plain)


@dataclass(frozen=True)
class Decision:
    language: str
    switched: bool = False  # the patient asked for it in this message
    only_a_request: bool = False  # the message did nothing else ("en español por favor")


def decide(
    text: str,
    *,
    current: str | None,
    preferred: str | None = None,
    model_language: str | None = None,
) -> Decision:
    """This turn's language (see the module's docstring for the order)."""
    asked = requested(text)
    if asked is not None:
        rest = _WORDS.findall(_TO_SPANISH.sub(" ", _TO_ENGLISH.sub(" ", _plain(text))))
        return Decision(asked, switched=True, only_a_request=all(w in _REQUEST_WORDS for w in rest))
    found = detected(text, model_language)
    if found is not None:
        return Decision(found)
    return Decision(normalise(current) or normalise(preferred) or ENGLISH)
