"""Two questions in one message (issue #15): where a patient's message asks more than one thing.

"can I wear makeup tomorrow? and when can I go back to the gym" asks two things; "can I use
sunscreen and moisturizer tomorrow" asks one. :func:`question_segments` returns the questions of a
message, each with the context sentences that came before it ("my skin is peeling a lot. is that
normal?"), or the whole message when it asks one thing or the split is not clear (stdlib only),
English and Spanish.

A split is made only where a question visibly ends or begins:

- after a question mark ("...tomorrow? when can I...");
- before a connector followed by a question opener ("... and when can I ...", "... also is it ok
  to ...", "... y cuando puedo ...", "..., can I ...");

and every part must be a question of at least three words: one that ended with "?" or starts with
an opener (can, should, when, is it, puedo, cuándo, se puede ...). Anything else stays whole: a
wrong split would answer half a question, which is worse than answering the main one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable
from typing import Any

from core.ports import Assistant, AssistantTurn
from core.topics import TOPIC_IDS

# what a question of a several-question message may be answered with: a topic, or "no guidance"
# for one the guide does not answer; small talk and unclear parts are left out (the other
# questions' answers are enough)
_SMALL_TALK = frozenset({"greet", "goodbye", "thanks", "bot_challenge", "out_of_scope"})
OUT_OF_GUIDE = "out_of_guide"
MAX_SEGMENTS = 3  # a longer list of questions is answered as one message (the first ones, then staff)

_OPENERS_EN = (
    r"can|cn|could|may|should|shud|shld|will|would|is|isnt|are|am|was|do|does|did|dont|how|hw|when|wen|"
    r"what|whats|wat|where|which|why|who|any|anything|r|ok|okay"
)
_OPENERS_ES = (
    r"puedo|pueda|puede|pueden|podre|podria|podemos|se\s+puede|me\s+puedo|cuando|como|cual|cuales|"
    r"cuanto|cuanta|cuantos|cuantas|cada\s+cuanto|donde|por\s*que|xq|pq|debo|deberia|tengo\s+que|"
    r"ya\s+(?:me\s+|se\s+|lo\s+)?(?:puedo|puede|pueden)|(?:de|con|en|para|a)\s+que|"
    r"me\s+pueden|me\s+puede|nos\s+pueden|tienen|sirve|funciona|duele|todavia|se\s+siente|se\s+nota|"
    r"necesito|necesitaria|los\s+resultados|el\s+resultado"
)
# Spanish words that open a question but also join clauses ("una crema, que me dio...", "y es que..."):
# an opener only at the start of a sentence or after a connector, never after a bare comma
_OPENERS_ES_WEAK = r"que|es|esta|como|hay|sera|dura"
_STRONG = rf"(?:{_OPENERS_EN}|{_OPENERS_ES})\b"
_OPENER = rf"(?:{_OPENERS_EN}|{_OPENERS_ES}|{_OPENERS_ES_WEAK})\b"
_CONNECTOR = (
    r"(?:and\s+also|and|also|plus|oh\s+and|btw|by\s+the\s+way|one\s+more\s+thing|another\s+question|"
    r"y\s+tambien|y\s+ademas|y\s+otra\s+cosa|y|ah\s+y|tambien|ademas|otra\s+pregunta|otra\s+cosa|una\s+cosa\s+mas)"
)
_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_STARTS_WITH_OPENER = re.compile(rf"^\s*(?:{_CONNECTOR}\s*[,:]?\s+{_OPENER}|{_STRONG})", re.IGNORECASE)
_STARTS_WITH_ANY_OPENER = re.compile(rf"^\s*(?:{_CONNECTOR}\s*[,:]?\s+)?{_OPENER}", re.IGNORECASE)
# a boundary inside a sentence: ", can I", " and when", " also is it", " y cuando", ", y se puede"
# or any comma (a part that is not a question then stays as context of the next one), or two words
# that can only begin a question, with nothing before them ("is it safe for dark skin how long
# does it take", "duele cuanto cuesta")
_QUESTION_START = (
    r"(?:can|could|should|do|will|would)\s+(?:i|u|you|it|we)|how\s+(?:long|much|many|often|soon|do|does|is|can)|"
    r"when\s+(?:can|should|will|do|does|is)|what\s+(?:should|can|do|does|is|are|about)|where\s+(?:are|is|do)|"
    r"is\s+it|are\s+(?:you|there)|cuando\s+(?:puedo|se\s+puede|debo)|cuanto\s+(?:cuesta|tiempo|dura|tarda)|"
    r"(?:se|me)\s+puedo|puedo\s+(?:usar|ponerme|hacer|ir|lavarme|volver|tomar)"
)
_INNER = re.compile(
    rf"(?:\s*,\s*|\s+)(?={_CONNECTOR}\s*[,:]?\s+{_OPENER})|\s*[,;]\s*|(?P<bare>\s+)(?=(?:{_QUESTION_START})\b)", re.IGNORECASE
)
# a question that follows one of these is part of the sentence ("can you tell me how long it lasts",
# "i was wondering when can i", "no se cuanto cuesta"), not a second question
_EMBEDS = re.compile(
    rf"(?:\b(?:know|tell\s+me|wondering|wonder|ask|asking|sure|idea|explain|say|show\s+me|if|whether|saber|"
    rf"decir|digan|dime|pregunto|preguntar|si)|\b{_CONNECTOR}|\b{_OPENER})\s*$",
    re.IGNORECASE,
)
_ONLY_CONNECTOR = re.compile(rf"^\s*{_CONNECTOR}\s*[,:;]?\s*$", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[?!.])\s+|\n+|(?<=\?)(?=\S)")


def _plain(text: str) -> str:
    """Lower case without accents (the patterns are written without them)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("¿", " ").replace("¡", " ")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _is_question(part: str, *, whole_sentence: bool) -> bool:
    """A question: it starts with an opener, or it is a whole sentence ending with "?"; three words
    or more, or two with both ("how much?"). A comma-separated part must start with an opener:
    "is it ok to wear sunscreen, makeup, and moisturizer?" is one question."""
    plain = _plain(part).strip()
    asked = whole_sentence and plain.endswith("?")
    opens = bool((_STARTS_WITH_ANY_OPENER if whole_sentence else _STARTS_WITH_OPENER).match(plain))
    n = _words(plain)
    return (n >= 3 and (asked or opens)) or (n == 2 and asked and opens)


