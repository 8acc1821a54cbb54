"""What the patient is told, and the one-line reason staff see.

Replies are plain text and SMS-friendly. They never repeat health details the
patient did not write, and they add no clinical advice beyond the policy's
generic "what to do meanwhile".
"""

from __future__ import annotations

from .model import Level, TriageResult
from .rules import LABELS


def _clinic(name: str) -> str:
    return name.strip() or "the clinic"


# What the patient reads, by language. One entry per message; {clinic} and {phone} are filled in.
# Spanish uses "usted" throughout. Each Spanish line carries the same facts as the English one.
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "call_911": "Please call 911 now (a voice call - texting 911 does not work everywhere).",
        "988": "You can also call or text 988, the Suicide & Crisis Lifeline, any time, day or night.",
        "988_if": "If you are having thoughts of harming yourself, you can also call or text 988, any time.",
        "alerted_reach": "We've alerted the {clinic} team and someone will reach out. You are not alone.",
        "alerted_stay": "We've alerted the {clinic} team. If someone is with you, ask them to stay with you.",
        "urgent": "Thank you for telling us. A clinician from {clinic} will contact you today. {meanwhile} "
        "If it gets much worse or you feel very unwell, call 911.",
        "meanwhile_skin": "Meanwhile, keep the area clean and leave it be: no picking, makeup or new products.",
        "meanwhile_allergy": "Meanwhile, put nothing new on your skin. If your lips, tongue or throat swell or breathing "
        "gets hard, call 911 at once.",
        "meanwhile_eye": "Meanwhile, keep products and makeup away from your eyes.",
        "meanwhile_other": "Meanwhile, put nothing new on your skin.",
        "our_number": " Our number: {phone}",
        "routine": "Thanks for letting us know. We've passed this to the {clinic} team, who will follow up, "
        "usually within one business day. If it gets worse before then, reply here{call_us}.",
        "call_us": " or call us on {phone}",
        "ask_day": "Thanks for telling me. So I can say what's normal for where you are in your recovery: "
        "when was your treatment? (today, yesterday, or a date)",
        "reassure": "Thanks for the update. That sounds like part of normal healing for this stage. "
        "If anything gets worse or worries you, message us here{call_us}.",
        "default": "If you have any concerns about your skin, message us here{call_us}.",
        "unplaced": "I'm not sure about that one, so I've passed it to the {clinic} team, who will follow up, "
        "usually within one business day. If it gets worse before then, reply here{call_us}. "
        "If you feel very unwell, call 911.",
    },
    "es": {
        "call_911": "Llame al 911 ahora (una llamada de voz; los mensajes de texto al 911 no funcionan en todas partes).",
        "988": "También puede llamar o enviar un texto al 988, la Línea de Prevención del Suicidio y Crisis, "
        "a cualquier hora (para español, marque 988 y oprima 2).",
        "988_if": "Si tiene pensamientos de hacerse daño, también puede llamar o enviar un texto al 988 a cualquier hora.",
        "alerted_reach": "Avisamos al equipo de {clinic} y alguien se comunicará con usted. No está solo en esto.",
        "alerted_stay": "Avisamos al equipo de {clinic}. Si alguien está con usted, pídale que se quede a su lado.",
        "urgent": "Gracias por avisarnos. Un profesional clínico de {clinic} se comunicará con usted hoy. {meanwhile} "
        "Si empeora mucho o se siente muy mal, llame al 911.",
        "meanwhile_skin": "Mientras tanto, mantenga la zona limpia y no la toque: nada de rascar, maquillaje ni productos nuevos.",
        "meanwhile_allergy": "Mientras tanto, no se ponga nada nuevo en la piel. Si se le hinchan los labios, la lengua o "
        "la garganta o le cuesta respirar, llame al 911 de inmediato.",
        "meanwhile_eye": "Mientras tanto, mantenga los productos y el maquillaje lejos de los ojos.",
        "meanwhile_other": "Mientras tanto, no se ponga nada nuevo en la piel.",
        "our_number": " Nuestro número: {phone}",
        "routine": "Gracias por avisarnos. Pasamos su mensaje al equipo de {clinic}, que le dará seguimiento, "
        "normalmente en un día hábil. Si empeora antes, escriba aquí{call_us}.",
        "call_us": " o llámenos al {phone}",
        "ask_day": "Gracias por contarme. Para decirle qué es normal en su etapa de recuperación: "
        "¿cuándo fue su tratamiento? (hoy, ayer o una fecha)",
        "reassure": "Gracias por contarnos. Eso parece parte de la curación normal en esta etapa. "
        "Si algo empeora o le preocupa, escríbanos aquí{call_us}.",
        "default": "Si tiene cualquier duda sobre su piel, escríbanos aquí{call_us}.",
        "unplaced": "No estoy seguro de qué es eso, así que lo pasé al equipo de {clinic}, que le dará seguimiento, "
        "normalmente en un día hábil. Si empeora antes, escriba aquí{call_us}. Si se siente muy mal, llame al 911.",
    },
}

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
    if result.language in TEXT:
        return result.language
    if text is not None:
        from .language import looks_spanish

        return "es" if looks_spanish(text) else "en"
    return "en"


