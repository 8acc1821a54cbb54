"""Result types of the red-flag screen (the public data model). ``Level`` lives in core.enums."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.enums import Level


@dataclass(frozen=True)
class Finding:
    """One escalating finding: what matched and which policy rule made it escalate."""

    code: str  # e.g. "infection.pus"
    level: Level
    matched: str  # the span of the patient's text that matched
    rule: str  # the policy rule, in words staff can read


@dataclass
class TriageResult:
    level: Level  # highest level found (NONE if nothing escalates)
    findings: list[Finding] = field(default_factory=list)  # escalating findings only
    expected: list[str] = field(default_factory=list)  # expected-healing mentions, e.g. "redness"
    is_symptom: bool = False  # the message describes a skin/body reaction at all
    needs_day: bool = False  # day unknown and the outcome (none/routine) depends on it
    self_harm: bool = False
    day_used: int | None = None  # the day the screen applied: the caller's, else one stated in the text
    language: str | None = None  # "en" or "es" when known (the safety reply's language)
    # the learned screen's sentence embedding of the text (base64 float32), reused by the NLU
    embedding: str | None = field(default=None, repr=False, compare=False)

    @property
    def escalates(self) -> bool:
        return self.level is not Level.NONE


@dataclass(frozen=True)
class ModelSignal:
    """One verdict of the learned red-flag model (core.triage_model) above its threshold.

    ``label`` is ``"emergency"`` or ``"urgent"`` (needs a clinician today); ``score`` the
    model's probability; ``like`` the lexicon finding code of the most similar training
    message, when there is one (what the message resembles, for staff).
    """

    label: str
    score: float
    threshold: float
    like: str | None = None