_WH = re.compile(r"^\s*(?:how\s+(?:soon|long|many|much|often|early|late|far)|when)\b", re.IGNORECASE)
_VERBISH = frozenset("is are am was were do does did can could should will would has have i it you we u im its".split())


def _fronted(part: str) -> bool:
    """ "How soon / how many / when" and no verb, four words at most ("how soon after treatment", "how
    many days before"; English), fronting the question after it ("... can I restart my retinoid"): context of that question, not one of its own."""
    plain = _plain(part)
    words = _WORD.findall(plain)
    return len(words) <= 4 and bool(_WH.match(plain)) and not any(w in _VERBISH for w in words[1:])


def _clean(part: str) -> str:
    """A part as it is sent on: without a leading connector ("and when can I" -> "when can I")."""
    plain = _plain(part)
    m = re.match(rf"^\s*{_CONNECTOR}\s*[,:]?\s+(?={_OPENER})", plain, re.IGNORECASE)
    out = part[m.end() :] if m else part  # _plain keeps positions for Latin text (accents are combining marks)
    return out.strip(" ,;")


def _split_sentence(sentence: str) -> list[str]:
    plain = _plain(sentence)
    if len(plain) != len(sentence):  # a character that decomposes to several: do not cut inside the text
        return [sentence]
    parts, start = [], 0
    for m in _INNER.finditer(plain):
        before = plain[start : m.end()]
        # never leave a part of one word or none ("¿" before "Y cuántas", "oh" before "and does it
        # hurt") or a bare connector ("otra pregunta, que...")
        if m.group("bare") is not None and (_words(before) < 4 or _EMBEDS.search(before)):
            continue  # two question words with no connector: only after a clause of its own
        if _words(before) >= 2 and not _ONLY_CONNECTOR.match(before):
            parts.append(sentence[start : m.end()])
            start = m.end()
    parts.append(sentence[start:])
    return [p.strip() for p in parts if p.strip(" ,;")]


