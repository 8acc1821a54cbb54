"""Rule table of the screen: which atoms and frames make which finding, at which level.

``LABELS`` is what reason_text and staff see; ``RULES`` quotes the policy line
(docs/triage-policy.md) that makes the finding escalate; ``apply_rules`` is the table
itself: the findings and expected-healing mentions of one message on a known recovery
day. The recovery-day windows come from core.timeline (never redefined here).
"""

from __future__ import annotations

import re

from core import timeline as tl

from .context import CONCERN_ATOMS, STRUCTURAL, Context, Mention
from .model import Level
from .numbers import fever_numbers

# code -> (short label, group)
LABELS: dict[str, tuple[str, str]] = {
    "model.emergency": ("learned screen: possible emergency", "read by the learned model, no keyword matched"),
    "model.urgent": ("learned screen: needs a clinician today", "read by the learned model, no keyword matched"),
    "emergency.breathing": ("trouble breathing / wheezing", "possible severe reaction"),
    "emergency.throat": ("throat or tongue swelling / trouble swallowing", "possible severe allergic reaction"),
    "emergency.allergic_swelling": ("lips or face swelling fast / with hives", "possible severe allergic reaction"),
    "emergency.anaphylaxis": ("anaphylaxis / adrenaline pen", "severe allergic reaction"),
    "emergency.fainting": ("fainting or collapse", "possible emergency"),
    "emergency.chest_pain": ("chest pain or tightness", "possible emergency"),
    "emergency.self_harm": ("statement about harming themselves", "self-harm risk"),
    "care.emergency_services": ("mentions ER / 911 / ambulance", "patient seeking emergency care"),
    "infection.pus": ("pus / coloured discharge", "signs of infection"),
    "infection.crust": ("yellow or honey-coloured crust", "signs of infection"),
    "infection.oozing": ("oozing after day 1", "signs of infection"),
    "infection.streaks": ("red streaks / spreading lines", "signs of infection"),
    "infection.spreading": ("hot to the touch / spreading redness", "signs of infection"),
    "infection.fever": ("fever or chills", "signs of infection"),
    "infection.smell": ("foul smell", "signs of infection"),
    "infection.suspected": ("patient thinks it is infected", "signs of infection"),
    "systemic.unwell": ("feeling unwell (dizzy, sick, racing heart)", "general symptoms"),
    "cold_sore": ("cold sore / blisters", "possible cold sore flare-up"),
    "allergy.hives_rash": ("hives, rash or allergic reaction", "possible allergic reaction"),
    "allergy.lip_swelling": ("lip swelling", "possible allergic reaction"),
    "pain.severe": ("severe or worsening pain", "pain"),
    "bleeding.persistent": ("bleeding that will not stop", "bleeding"),
    "bleeding.late": ("bleeding after the treatment day", "bleeding"),
    "bleeding.minor_late": ("spots of blood after the treatment day", "bleeding"),
    "eye": ("eye pain or change in vision", "eye"),
    "worsening": ("redness or swelling getting worse", "worsening after day 2"),
    "worsening.unspecified": ("getting worse", "worsening"),
    "worsening.other": ("a symptom getting worse", "worsening"),
    "swelling.severe": ("severe swelling (eyes swollen shut)", "swelling"),
    "redness.persistent": ("redness still present", "slow healing"),
    "swelling.persistent": ("swelling still present", "slow healing"),
    "warmth.persistent": ("heat / burning still present", "slow healing"),
    "sensitivity.persistent": ("soreness or sensitivity still present", "slow healing"),
    "tightness.persistent": ("tightness past the usual window", "slow healing"),
    "flaking.persistent": ("flaking past day 10", "slow healing"),
    "itch.persistent": ("itching past day 7", "slow healing"),
    "breakouts.persistent": ("breakouts after the first week", "breakouts"),
    "pigment": ("colour change (dark/light patches, bruising)", "pigment change"),
    "texture": ("bumps, lumps, track marks, lines or scarring", "texture change"),
    "numbness": ("numbness after the treatment day", "unexpected symptom"),
    "wound": ("open sore or wound", "unexpected symptom"),
    "unplaced": ("a symptom the assistant cannot place", "needs review"),
}

