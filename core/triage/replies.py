"""What the patient is told after the red-flag screen.

Replies are plain text and SMS-friendly. They never repeat health details the
patient did not write, and they add no clinical advice beyond the policy's
generic "what to do meanwhile". This module picks the message (by level and what
was found); the words are in ``content/<language>/triage.yml`` (English, and Spanish
with "usted"), see :mod:`core.content`. The staff-facing reason is in :mod:`.reasons`.
"""

from __future__ import annotations

from core import content

from .model import Level, TriageResult
from .reasons import UNPLACED_REASON, reason_text

__all__ = ["UNPLACED_REASON", "patient_reply", "reason_text", "reply_language", "unplaced_reply"]

_MEANWHILE = ("meanwhile_skin", "meanwhile_allergy", "meanwhile_eye", "meanwhile_other")
say = content.Area(
    "triage",
    {
        # content keys, not our vocabulary
        "the_clinic", "call_911", "call_988", "call_988_if_self_harm", "alerted_reach", "alerted_stay", "urgent",
        *_MEANWHILE, "our_number", "routine", "call_us", "ask_day", "reassure", "default", "unplaced",
    },
)  # fmt: skip
LANGUAGES: frozenset[str] = say.languages()

_ALLERGY = ("allergy.", "emergency.allergic", "emergency.throat", "emergency.anaphylaxis")


def _meanwhile(result: TriageResult) -> str:
    """The "what to do meanwhile" line that fits what was found (hives are not told to keep clean)."""
    codes = [f.code for f in result.findings if f.level is result.level] or [f.code for f in result.findings]
    if any(c.startswith(_ALLERGY) for c in codes):
        return "meanwhile_allergy"
    if codes and all(c == "eye" for c in codes):
        return "meanwhile_eye"
    if codes and all(c.startswith("model.") for c in codes):
        return "meanwhile_other"  # the model read a red flag but not which one: advise nothing specific
    return "meanwhile_skin"


def reply_language(result: TriageResult, text: str | None = None) -> str:
    """The language of the reply: the screen's (model) verdict, else a word count of the text."""
    if result.language in LANGUAGES:
        return result.language
    if text is not None:
        from .language import looks_spanish

        return "es" if looks_spanish(text) else "en"
    return "en"


def _values(language: str, clinic_name: str, clinic_phone: str) -> dict[str, str]:
    """The language to speak (English when there is no file for it) and the clinic's details in it."""
    language = language if language in LANGUAGES else content.REFERENCE_LANGUAGE
    phone = clinic_phone.strip()
    return {
        "language": language,
        "clinic_name": clinic_name.strip() or say("the_clinic", language=language),
        "clinic_phone": phone,
        "call_us": say("call_us", language=language, clinic_phone=phone) if phone else "",
    }


def patient_reply(result: TriageResult, *, clinic_name: str, clinic_phone: str, language: str = "en") -> str:
    """The reply for a screened message, by level (see the table in docs/triage-policy.md)."""
    v = _values(language, clinic_name, clinic_phone)
    if result.level is Level.EMERGENCY:
        lines = [say("call_911", **v)]
        model_only = not any(f.level is Level.EMERGENCY and not f.code.startswith("model.") for f in result.findings)
        unplaced = [f for f in result.findings if f.code == "model.emergency" and "resembles" not in f.rule]
        if result.self_harm:
            lines += [say("call_988", **v), say("alerted_reach", **v)]
        elif model_only and unplaced:
            # the model read an emergency without saying which: it may be self-harm, so give 988 too
            lines += [say("call_988_if_self_harm", **v), say("alerted_reach", **v)]
        else:
            lines.append(say("alerted_stay", **v))
        return "\n".join(lines)
    if result.level is Level.URGENT:
        text = say("urgent", meanwhile=say(_meanwhile(result), **v), **v)
        return text + (say("our_number", **v) if v["clinic_phone"] else "")
    if result.level is Level.ROUTINE:
        return say("routine", **v)
    if result.needs_day:
        return say("ask_day", **v)
    if result.is_symptom:
        return say("reassure", **v)
    return say("default", **v)


def unplaced_reply(*, clinic_name: str, clinic_phone: str, language: str = "en") -> str:
    """A symptom the screen could not place: an honest reply (never reassurance) and a routine review."""
    return say("unplaced", **_values(language, clinic_name, clinic_phone))
