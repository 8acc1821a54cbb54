"""Red-flag triage screen (docs/triage-policy.md).

Runs on every inbound message, before and independently of the NLU model.
Deterministic and stdlib-only; the recovery-day windows come from core.timeline.

    result = screen("theres some yellow crust on my chin", day=3)
    result.level            # Level.URGENT
    patient_reply(result, clinic_name="Glow MedSpa", clinic_phone="555-0100")
    reason_text(result, 3)  # "urgent: yellow or honey-coloured crust (signs of infection), day 3"
"""

from .engine import screen
from .model import Finding, Level, ModelSignal, TriageResult
from .numbers import infer_day
from .replies import UNPLACED_REASON, patient_reply, reason_text, reply_language, unplaced_reply

__all__ = [
    "UNPLACED_REASON",
    "Finding",
    "Level",
    "ModelSignal",
    "TriageResult",
    "infer_day",
    "patient_reply",
    "reason_text",
    "reply_language",
    "screen",
    "unplaced_reply",
]