RULES: dict[str, str] = {
    "emergency.breathing": "emergency, any day: trouble breathing or wheezing",
    "emergency.throat": "emergency, any day: throat or tongue swelling",
    "emergency.allergic_swelling": "emergency, any day: lips or face swelling fast with hives",
    "emergency.anaphylaxis": "emergency, any day: signs of a severe allergic reaction",
    "emergency.fainting": "emergency, any day: fainting or collapse",
    "emergency.chest_pain": "emergency, any day: chest pain",
    "emergency.self_harm": "emergency, any day: any statement of wanting to harm themselves (give 988)",
    "care.emergency_services": "urgent: patient mentions emergency care; a clinician should call today",
    "infection.pus": "urgent, any day: signs of infection (pus)",
    "infection.crust": "urgent, any day: signs of infection (yellow or honey-coloured crusts)",
    "infection.oozing": "urgent: oozing after day 1 is a sign of infection",
    "infection.streaks": "urgent, any day: signs of infection (red streaks)",
    "infection.spreading": "urgent, any day: skin hot to the touch and spreading redness",
    "infection.fever": "urgent, any day: fever or chills",
    "infection.smell": "urgent, any day: signs of infection (foul smell)",
    "infection.suspected": "urgent, any day: possible infection reported by the patient",
    "systemic.unwell": "urgent: feeling unwell (treated like fever and chills)",
    "cold_sore": "urgent, any day: cold sore, fever blister, clusters of small blisters",
    "allergy.hives_rash": "urgent, any day: hives or a widespread itchy rash",
    "allergy.lip_swelling": "urgent: lip swelling (possible allergic reaction)",
    "pain.severe": "urgent: pain that is severe or getting worse after day 1",
    "bleeding.persistent": "urgent, any day: bleeding that will not stop",
    "bleeding.late": "urgent: bleeding after day 0 (only pinpoint bleeding on day 0 is expected)",
    "bleeding.minor_late": "routine: spots of blood after day 0",
    "eye": "urgent, any day: eye pain or any change in vision",
    "worsening": "urgent: redness or swelling that is getting worse after day 2",
    "worsening.unspecified": "urgent: symptoms getting worse after day 1",
    "worsening.other": "routine: a symptom getting worse",
    "swelling.severe": "urgent: severe swelling is not expected healing",
    "redness.persistent": "routine: redness still present on day 4 or later",
    "swelling.persistent": "routine: swelling still present on day 4 or later",
    "warmth.persistent": "routine: heat or a burning feeling still present on day 4 or later",
    "sensitivity.persistent": "routine: soreness or sensitivity still present on day 4 or later",
    "tightness.persistent": "routine: tightness still present after day 10",
    "flaking.persistent": "routine: flaking or peeling still present after day 10",
    "itch.persistent": "routine: itching that lasts past day 7",
    "breakouts.persistent": "routine: breakouts that keep coming after the first week",
    "pigment": "routine: dark or white patches or any colour change",
    "texture": "routine: bumps, lumps, track marks, lines or scarring",
    "numbness": "routine: a symptom the assistant cannot place (numbness)",
    "wound": "routine: a symptom the assistant cannot place (open sore)",
    "unplaced": "routine: any symptom the assistant cannot place with confidence",
}


# ------------------------------------------------------------------- rules

Hit = tuple[str, Level, Mention]
E, U, R = Level.EMERGENCY, Level.URGENT, Level.ROUTINE  # short names keep the rule table below readable


