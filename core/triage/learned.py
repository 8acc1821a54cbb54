"""How the learned model's verdict joins the lexicon's (pure: no numpy, no I/O).

The level is the higher of the two. A model hit becomes a finding of its own, so staff see
why the message escalated ("learned screen: possible emergency, score 0.83") even when no
word of the lexicon matched. The model can only raise a level, never lower one: the lexicon
stays the floor, and runs alone when the model cannot load.
"""

from __future__ import annotations

from dataclasses import replace

from .model import Finding, Level, ModelSignal, TriageResult
from .rules import LABELS

MODEL_CODE = {"emergency": "model.emergency", "urgent": "model.urgent"}
_LEVEL = {"emergency": Level.EMERGENCY, "urgent": Level.URGENT}


def model_rule(signal: ModelSignal) -> str:
    """The staff-facing reason of a model hit."""
    what = "possible emergency" if signal.label == "emergency" else "needs a clinician today"
    like = ""
    if signal.like:
        label, group = LABELS.get(signal.like, (signal.like, ""))
        like = f"; resembles: {label}"
    return f"learned screen: {what} (score {signal.score:.2f}, threshold {signal.threshold:.2f}{like})"


def combine(result: TriageResult, signals: list[ModelSignal]) -> TriageResult:
    """The lexicon's result raised by the model's signals (the higher level wins)."""
    if not signals:
        return result
    findings = list(result.findings)
    level = result.level
    for sig in signals:
        sig_level = _LEVEL.get(sig.label)
        if sig_level is None:
            continue
        findings.append(
            Finding(code=MODEL_CODE[sig.label], level=sig_level, matched=f"score {sig.score:.2f}", rule=model_rule(sig))
        )
        level = Level.max(level, sig_level)
    if level is result.level and len(findings) == len(result.findings):
        return result
    # a level the model raised never waits for the treatment date (policy rule 5)
    needs_day = result.needs_day and level.rank < Level.URGENT.rank
    self_harm = result.self_harm or any(s.label == "emergency" and s.like == "emergency.self_harm" for s in signals)
    return replace(result, level=level, findings=findings, needs_day=needs_day, is_symptom=True, self_harm=self_harm)


def model_only(result: TriageResult) -> bool:
    """True when the level comes from the model alone (no lexicon finding at that level)."""
    return any(f.code.startswith("model.") for f in result.findings if f.level is result.level) and not any(
        not f.code.startswith("model.") and f.level is result.level for f in result.findings
    )
