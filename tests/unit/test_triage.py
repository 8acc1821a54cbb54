"""Tests of the red-flag screen (core.triage) against docs/triage-policy.md."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest
import yaml

from core import timeline as tl
from core.triage import Finding, Level, TriageResult, patient_reply, reason_text, screen

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SETS = {"tuning": DATA / "triage_set.yml", "holdout": DATA / "triage_holdout.yml"}
CLINIC = {"clinic_name": "Glow MedSpa", "clinic_phone": "(555) 010-0100"}


def _load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _eval_module():
    spec = importlib.util.spec_from_file_location("eval_triage", ROOT / "scripts" / "eval_triage.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def _items(level_names: set[str]) -> list:
    out = []
    for name, path in SETS.items():
        for i, item in enumerate(_load(path)):
            if item["expect"] in level_names:
                out.append(pytest.param(item, id=f"{name}-{i}"))
    return out


# ------------------------------------------------------------------ labelled sets


def test_sets_are_big_enough_and_well_formed():
    tuning = _load(SETS["tuning"])
    red = [i for i in tuning if i["expect"] in ("urgent", "emergency")]
    calm = [i for i in tuning if i["expect"] == "none"]
    assert len(red) >= 320 and len(calm) >= 220
    assert any(i["expect"] == "routine" for i in tuning)
    assert 120 <= len(_load(SETS["holdout"])) <= 200
    for path in SETS.values():
        for item in _load(path):
            assert set(item) == {"text", "day", "expect"}
            assert item["day"] is None or isinstance(item["day"], int)
            assert item["expect"] in {lv.value for lv in Level}


@pytest.mark.parametrize("item", _items({"urgent", "emergency"}))
def test_every_red_flag_escalates(item):
    result = screen(item["text"], item["day"])
    assert result.level.rank >= Level.URGENT.rank, (item, result.findings)
    if item["expect"] == "emergency":
        assert result.level is Level.EMERGENCY, (item, result.findings)


@pytest.mark.parametrize("name", sorted(SETS))
def test_targets_on_each_set(name):
    fig = _eval_module().evaluate(SETS[name])
    assert fig["missed_red_flags"] == []
    assert fig["under_called_emergencies"] == []
    assert fig["false_alarm_rate"] <= 0.10
    assert fig["passed"]


def test_false_alarms_stay_near_the_aim_on_the_tuning_set():
    fig = _eval_module().evaluate(SETS["tuning"])
    assert fig["false_alarm_rate"] <= 0.03


def test_eval_script_exit_code(tmp_path):
    mod = _eval_module()
    # the lexicon alone still meets the targets on the sets it was written against (its regression guard)
    assert mod.main(["--lexicon-only", "-q", "--set", str(SETS["tuning"]), "--set", str(SETS["holdout"])]) == 0
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump([{"text": "my face is fine", "day": 2, "expect": "urgent"}]))
    assert mod.main(["--set", str(bad)]) == 1


# ------------------------------------------------------------------ API shape


def test_level_rank_and_max():
    assert [lv.rank for lv in (Level.NONE, Level.ROUTINE, Level.URGENT, Level.EMERGENCY)] == [0, 1, 2, 3]
    assert Level.max(Level.ROUTINE, Level.EMERGENCY, Level.NONE) is Level.EMERGENCY
    assert Level.max() is Level.NONE
    assert Level("urgent") is Level.URGENT and Level.URGENT == "urgent"


def test_result_shape_and_matched_span_is_patient_text():
    result = screen("Can I wear makeup tmrw, also theres some YELLOW crust on my chin", 3)
    assert isinstance(result, TriageResult)
    assert result.level is Level.URGENT and result.is_symptom and not result.needs_day
    assert all(isinstance(f, Finding) and f.level.rank >= Level.ROUTINE.rank for f in result.findings)
    codes = {f.code for f in result.findings}
    assert "infection.crust" in codes
    crust = next(f for f in result.findings if f.code == "infection.crust")
    assert crust.matched in "Can I wear makeup tmrw, also theres some YELLOW crust on my chin"
    assert "infection" in crust.rule


def test_deterministic():
    # (its speed is measured by make bench, scripts/bench_screen.py; tests never assert timings)
    text = "day 3 update: my cheek is a bit red, no pus, but the swelling seems worse than yesterday"
    first = screen(text, None)
    for _ in range(5):
        assert screen(text, None) == first


def test_core_triage_is_stdlib_only():
    allowed_roots = {"__future__", "re", "unicodedata", "difflib", "dataclasses", "enum", "functools", "core"}
    for path in (ROOT / "core" / "triage").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed_roots, f"{path.name} imports {name}"


def test_empty_and_odd_input():
    for text in ("", "   ", "\U0001f44d", "???", "ok"):
        result = screen(text, None)
        assert result.level is Level.NONE and not result.is_symptom and not result.needs_day


# ------------------------------------------------------------------ negation


@pytest.mark.parametrize(
    "text",
    [
        "no fever",
        "not hot",
        "there's no pus",
        "no pus or crust",
        "without any swelling",
        "I don't have a fever or chills",
        "no pus, crust or oozing",
        "There isn't any discharge",
        "no blisters or rash thankfully",
        "breathing is fine, just a bit pink",
        "the bleeding stopped",
    ],
)
def test_explicit_negation_suppresses(text):
    assert screen(text, 2).level is Level.NONE


@pytest.mark.parametrize(
    "text",
    [
        "no fever but there's pus",
        "no fever, chills tho",
        "there's no pus. yellow crust on my chin though",
        "not red but it's oozing",
        "no swelling and there's a blister on my lip",
        "not itchy, but my eye hurts",
        "No! It's oozing pus",
        "no rash. I can't breathe well",
    ],
)
def test_negation_does_not_leak_across_clauses(text):
    assert screen(text, 3).level.rank >= Level.URGENT.rank


@pytest.mark.parametrize(
    "text",
    [
        "maybe a bit of pus?",
        "I think it's infected",
        "could this be a cold sore",
        "is it normal to have yellow crust?",
        "not sure if it's pus",
        "idk if its infected",
        "I don't think it's infected but it's weeping",
        "I hope it's not infected",
        "kinda looks like hives?",
        "might be a fever, I feel shivery",
    ],
)
def test_hedged_mentions_count(text):
    assert screen(text, 3).level.rank >= Level.URGENT.rank


def test_self_harm_cannot_be_negated():
    assert screen("I'm not joking, I want to die", 4).level is Level.EMERGENCY


# ------------------------------------------------------------------ spelling


@pytest.mark.parametrize(
    "text,expect",
    [
        ("puss on my chin", Level.URGENT),
        ("infeccted", Level.URGENT),
        ("infected?", Level.URGENT),
        ("cant breath", Level.EMERGENCY),
        ("cant breathe", Level.EMERGENCY),
        ("coldsore", Level.URGENT),
        ("fever blister", Level.URGENT),
        ("hives", Level.URGENT),
        ("rash", Level.URGENT),
        ("wont stop bleedin", Level.URGENT),
        ("oozin", Level.URGENT),
        ("crusty", Level.URGENT),
        ("yellowish crust", Level.URGENT),
        ("honey colored crust", Level.URGENT),
        ("smells bad", Level.URGENT),
        ("red lines spreading", Level.URGENT),
        ("hot to touch", Level.URGENT),
        ("chills", Level.URGENT),
        ("temp of 101", Level.URGENT),
        ("throat feels tight", Level.EMERGENCY),
        ("tongue swelling", Level.EMERGENCY),
        ("passed out", Level.EMERGENCY),
        ("fainted", Level.EMERGENCY),
        ("chest pain", Level.EMERGENCY),
        ("want to die", Level.EMERGENCY),
        ("kill myself", Level.EMERGENCY),
        ("hurt myself", Level.EMERGENCY),
        ("vision blurry", Level.URGENT),
        ("eye hurts", Level.URGENT),
        ("tounge swolen", Level.EMERGENCY),
        ("infectted", Level.URGENT),
        ("blistres on my lip", Level.URGENT),
        ("hivez", Level.URGENT),
        ("the sweling is worse", Level.URGENT),
        ("swolen and getting worse", Level.URGENT),
        ("painnn so bad cant sleep", Level.URGENT),
        ("feinted", Level.EMERGENCY),
    ],
)
def test_misspellings_and_shorthand(text, expect):
    # day None: urgent and emergency never wait for the day
    assert screen(text, None).level.rank >= expect.rank, text


@pytest.mark.parametrize("word", ["never", "fewer", "feeling", "training", "matches", "starting", "small"])
def test_real_words_are_not_repaired_into_symptoms(word):
    from core.triage.text import correct

    assert correct(word) == word


@pytest.mark.parametrize("area", ["face", "neck", "chest", "hands", "stomach", "back", "scalp", "thighs", "arms"])
def test_body_areas(area):
    assert screen(f"yellow crust on my {area}", 3).level is Level.URGENT
    assert screen(f"my {area} is red and a bit dry", 1).level is Level.NONE


# ------------------------------------------------------------------ day rules


def test_redness_and_swelling_windows():
    last = tl.REDNESS_EXPECTED_LAST_DAY
    assert screen("still red", last).level is Level.NONE
    assert screen("still red", last + 1).level is Level.ROUTINE
    last = tl.SWELLING_EXPECTED_LAST_DAY
    assert screen("still a bit swollen", last).level is Level.NONE
    assert screen("still a bit swollen", last + 1).level is Level.ROUTINE


def test_worsening_redness_or_swelling_after_day_2():
    allowed = tl.WORSENING_ALLOWED_LAST_DAY
    assert screen("the redness is getting worse", allowed).level is Level.NONE
    assert screen("the redness is getting worse", allowed + 1).level is Level.URGENT
    assert screen("more swollen today than yesterday", allowed + 1).level is Level.URGENT


def test_oozing_after_day_1():
    assert screen("a little clear fluid", 0).level is Level.NONE
    assert screen("it's oozing", tl.OOZING_EXPECTED_LAST_DAY).level is Level.NONE
    assert screen("it's oozing", tl.OOZING_EXPECTED_LAST_DAY + 1).level is Level.URGENT
    assert screen("oozing yellow stuff", 0).level is Level.URGENT  # coloured discharge is pus on any day


def test_pain_after_day_1():
    allowed = tl.PAIN_WORSENING_ALLOWED_LAST_DAY
    assert screen("the pain is getting worse", allowed + 1).level is Level.URGENT
    assert screen("severe pain", allowed + 1).level is Level.URGENT
    assert screen("severe pain", allowed).level is Level.ROUTINE
    assert screen("a bit sore", 1).level is Level.NONE
    assert screen("excruciating pain", 0).level is Level.URGENT


def test_bleeding():
    assert screen("pinpoint bleeding", 0).level is Level.NONE
    assert screen("a few spots of blood", 0).level is Level.NONE
    for day in (0, 1, 5, None):
        assert screen("it won't stop bleeding", day).level is Level.URGENT
    assert screen("it's bleeding", 3).level is Level.URGENT


def test_pigment_texture_breakouts_itch_flaking():
    assert screen("dark patches on my cheeks", tl.HEALED_FROM_DAY).level is Level.ROUTINE
    assert screen("new brown spots, I'm worried", 3).level is Level.ROUTINE
    assert screen("white patches", 20).level is Level.ROUTINE
    for text in ("little bumps on my forehead", "a hard lump", "track marks", "lines from the pen", "scarring"):
        assert screen(text, 5).level is Level.ROUTINE, text
    assert screen("a few pimples", tl.BREAKOUTS_EXPECTED_LAST_DAY).level is Level.NONE
    assert screen("still breaking out", tl.BREAKOUTS_EXPECTED_LAST_DAY + 1).level is Level.ROUTINE
    assert screen("a bit itchy", tl.ITCH_EXPECTED_LAST_DAY).level is Level.NONE
    assert screen("still itchy", tl.ITCH_EXPECTED_LAST_DAY + 1).level is Level.ROUTINE
    assert screen("flaky and dry", tl.FLAKING_EXPECTED_LAST_DAY).level is Level.NONE
    assert screen("still peeling", tl.FLAKING_EXPECTED_LAST_DAY + 1).level is Level.ROUTINE


def test_expected_healing_is_reassured():
    result = screen("red, tight and a little puffy, tiny dots of blood", 0)
    assert result.level is Level.NONE and result.is_symptom
    assert {"redness", "swelling", "pinpoint_bleeding"} <= set(result.expected)
    result = screen("flaking and a bit itchy", 5)
    assert result.level is Level.NONE and {"flaking", "itch"} <= set(result.expected)


def test_day_stated_in_the_text_is_used_when_unknown():
    result = screen("still red, day 5", None)
    assert result.level is Level.ROUTINE and result.day_used == 5 and not result.needs_day
    assert screen("the swelling keeps increasing, it's been 4 days", None).level is Level.URGENT
    assert screen("a little bleeding right after the treatment", None).level is Level.NONE


# ------------------------------------------------------------------ needs_day


@pytest.mark.parametrize("text", ["my face is still red", "still swollen", "still itchy", "my skin is peeling"])
def test_needs_day_when_outcome_depends_on_it(text):
    result = screen(text, None)
    assert result.level is Level.NONE and result.needs_day and result.is_symptom
    assert not screen(text, 1).needs_day


@pytest.mark.parametrize("text", ["it's oozing", "the redness is getting worse", "there's pus", "I can't breathe", "bleeding"])
def test_urgent_never_waits_for_the_day(text):
    result = screen(text, None)
    assert result.level.rank >= Level.URGENT.rank and not result.needs_day


def test_no_needs_day_for_faq_or_day_independent_findings():
    assert not screen("when can I wear makeup", None).needs_day
    result = screen("still red and there are little bumps", None)
    assert result.level is Level.ROUTINE and not result.needs_day


# ------------------------------------------------------------------ FAQ vs report


@pytest.mark.parametrize(
    "text",
    [
        "when can I wear makeup",
        "is microneedling safe",
        "does it hurt",
        "how painful is microneedling",
        "will it help my acne scars",
        "does it work on stretch marks",
        "will it fade my dark spots",
        "is it safe for dark skin",
        "what are the side effects",
        "can microneedling cause infection?",
        "how do I know if something is wrong",
        "I take blood thinners is that ok",
        "can I get microneedling if I have eczema",
        "the wait for results is killing me",
        "can I go to the hot tub",
        "what are the red flags",
    ],
)
def test_plain_faq_does_not_escalate(text):
    assert screen(text, None).level is Level.NONE


# Families of everyday questions the lexicon used to escalate (FAQ false alarms page the on-call nurse
# for nothing): the word is there, the symptom is not. Day 3, when every finding is possible.
@pytest.mark.parametrize(
    "text",
    [
        # blood that is not bleeding
        "how soon after my session can I donate blood",
        "should I let the blood bank know about my treatment",
        "my mom asked if the kind where they spin your blood costs extra",
        "I have a clotting disorder, my blood is slow to clot, is that a problem",
        "im on blood thinning meds, ok to book?",
        # a condition someone is prone to, or an allergy someone has (a question, not a reaction)
        "I get fever blisters a couple of times a year, is microneedling still an option",
        "i've had a history of herpes outbreaks, anything I should do first",
        "prone to cold sores, should I take an antiviral beforehand",
        "I'm allergic to lidocaine, what numbing do you use instead",
        "I have lots of allergies, can you send me what's in the numbing cream",
        "I have mild asthma, is the numbing cream ok for me",
        # goals and futures: the scars and spots the patient wants treated
        "how many rounds would my chickenpox scars need",
        "will my boxcar scars ever fully go away",
        "could it leave my olive skin blotchy",
        "is there any risk it darkens skin like mine",
        "will my rosacea get worse from the needles",
        "what can make results worse than expected",
        # everyday senses of symptom words
        "what should I bring if it's 95 degrees out on my appointment day",
        "my golden retriever licks my face, is that ok after",
        "is it ok to quickly make a pit stop at the pharmacy after",
        "can you escalate this to someone at the front desk",
        "should I increase how much water I drink",
    ],
)
def test_everyday_questions_with_symptom_words_do_not_escalate(text):
    assert screen(text, 3).level is Level.NONE, screen(text, 3).findings


# ...and the reports next to those families still escalate.
@pytest.mark.parametrize(
    "text",
    [
        "I gave blood on Monday and my cheek keeps bleeding",
        "I'm on blood thinners and it won't stop bleeding",
        "I used to get cold sores and now there's a blister on my lip",
        "I'm allergic to lidocaine and my lips are swelling up",
        "might be allergic to the numbing cream, I'm covered in hives",
        "I have asthma and I'm wheezing since the treatment",
        "my asthma is acting up and I can't catch my breath",
        "will this swelling get any worse? my eye is swollen shut",
        "my eczema got worse after the microneedling",
        "there's golden crust along my jaw",
        "clear fluid keeps draining from my chin",
        "I went to the hospital last night because of the swelling",
        "escalating pain and redness today",
    ],
)
def test_reports_beside_those_families_still_escalate(text):
    assert screen(text, 3).escalates, text


@pytest.mark.parametrize(
    "text",
    [
        "can I wear makeup tmrw, also theres some yellow crust on my chin",
        "when can I work out? btw I have a fever",
        "how long until results? my eye hurts",
        "what sunscreen should I use, also I think I have a cold sore",
    ],
)
def test_faq_plus_symptom_escalates(text):
    assert screen(text, 3).level.rank >= Level.URGENT.rank


def test_emergency_beats_everything():
    result = screen("no pus, skin is flaking, also my throat is closing", 5)
    assert result.level is Level.EMERGENCY
    assert result.findings[0].level is Level.EMERGENCY


# ------------------------------------------------------------------ replies


def test_emergency_reply_first_line_is_911():
    reply = patient_reply(screen("I passed out", 0), **CLINIC)
    first = reply.splitlines()[0].lower()
    assert "911" in first and "call" in first and "now" in first
    assert "alerted" in reply.lower()
    assert "988" not in reply


def test_self_harm_reply_gives_988():
    result = screen("i want to kill myself", 4)
    assert result.self_harm and result.level is Level.EMERGENCY
    reply = patient_reply(result, **CLINIC)
    assert "911" in reply.splitlines()[0]
    assert "988" in reply and "Suicide & Crisis Lifeline" in reply


def test_urgent_and_routine_replies():
    urgent = patient_reply(screen("there's pus", 3), **CLINIC)
    assert "today" in urgent and "clinician" in urgent and "911" in urgent and "Glow MedSpa" in urgent
    routine = patient_reply(screen("still red on day 5", 5), **CLINIC)
    assert "one business day" in routine and "911" not in routine


def test_needs_day_reply_asks_for_the_date():
    reply = patient_reply(screen("my face is still red", None), **CLINIC)
    assert "when was your treatment" in reply.lower()


@pytest.mark.parametrize(
    "text,day",
    [
        ("I passed out", 0),
        ("i want to die", None),
        ("pus", 3),
        ("dark spots", 9),
        ("still red", None),
        ("bit red", 1),
        ("hi", None),
    ],
)
def test_replies_are_short_plain_and_private(text, day):
    result = screen(text, day)
    reply = patient_reply(result, **CLINIC)
    assert len(reply) <= 320, (len(reply), reply)
    assert reply.isprintable() or "\n" in reply
    assert "<" not in reply and "*" not in reply
    for f in result.findings:  # the reply never names what we matched
        assert f.matched.lower() not in reply.lower() or len(f.matched) <= 3


def test_reason_text():
    result = screen("theres some yellow crust on my chin", 3)
    assert reason_text(result, 3) == "urgent: yellow or honey-coloured crust (signs of infection), day 3"
    assert reason_text(screen("my face is still red", None), None).startswith("none:")
    assert "day unknown" in reason_text(screen("I can't breathe", None), None)
    assert reason_text(screen("still red, day 5", None), None).endswith("day 5 (stated by patient)")