def apply_rules(ctx: Context, day: int) -> tuple[list[Hit], list[tuple[str, Mention]]]:
    """Findings and expected-healing mentions of one message on a known recovery day."""
    hits: list[Hit] = []
    expected: list[tuple[str, Mention]] = []

    def hit(code: str, level: Level, m: Mention) -> None:
        hits.append((code, level, m))

    def ok(code: str, m: Mention) -> None:
        expected.append((code, m))

    # --- emergency, any day
    for m in ctx.act("BREATHING"):
        hit("emergency.breathing", E, m)
    for m in ctx.act("THROAT"):
        hit("emergency.throat", E, m)
    for m in ctx.act("ANAPHYLAXIS"):
        hit("emergency.anaphylaxis", E, m)
    for m in ctx.act("FAINT"):
        hit("emergency.fainting", E, m)
    for m in ctx.act("CHEST_PAIN"):
        hit("emergency.chest_pain", E, m)
    for m in ctx.act("CHEST_TIGHT"):
        if not ctx.in_clause("SKIN_CONTEXT", m.clause):
            hit("emergency.chest_pain", E, m)
    for m in ctx.by_atom.get("SELF_HARM", ()):
        hit("emergency.self_harm", E, m)
    hives_anywhere = ctx.any_("HIVES") or ctx.any_("ITCHY_WIDE") or ctx.any_("ALLERGIC")
    for m in ctx.act("SWELL_FAST"):
        hit("emergency.allergic_swelling", E, m)
    for m in ctx.act("SWELLING"):
        face = ctx.in_clause("FACE_AREA", m.clause)
        fast = ctx.in_clause("FAST", m.clause)
        mild = ctx.in_clause("MILD", m.clause)
        if face and (fast or (hives_anywhere and not mild) or ctx.in_clause("ALLERGIC", m.clause)):
            hit("emergency.allergic_swelling", E, m)
        elif ctx.in_clause("LIPS", m.clause) and not mild:
            hit("allergy.lip_swelling", U, m)
    for m in ctx.act("ER_VISIT"):
        hit("care.emergency_services", U, m)

    # --- signs of infection, any day
    for m in ctx.act("PUS"):
        hit("infection.pus", U, m)
    for m in ctx.act("CRUST"):
        hit("infection.crust", U, m)
    for m in ctx.act("YELLOW"):
        if (
            not ctx.any_raw("PIGMENT", m.clause)
            or ctx.in_clause("CRUST", m.clause)
            or ctx.in_clause("SCAB", m.clause)
            or ctx.in_clause("OOZE", m.clause)
        ):
            hit("infection.crust", U, m)
    for m in ctx.act("OOZE"):
        if ctx.in_clause("YELLOW", m.clause) or ctx.in_clause("PUS", m.clause):
            hit("infection.pus", U, m)
        elif day > tl.OOZING_EXPECTED_LAST_DAY:
            hit("infection.oozing", U, m)
        else:
            ok("clear_fluid", m)
    for m in ctx.act("STREAK"):
        hit("infection.streaks", U, m)
    for m in ctx.act("RED_LINES"):
        moving = ctx.in_clause("SPREAD", m.clause) or ctx.in_clause("STREAK", m.clause)
        if ctx.in_clause("TOOL", m.clause) and not moving:
            hit("texture", R, m)
        else:
            hit("infection.streaks", U, m)
    for m in ctx.act("HOT_TOUCH"):
        hit("infection.spreading", U, m)
    for m in ctx.act("SPREAD"):
        if ctx.in_clause("PRODUCT", m.clause) and not ctx.in_clause("REDNESS", m.clause):
            continue
        grows = ctx.words[m.first].startswith("grow")
        if grows and not any(ctx.in_clause(a, m.clause) for a in ("REDNESS", "SWELLING", "RASH", "HIVES", "BODY")):
            continue
        if ctx.in_clause("RASH", m.clause) or ctx.in_clause("HIVES", m.clause):
            hit("allergy.hives_rash", U, m)
        elif ctx.in_clause("SWELLING", m.clause) and not ctx.in_clause("REDNESS", m.clause):
            hit("worsening", U, m)
        else:
            hit("infection.spreading", U, m)
    fever_nums, normal_temp = fever_numbers(ctx)
    for m in ctx.act("FEVER"):
        said = " ".join(ctx.words[m.first : m.last + 1])
        if m.sent in normal_temp and "temp" in said and not fever_nums:
            continue  # "I have a temperature of 99": a normal reading
        hit("infection.fever", U, m)
    for m in fever_nums:
        hit("infection.fever", U, m)
    for m in ctx.act("SYSTEMIC") + ctx.act("GLANDS"):
        hit("systemic.unwell", U, m)
    for m in ctx.act("OTHER_BODY"):
        hit("unplaced", R, m)
    alarm_alone = not any(m.active and m.atom not in STRUCTURAL and m.atom != "UNPLACED" for m in ctx.mentions)
    for m in ctx.act("ALARM"):
        if alarm_alone:
            hit("unplaced", R, m)
    for m in ctx.act("SMELL"):
        if ctx.in_clause("PRODUCT", m.clause) and not ctx.in_clause("BODY", m.clause):
            continue
        hit("infection.smell", U, m)
    for m in ctx.act("INFECTION"):
        hit("infection.suspected", U, m)

    # --- cold sores, allergy
    for m in ctx.act("COLD_SORE") + ctx.act("BLISTER"):
        hit("cold_sore", U, m)
    for m in ctx.act("HIVES") + ctx.act("RASH") + ctx.act("ITCHY_WIDE") + ctx.act("ALLERGIC"):
        hit("allergy.hives_rash", U, m)

    # --- eyes
    for m in ctx.act("EYE_PAIN") + ctx.act("VISION"):
        hit("eye", U, m)

    # --- bleeding
    persist = ctx.act("BLEED_PERSIST")
    for m in persist:
        hit("bleeding.persistent", U, m)
    for m in ctx.act("BLEED_WEAK"):
        if day >= 1 or not ctx.in_clause("BLEED_MINOR", m.clause):
            hit("bleeding.persistent", U, m)
    for m in ctx.act("BLEED"):
        if any(p.first <= m.last and m.first <= p.last for p in persist):
            continue
        if day <= tl.PINPOINT_BLEEDING_LAST_DAY:
            ok("pinpoint_bleeding", m)
        elif ctx.in_clause("BLEED_MINOR", m.clause):
            hit("bleeding.minor_late", R, m)
        else:
            hit("bleeding.late", U, m)

    # --- pain
    for m in ctx.act("PAIN") + ctx.act("BURN"):
        severe = ctx.in_clause("SEVERE", m.clause)
        worse = ctx.in_clause("WORSE", m.clause)
        if m.atom == "BURN" and not (severe or worse):
            if day <= tl.REDNESS_EXPECTED_LAST_DAY:
                ok("warmth", m)
            else:
                hit("warmth.persistent", R, m)
            continue
        if ctx.in_clause("EXTREME_PAIN", m.clause) or ctx.in_clause("AGONY", m.clause):
            hit("pain.severe", U, m)
        elif severe or worse:
            hit("pain.severe", U if day > tl.PAIN_WORSENING_ALLOWED_LAST_DAY else R, m)
        elif day <= tl.REDNESS_EXPECTED_LAST_DAY:
            ok("sensitivity", m)
        else:
            hit("sensitivity.persistent", R, m)
    for m in ctx.act("AGONY"):
        if not ctx.in_clause("PAIN", m.clause) and not ctx.in_clause("ITCH", m.clause):
            hit("pain.severe", U, m)

    # --- worsening
    anchors_rs = ("REDNESS", "SWELLING", "HOT", "WARM", "SUNBURN", "RASH", "HIVES", "SPREAD")
    anchors_other = ("ITCH", "BREAKOUT", "FLAKING", "PIGMENT", "TEXTURE", "TIGHT", "SENSITIVE", "NUMB")
    for m in ctx.act("WORSE"):
        if ctx.in_clause("PAIN", m.clause) or ctx.in_clause("BURN", m.clause):
            continue  # handled as pain
        if any(ctx.any_raw(a, m.clause) and not ctx.in_clause(a, m.clause) for a in CONCERN_ATOMS) and not any(
            ctx.in_clause(a, m.clause) for a in anchors_rs
        ):
            continue  # "I have melasma, will it make it worse": a question about an existing concern
        own = " ".join(ctx.words[m.first : m.last + 1])
        if any(ctx.in_clause(a, m.clause) for a in anchors_rs) or re.search(r"red|pink|puff|swell|swoll|inflam", own):
            if day > tl.WORSENING_ALLOWED_LAST_DAY:
                hit("worsening", U, m)
            elif ctx.in_clause("SWELLING", m.clause) or re.search(r"puff|swell|swoll", own):
                ok("swelling", m)
            else:
                ok("redness", m)
        elif any(ctx.in_clause(a, m.clause) for a in anchors_other):
            hit("worsening.other", R, m)
        elif day > tl.PAIN_WORSENING_ALLOWED_LAST_DAY:
            hit("worsening.unspecified", U, m)
        else:
            hit("worsening.unspecified", R, m)
    for m in ctx.act("CHANGE_CUE"):
        if ctx.in_clause("WORSE", m.clause) or ctx.in_clause("IMPROVING", m.clause):
            continue
        if any(ctx.in_clause(a, m.clause) for a in ("REDNESS", "SWELLING", "RASH")):
            hit("worsening", U if day > tl.WORSENING_ALLOWED_LAST_DAY else R, m)
    for m in ctx.act("SWELL_SEVERE"):
        hit("swelling.severe", U, m)

    # --- expected healing, by day
    def windowed(atom: str, exp: str, last_day: int, code: str) -> None:
        for m in ctx.act(atom):
            if day <= last_day:
                ok(exp, m)
            else:
                hit(code, R, m)

    windowed("REDNESS", "redness", tl.REDNESS_EXPECTED_LAST_DAY, "redness.persistent")
    windowed("SWELLING", "swelling", tl.SWELLING_EXPECTED_LAST_DAY, "swelling.persistent")
    for atom in ("WARM", "HOT"):
        windowed(atom, "warmth", tl.REDNESS_EXPECTED_LAST_DAY, "warmth.persistent")
    windowed("SUNBURN", "sunburn", tl.REDNESS_EXPECTED_LAST_DAY, "warmth.persistent")
    windowed("TIGHT", "tightness", tl.FLAKING_EXPECTED_LAST_DAY, "tightness.persistent")
    windowed("SENSITIVE", "sensitivity", tl.REDNESS_EXPECTED_LAST_DAY, "sensitivity.persistent")
    windowed("FLAKING", "flaking", tl.FLAKING_EXPECTED_LAST_DAY, "flaking.persistent")
    for m in ctx.act("ITCH"):
        if ctx.in_clause("SEVERE", m.clause) or day > tl.ITCH_EXPECTED_LAST_DAY:
            hit("itch.persistent", R, m)
        else:
            ok("itch", m)
    windowed("BREAKOUT", "breakouts", tl.BREAKOUTS_EXPECTED_LAST_DAY, "breakouts.persistent")
    windowed("NUMB", "numbness", 0, "numbness")

    # --- routine: colour, texture, the unplaceable
    for m in ctx.act("PIGMENT"):
        hit("pigment", R, m)
    for m in ctx.act("TEXTURE"):
        if ctx.overlaps(m, "RED_LINES"):
            continue
        hit("texture", R, m)
    for m in ctx.act("SCAB"):
        if not ctx.in_clause("YELLOW", m.clause) and not ctx.in_clause("CRUST", m.clause):
            hit("unplaced", R, m)
    for m in ctx.act("WOUND"):
        if not ctx.overlaps(m, "COLD_SORE"):
            hit("wound", R, m)
    symptomatic = {a for a in ctx.by_atom if a not in STRUCTURAL and a != "UNPLACED"}
    for m in ctx.act("UNPLACED"):
        others = any(ctx.in_clause(a, m.clause) for a in symptomatic)
        anchored = ctx.in_clause("BODY", m.clause) or ctx.in_clause("SENSATION", m.clause)
        if anchored and not others:
            hit("unplaced", R, m)
    return hits, expected
