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


def patient_reply(result: TriageResult, *, clinic_name: str, clinic_phone: str) -> str:
    """The reply for a screened message, by level (see the table in spec/triage-policy.md)."""
    clinic = _clinic(clinic_name)
    phone = clinic_phone.strip()
    call_us = f" or call us on {phone}" if phone else ""
    if result.level is Level.EMERGENCY:
        lines = ["Please call 911 now (a voice call - texting 911 does not work everywhere)."]
        if result.self_harm:
            lines.append("You can also call or text 988, the Suicide & Crisis Lifeline, any time, day or night.")
            lines.append(f"We've alerted the {clinic} team and someone will reach out. You are not alone.")
        else:
            lines.append(f"We've alerted the {clinic} team. If someone is with you, ask them to stay with you.")
        return "\n".join(lines)
    if result.level is Level.URGENT:
        return (
            f"Thank you for telling us. A clinician from {clinic} will contact you today. "
            "Meanwhile, keep the area clean and leave it be: no picking, makeup or new products. "
            f"If it gets much worse or you feel very unwell, call 911.{' Our number: ' + phone if phone else ''}"
        )
    if result.level is Level.ROUTINE:
        return (
            f"Thanks for letting us know. We've passed this to the {clinic} team, who will follow up, "
            f"usually within one business day. If it gets worse before then, reply here{call_us}."
        )
    if result.needs_day:
        return (
            "Thanks for telling me. So I can say what's normal for where you are in your recovery: "
            "when was your treatment? (today, yesterday, or a date)"
        )
    if result.is_symptom:
        return (
            "Thanks for the update. That sounds like part of normal healing for this stage. "
            f"If anything gets worse or worries you, message us here{call_us}."
        )
    return f"If you have any concerns about your skin, message us here{call_us}."


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