def question_segments(text: str) -> list[str]:
    """The questions of ``text`` in the patient's order, or ``[text]`` when it asks one thing.

    Context sentences before a question are kept with it; a statement after the last question
    stays with that question.
    """
    text = (text or "").strip()
    if not text or _words(text) < 4:
        return [text]
    pieces: list[tuple[str, bool]] = []
    for sentence in _SENTENCE.split(text):
        if sentence and sentence.strip():
            parts = _split_sentence(sentence.strip())
            pieces.extend((part, len(parts) == 1) for part in parts)
    questions: list[str] = []
    context: list[str] = []
    for piece, whole in pieces:
        if not (not whole and _fronted(piece)) and _is_question(piece, whole_sentence=whole):
            questions.append(" ".join([*context, _clean(piece)]).strip())
            context = []
        else:
            context.append(piece)
    if len(questions) < 2:
        return [text]
    if context:  # a statement after the last question belongs to it
        questions[-1] = " ".join([questions[-1], *context])
    return questions[:MAX_SEGMENTS]


def join_turns(turns: list[AssistantTurn], *, leave_out: frozenset[str] = frozenset()) -> AssistantTurn | None:
    """The assistant's answers to the questions of one message, as one turn, in order.

    Each distinct topic is answered once; small talk and parts the assistant did not understand
    are dropped. The turn's intent, confidence and topic are the first answered question's (the
    web chat API's ``topic`` names the first). ``leave_out``: intents not to answer here (a symptom
    whose meaning needs the day, when no day is known: the caller handles it). None unless two different things were answered:
    a split that found one question and a fragment is not trusted over the whole message (on the
    blind sets, splitting single questions without this rule lost some of their answers).
    """
    kept: list[AssistantTurn] = []
    seen: set[str] = set()
    for turn in turns:
        intent = turn.intent or ""
        answerable = (intent in TOPIC_IDS and intent not in _SMALL_TALK | leave_out) or intent == OUT_OF_GUIDE
        if not answerable or (turn.topic or intent) in seen:
            continue
        seen.add(turn.topic or intent)
        kept.append(turn)
    if len(kept) < 2:
        return None
    first = kept[0]
    return AssistantTurn(
        replies=[reply for turn in kept for reply in turn.replies],
        intent=first.intent,
        confidence=first.confidence,
        topic=first.topic,
        requests=[request for turn in kept for request in turn.requests],
    )


async def ask_assistant(
    assistant: Assistant,
    conversation_id: str,
    text: str,
    metadata: dict[str, Any],
    *,
    split: bool = True,
    day_unknown: bool = False,
) -> AssistantTurn:
    """The assistant's turn for ``text``: each question in turn, the answers joined, when the message
    asks several things (and ``split``); else, or when the parts did not give two things to answer,
    the whole message. With ``day_unknown`` a symptom part is not answered (its meaning needs the day;
    the caller asks for the date when nothing else was asked)."""

    def respond(part: str) -> Awaitable[AssistantTurn]:
        return assistant.respond(conversation_id=conversation_id, text=part, metadata=metadata)

    segments = question_segments(text) if split else [text]
    if len(segments) >= 2:
        turns = [await respond(segment) for segment in segments]
        leave_out = frozenset({"symptom_report"}) if day_unknown else frozenset()
        joined = join_turns(turns, leave_out=leave_out)
        if joined is not None:
            return joined
    return await respond(text)
