"""The one-line reason staff see for a screened message (staff-facing; the patient's words are in content/)."""

from __future__ import annotations

from .model import TriageResult
from .rules import LABELS

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
