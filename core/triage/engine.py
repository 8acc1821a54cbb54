"""The red-flag screen: text -> atoms in context -> the rule table -> findings -> level.

Runs on every inbound message before and independently of the NLU model.
Deterministic, stdlib-only, no I/O. ``context`` finds the atoms and decides which count
(negation, hedges, frames), ``numbers`` reads temperatures and a stated recovery day,
``rules`` maps atoms to findings and levels; this module applies them for the day given
or, when it is unknown, for every representative day.
"""

from __future__ import annotations

from .context import STRUCTURAL, Context, Mention
from .model import Finding, Level, TriageResult
from .numbers import infer_day
from .rules import RULES, Hit, apply_rules
from .text import normalise

# the recovery days screened when the day is unknown (one per window of core.timeline and beyond)
_SAMPLE_DAYS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 14, 21, 30, 60)


# ------------------------------------------------------------------ screen


def _findings(ctx: Context, hits: list[Hit], day_note: str, plain: set[tuple[str, int]] | None = None) -> list[Finding]:
    """Escalating findings, most severe first; ``plain`` lists hits that need no day note."""
    out: list[Finding] = []
    seen: set[tuple[str, int, int]] = set()
    for code, level, m in sorted(hits, key=lambda h: (-h[1].rank, h[2].first)):
        if level is Level.NONE:
            continue
        key = (code, m.first, m.last)
        if key in seen:
            continue
        seen.add(key)
        note = "" if plain is not None and (code, m.first) in plain else day_note
        out.append(Finding(code=code, level=level, matched=ctx.quote(m), rule=RULES[code] + note))
    return out


def _expected_codes(exp: list[tuple[str, Mention]]) -> list[str]:
    out: list[str] = []
    for code, _ in sorted(exp, key=lambda e: e[1].first):
        if code not in out:
            out.append(code)
    return out


def screen(text: str, day: int | None) -> TriageResult:
    """Screen one inbound message for red flags (see docs/triage-policy.md).

    ``day`` is days since the most recent treatment (0 = treatment day), or None
    when unknown; a day the patient states in the text is used when it is None.
    """
    doc = normalise(text or "")
    ctx = Context(doc)
    used = day if day is not None else infer_day(doc)
    is_symptom = any(m.active and m.atom not in STRUCTURAL for m in ctx.mentions)
    self_harm = bool(ctx.by_atom.get("SELF_HARM"))

    if used is not None:
        hits, exp = apply_rules(ctx, max(used, 0))
        findings = _findings(ctx, hits, "" if day is not None else f" (day {used} from the message)")
        level = Level.max(*(f.level for f in findings))
        return TriageResult(
            level=level,
            findings=findings,
            expected=_expected_codes(exp),
            is_symptom=is_symptom,
            needs_day=False,
            self_harm=self_harm,
            day_used=used,
        )

    # Day unknown: evaluate every representative day. Urgent and emergency never wait
    # for the day; none/routine outcomes that depend on it ask for the day first.
    per_day = {d: apply_rules(ctx, d) for d in _SAMPLE_DAYS}
    levels = {d: Level.max(*(h[1] for h in per_day[d][0])) for d in _SAMPLE_DAYS}
    top = Level.max(*levels.values())
    low = min(levels.values(), key=lambda lv: lv.rank)
    exp_codes = _expected_codes([e for d in _SAMPLE_DAYS for e in per_day[d][1]])
    if top.rank >= Level.URGENT.rank:
        d_top = min(d for d in _SAMPLE_DAYS if levels[d] is top)
        hits = [h for h in per_day[d_top][0] if h[1].rank >= Level.URGENT.rank]
        always = {(h[0], h[2].first) for h in per_day[0][0] if h[1] is top}
        findings = _findings(ctx, hits, " (day unknown: treated as the worse case)", always)
        return TriageResult(
            level=top,
            findings=findings,
            expected=exp_codes,
            is_symptom=is_symptom,
            needs_day=False,
            self_harm=self_harm,
            day_used=None,
        )
    d_low = min(d for d in _SAMPLE_DAYS if levels[d] is low)
    findings = _findings(ctx, per_day[d_low][0], "")
    return TriageResult(
        level=low,
        findings=findings,
        expected=exp_codes,
        is_symptom=is_symptom,
        needs_day=top is not low,
        self_harm=self_harm,
        day_used=None,
    )