def patient_reply(result: TriageResult, *, clinic_name: str, clinic_phone: str, language: str = "en") -> str:
    """The reply for a screened message, by level (see the table in docs/triage-policy.md)."""
    t = TEXT.get(language, TEXT["en"])
    clinic = _clinic(clinic_name) if language == "en" or clinic_name.strip() else "la clínica"
    phone = clinic_phone.strip()
    call_us = t["call_us"].format(phone=phone) if phone else ""
    if result.level is Level.EMERGENCY:
        lines = [t["call_911"]]
        model_only = not any(f.level is Level.EMERGENCY and not f.code.startswith("model.") for f in result.findings)
        unplaced = [f for f in result.findings if f.code == "model.emergency" and "resembles" not in f.rule]
        if result.self_harm:
            lines.append(t["988"])
            lines.append(t["alerted_reach"].format(clinic=clinic))
        elif model_only and unplaced:
            # the model read an emergency without saying which: it may be self-harm, so give 988 too
            lines.append(t["988_if"])
            lines.append(t["alerted_reach"].format(clinic=clinic))
        else:
            lines.append(t["alerted_stay"].format(clinic=clinic))
        return "\n".join(lines)
    if result.level is Level.URGENT:
        text = t["urgent"].format(clinic=clinic, meanwhile=t[_meanwhile(result)])
        return text + (t["our_number"].format(phone=phone) if phone else "")
    if result.level is Level.ROUTINE:
        return t["routine"].format(clinic=clinic, call_us=call_us)
    if result.needs_day:
        return t["ask_day"]
    if result.is_symptom:
        return t["reassure"].format(call_us=call_us)
    return t["default"].format(call_us=call_us)


def unplaced_reply(*, clinic_name: str, clinic_phone: str, language: str = "en") -> str:
    """A symptom the screen could not place: an honest reply (never reassurance) and a routine review."""
    t = TEXT.get(language, TEXT["en"])
    phone = clinic_phone.strip()
    clinic = _clinic(clinic_name) if language == "en" or clinic_name.strip() else "la clínica"
    return t["unplaced"].format(clinic=clinic, call_us=t["call_us"].format(phone=phone) if phone else "")


UNPLACED_REASON = "routine: a symptom the assistant cannot place with confidence (not reassured)"


def reason_text(result: TriageResult, day: int | None) -> str:
    """Short staff-facing summary, e.g. "urgent: pus / coloured discharge (signs of infection), day 3"."""
    if day is not None:
        when = f"day {day}"
    elif result.day_used is not None:
        when = f"day {result.day_used} (stated by patient)"
    else:
        when = "day unknown"
    if not result.findings:
        if result.needs_day:
            return f"none: expected-healing symptom, waiting for treatment date ({when})"
        exp = ", ".join(result.expected)
        return f"none: {exp or 'no symptom'} ({when})"
    parts: list[str] = []
    for f in result.findings:
        label, group = LABELS.get(f.code, (f.code, ""))
        part = f"{label} ({group})" if group else label
        if part not in parts:
            parts.append(part)
    shown = "; ".join(parts[:3]) + (f"; +{len(parts) - 3} more" if len(parts) > 3 else "")
    return f"{result.level.value}: {shown}, {when}"
