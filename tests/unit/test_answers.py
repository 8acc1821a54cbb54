"""core.answers: every topic carries its facts (docs/spec/topics.yml), by day of recovery."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import timeline as tl
from core.answers import (
    DAY_AWARE_TOPICS,
    ClinicInfo,
    answer,
    clarify,
    clarify_again,
    no_guidance,
    passed_to_team,
    reassure,
    say,
)
from core.topics import TOPIC_IDS

ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = ROOT.parent / "shared" / "seed"
CLINIC = ClinicInfo(name="Glow Skin Studio", phone="(201) 555-0100", booking_url="https://glow.example/book", hours="")
NO_PHONE = ClinicInfo(name="Glow Skin Studio", phone="", booking_url="", hours="")
DAYS = [None, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 14, 21, 22, 28, 42, 43, 90]


def text_of(topic: str, day: int | None, **kw) -> str:
    kw.setdefault("channel", "sms")
    kw.setdefault("clinic", CLINIC)
    return " ".join(r.text for r in answer(topic, day, **kw))


def has_all(text: str, *facts: str) -> None:
    low = text.lower()
    missing = [f for f in facts if f.lower() not in low]
    assert not missing, f"missing {missing} in: {text}"


# --- the facts each topic must carry (general answer, date unknown) ---------------
FACTS: dict[str, tuple[str, ...]] = {
    "prep_checklist": ("direct sun", "tanning beds", "a week", "sunburned", "peels", "waxing", "laser", "alcohol", "24 hours",
                       "moisturised", "broad-spectrum spf", "clean face", "makeup", "lotion"),
    "prep_products_to_pause": ("5 to 7 days", "retinoids", "retinol", "tretinoin", "glycolic", "salicylic", "lactic",
                               "benzoyl peroxide", "gentle cleanser", "hydrating moisturiser"),
    "candidacy_conditions": ("active acne", "eczema", "psoriasis", "infection", "cold sore", "clotting", "blood thinners",
                             "immune", "consultation"),
    "darker_skin": ("darker skin", "safe", "no heat", "pigmentation", "experienced provider"),
    "what_is_microneedling": ("sterile needles", "micro-injuries", "collagen", "elastin"),
    "treatment_pain": ("numbing cream", "30 minutes", "vibration", "buzzing", "little or no pain"),
    "treatment_duration": ("30 minutes", "depending on the area", "numbing"),
    "at_home_rollers": ("sterile", "medical-grade", "needle depth", "tear", "drag", "scarring", "infection", "pigmentation"),
    "combine_treatments": ("prp", "growth factors", "own blood", "hydrafacial", "between sessions"),
    "normal_reactions": ("mild to moderate sunburn", "redness", "tightness", "warmth", "one to two days", "flaking"),
    "downtime": ("24 to 48 hours", "redness", "work", "next day", "makeup", "workouts", "first day"),
    "makeup": ("24 hours", "channels", "mineral makeup", "day 5"),
    "skincare_restart": ("days 1 to 5", "gentle cleanser", "hyaluronic acid serum", "moisturiser", "sunscreen", "day 5",
                         "at least a week", "retinoids", "acids", "vitamin c"),
    "sun_protection": ("direct sun", "72 hours", "broad-spectrum", "spf 30", "dark spots", "undo your results"),
    "exercise_sweat": ("workouts", "saunas", "steam", "24 hours", "sweat", "irritate"),
    "washing_face": ("gentle", "non-exfoliating cleanser", "lukewarm", "clean", "hydrated", "scrubs", "exfoliants"),
    "hydration_products": ("hyaluronic acid", "more deeply", "simple", "fragrance-free", "water"),
    "peeling_flaking": ("flaking", "peeling", "first week", "normal", "on its own", "moisturising"),
    "results_timeline": ("glow", "about a week", "4 to 6 weeks", "collagen", "months"),
    "results_for_concern": ("acne scars", "shallower", "texture", "fine lines", "wrinkles", "collagen", "sun spots",
                            "hyperpigmentation", "fade", "pores", "smaller", "stretch marks", "texture and colour"),
    "results_longevity": ("collagen is your own", "permanent", "many months", "once or twice a year"),
    "sessions_needed": ("glow", "series", "3 to 6", "month apart", "deeper scars"),
    "maintenance_frequency": ("4 to 6 weeks apart", "25 to 35", "2 to 3 sessions a year", "over 35", "3 to 4 a year"),
    "results_factors": ("concern", "age", "heals", "aftercare", "sun protection"),
    "safety_general": ("low risk", "professional", "sterile", "redness", "tightness", "peeling", "infection", "cold sore",
                       "colour change"),
    "when_to_call": ("redness or swelling", "few days", "infection", "cold sore", "colour change", "(201) 555-0100", "911"),
    "my_recovery_day": ("when was your treatment",),
    "book_appointment": ("booking request", "passed", "team", "(201) 555-0100", "https://glow.example/book"),
    "talk_to_staff": ("team", "follow up", "(201) 555-0100"),
    "pricing": ("prices", "passed", "team", "(201) 555-0100"),
    # CLINIC has no hours or address set: nothing is guessed, a person follows up
    "clinic_info": ("opening hours", "passed", "team", "(201) 555-0100"),
    "greet": ("hi", "glow skin studio", "ask me"),
    "goodbye": ("take care",),
    "thanks": ("welcome",),
    "bot_challenge": ("automated", "not a person", "talk to a person", "(201) 555-0100"),
    "out_of_scope": ("microneedling", "getting ready", "aftercare", "results", "person"),
    "symptom_report": ("sunburn", "redness", "(201) 555-0100"),
}  # fmt: skip


def test_every_topic_has_facts_listed() -> None:
    assert set(FACTS) == set(TOPIC_IDS)


@pytest.mark.parametrize("topic", sorted(TOPIC_IDS))
def test_general_answer_carries_the_facts(topic: str) -> None:
    has_all(text_of(topic, None), *FACTS[topic])


@pytest.mark.parametrize("topic", sorted(DAY_AWARE_TOPICS - {"my_recovery_day"}))
def test_unknown_day_offers_to_personalise(topic: str) -> None:
    replies = answer(topic, None, channel="sms", clinic=CLINIC)
    assert replies[-1].text == say("date_hint")


def test_clinic_details_come_from_clinic_info() -> None:
    other = ClinicInfo(name="Lumen Aesthetics", phone="+1 555 0199", booking_url="", hours="")
    assert "Lumen Aesthetics" in text_of("talk_to_staff", None, clinic=other)
    assert "+1 555 0199" in text_of("talk_to_staff", None, clinic=other)
    assert "Glow" not in text_of("talk_to_staff", None, clinic=other)
    # no phone configured: still a sensible sentence
    assert "call the clinic" in text_of("talk_to_staff", None, clinic=NO_PHONE)
    assert "call us at" not in text_of("talk_to_staff", None, clinic=NO_PHONE)


# --- day-aware answers --------------------------------------------------------------
def test_makeup_by_day() -> None:
    day0 = text_of("makeup", 0)
    has_all(day0, "no makeup today", "24 hours", "mineral", "day 5")
    assert text_of("makeup", 3) == "You're on day 3: mineral makeup is fine now; your usual makeup from about day 5."
    has_all(text_of("makeup", 1), "day 1", "mineral makeup is fine")
    has_all(text_of("makeup", tl.MAKEUP_REGULAR_FROM_DAY), "usual makeup is fine")


def test_exercise_by_day() -> None:
    has_all(text_of("exercise_sweat", 0), "no hard workouts", "sauna", "steam", "24 hours", "sweat")
    has_all(text_of("exercise_sweat", 1), "day 1", "workouts are fine", "direct sun", "day 3")
    assert "direct sun" not in text_of("exercise_sweat", 4)


def test_sun_by_day() -> None:
    for d in range(tl.SUN_AVOID_UNTIL_DAY):
        has_all(text_of("sun_protection", d), "stay out of direct sun", "day 3", "72 hours", "spf 30")
    has_all(text_of("sun_protection", 3), "72-hour", "over", "spf 30", "every day")


def test_skincare_by_day() -> None:
    has_all(text_of("skincare_restart", 0), "gentle cleanser", "vitamin c", "retinoids")
    has_all(text_of("skincare_restart", 2), "hyaluronic acid serum", "day 5", "day 7", "vitamin c")
    has_all(text_of("skincare_restart", 5), "normal routine", "day 7")
    has_all(text_of("skincare_restart", 7), "retinoids", "can come back")


def test_downtime_by_day() -> None:
    has_all(text_of("downtime", 0), "24 to 48 hours", "back at work tomorrow", "makeup", "workouts")
    has_all(text_of("downtime", 1), "back at work")
    has_all(text_of("downtime", 5), "downtime is usually over", "day 4", "let us know")
    assert "until day 3" not in text_of("downtime", 3)


def test_washing_by_day() -> None:
    has_all(text_of("washing_face", 0), "tonight", "gentle", "lukewarm", "no scrubs")
    has_all(text_of("washing_face", 3), "gentle", "day 7")
    has_all(text_of("washing_face", 8), "usual cleanser")


def test_normal_reactions_by_day() -> None:
    has_all(text_of("normal_reactions", 0), "sunburn", "redness", "pinpoint bleeding", "clear fluid")
    has_all(text_of("normal_reactions", 2), "redness", "one to two days")
    has_all(text_of("normal_reactions", 5), "should have settled", "day 10", "let us know")
    has_all(text_of("normal_reactions", 15), "healed", "(201) 555-0100")


def test_peeling_by_day() -> None:
    has_all(text_of("peeling_flaking", 0), "later")
    has_all(text_of("peeling_flaking", 4), "day 4", "normal", "moisturising")
    has_all(text_of("peeling_flaking", 12), "longer than usual", "(201) 555-0100")


def test_results_timeline_by_day() -> None:
    has_all(text_of("results_timeline", 2), "glow", "4 to 6 weeks")
    has_all(text_of("results_timeline", 10), "glow should be showing", "day 28")
    has_all(text_of("results_timeline", 30), "main improvement", "next session")
    has_all(text_of("results_timeline", 60), "months")


# --- my recovery day, band by band --------------------------------------------------
@pytest.mark.parametrize(
    "day, facts",
    [
        (0, ("treatment day", "sunburn", "no makeup", "direct sun", "gentle cleanser")),
        (1, ("day 1", "redness", "mineral makeup", "workouts", "day 3")),
        (2, ("day 2", "fading", "flaking", "last day", "spf 30")),
        (3, ("day 3", "pinkness", "spf 30", "day 5", "day 7")),
        (4, ("day 4", "settled", "let us know")),
        (5, ("day 5", "usual makeup", "day 7")),
        (6, ("day 6", "glow", "day 7")),
        (7, ("day 7", "retinoids")),
        (10, ("day 10", "healed", "collagen", "weeks 4 to 6")),
        (21, ("day 21", "3 weeks", "weeks 4 to 6")),
        (30, ("day 30", "main improvement", "next session", "https://glow.example/book", "(201) 555-0100")),
        (42, ("day 42", "next session")),
        (60, ("day 60", "months", "maintenance", "https://glow.example/book")),
    ],
)
def test_my_recovery_day_bands(day: int, facts: tuple[str, ...]) -> None:
    has_all(text_of("my_recovery_day", day), *facts)


def test_my_recovery_day_greets_known_patient_and_offers_booking_button() -> None:
    replies = answer("my_recovery_day", 30, channel="web", clinic=CLINIC, first_name="Ana")
    assert replies[0].text.startswith("Hi Ana!")
    assert {"title": "Book my next session", "payload": "/book_appointment"} in replies[-1].buttons


def test_my_recovery_day_unknown_asks_for_the_date() -> None:
    replies = answer("my_recovery_day", None, channel="sms", clinic=CLINIC)
    assert len(replies) == 1
    has_all(replies[0].text, "when was your treatment", "3 days ago")


def test_my_recovery_day_treatment_still_to_come() -> None:
    has_all(text_of("my_recovery_day", -3), "coming up in 3 days")


# --- future target days -------------------------------------------------------------
def test_answer_for_a_later_day() -> None:
    assert text_of("exercise_sweat", 3, ahead=2, when="Saturday").startswith("On Saturday you'll be on day 5:")
    assert text_of("makeup", 0, ahead=1, when="tomorrow").startswith("Tomorrow you'll be on day 1: mineral makeup")
    has_all(text_of("makeup", 3, ahead=2, when="Saturday"), "day 5", "usual makeup is fine by then")
    has_all(text_of("my_recovery_day", 1, ahead=2, when="Friday"), "On Friday you'll be on day 3")


def test_answer_for_a_named_day_of_recovery() -> None:
    assert text_of("makeup", 5, when="day").startswith("On day 5: your usual makeup")


def test_later_day_without_a_date_says_so() -> None:
    replies = answer("makeup", None, channel="sms", clinic=CLINIC, ahead=3, when="Saturday")
    assert "Saturday" in replies[-1].text and "when your treatment was" in replies[-1].text


# --- results for a concern ------------------------------------------------------------
@pytest.mark.parametrize(
    "concern, fact",
    [
        ("acne scars", "shallower"),
        ("acne_scars", "shallower"),
        ("fine_lines", "soften"),
        ("hyperpigmentation", "fade"),
        ("sun spots", "fade"),
        ("pores", "smaller"),
        ("stretch_marks", "texture and colour"),
    ],
)
def test_results_for_a_concern(concern: str, fact: str) -> None:
    text = text_of("results_for_concern", None, concern=concern)
    has_all(text, fact, "series")
    assert len(answer("results_for_concern", None, channel="sms", concern=concern)) == 1


# --- symptoms: reassurance for expected healing ---------------------------------------
def test_reassure_redness_day_1() -> None:
    text = " ".join(r.text for r in reassure(["redness"], 1, clinic=CLINIC))
    has_all(text, "normal healing", "day 1", "redness", "day 4", "pus", "fever", "(201) 555-0100")


def test_reassure_flaking_and_itch() -> None:
    text = " ".join(r.text for r in reassure(["flaking", "itch"], 5, clinic=CLINIC))
    has_all(text, "dryness or flaking", "itch", "day 10", "day 7", "moisturising")


@pytest.mark.parametrize(
    "code, day, facts",
    [
        ("breakouts", 3, ("some breakouts", "day 3", "after day 7")),
        ("numbness", 0, ("numbness", "treatment day", "after today")),
        ("sensitivity", 1, ("tenderness", "severe or getting worse")),
        ("tightness", 2, ("tightness", "day 4 or later")),
        ("swelling.mild", 1, ("mild swelling",)),  # unknown code names still map by their words
    ],
)
def test_reassure_names_what_the_patient_described(code: str, day: int, facts: tuple[str, ...]) -> None:
    has_all(" ".join(r.text for r in reassure([code], day, clinic=CLINIC)), *facts)


def test_reassure_without_codes_stays_generic() -> None:
    text = " ".join(r.text for r in reassure([], 2, clinic=CLINIC))
    has_all(text, "what you describe", "day 2", "gets worse")


def test_reassure_pinpoint_bleeding_day_0() -> None:
    text = " ".join(r.text for r in reassure(["pinpoint_bleeding"], 0, clinic=CLINIC))
    has_all(text, "treatment day", "pinpoint bleeding", "won't stop", "oozing after day 1")


def test_reassure_unknown_day() -> None:
    text = " ".join(r.text for r in reassure(["swelling"], None, clinic=CLINIC))
    has_all(text, "mild swelling", "when your treatment was")


# --- fallback and hand-offs -------------------------------------------------------------
def test_clarify_web_buttons_and_sms_numbers() -> None:
    web = clarify(["makeup", "sun_protection", "exercise_sweat", "downtime"], "web")
    assert [b["payload"] for b in web[0].buttons] == ["/makeup", "/sun_protection", "/exercise_sweat"]
    assert web[0].buttons[0]["title"] == "Makeup"
    sms = clarify(["makeup", "sun_protection"], "sms")
    assert sms[0].buttons == [] and "1) Makeup" in sms[0].text and "2) Sun protection" in sms[0].text
    assert "another way" in clarify([], "web")[0].text


def test_clarify_again_offers_a_person() -> None:
    web = clarify_again("web", CLINIC)
    assert web[0].buttons == [{"title": "Talk to a person", "payload": "/talk_to_staff"}]
    assert "talk to a person" in clarify_again("sms", CLINIC)[0].text


def test_out_of_scope_offers_a_person_button_on_web() -> None:
    assert answer("out_of_scope", None, channel="web", clinic=CLINIC)[-1].buttons == [
        {"title": "Talk to a person", "payload": "/talk_to_staff"}
    ]


def test_passed_to_team() -> None:
    has_all(passed_to_team(CLINIC)[0].text, "passed this to the team", "(201) 555-0100", "911")


# --- channel and size -------------------------------------------------------------------
def all_variants():
    for topic in sorted(TOPIC_IDS):
        for day in DAYS:
            for channel in ("sms", "web"):
                yield topic, answer(topic, day, channel=channel, clinic=CLINIC)
                yield topic, answer(topic, day, channel=channel, clinic=NO_PHONE)
            if day is not None:
                yield topic, answer(topic, day, channel="sms", clinic=CLINIC, ahead=3, when="Saturday")
    for codes in (["redness"], ["swelling", "flaking"], ["itch"], ["pinpoint_bleeding"], []):
        for day in (None, 0, 2, 5, 9):
            yield "symptom_report", reassure(codes, day, clinic=CLINIC)


def test_sms_replies_have_no_buttons_and_web_ones_may() -> None:
    assert all(not r.buttons for r in answer("makeup", 2, channel="sms", clinic=CLINIC))
    assert answer("makeup", 2, channel="web", clinic=CLINIC)[-1].buttons


def test_every_reply_fits_an_sms() -> None:
    too_long = [(t, r.text) for t, replies in all_variants() for r in replies if len(r.text) > 320]
    assert not too_long, too_long[:3]


def test_button_payloads_are_intents() -> None:
    for _, replies in all_variants():
        for r in replies:
            for b in r.buttons:
                assert b["payload"].startswith("/") and b["payload"][1:] in TOPIC_IDS and b["title"]


def test_no_long_runs_copied_from_the_clinic_guide() -> None:
    """Facts in our own words: no run of 10+ words from the seed guide."""
    seeds = list(SEED_DIR.glob("*.txt"))
    if not seeds:
        pytest.skip("shared/seed not available")

    def words(s: str) -> list[str]:
        return re.findall(r"[a-z0-9']+", s.lower())

    grams = set()
    for f in seeds:
        w = words(f.read_text(errors="ignore"))
        grams.update(tuple(w[i : i + 10]) for i in range(len(w) - 9))
    copied = []
    for _, replies in all_variants():
        for r in replies:
            w = words(r.text)
            if any(tuple(w[i : i + 10]) in grams for i in range(len(w) - 9)):
                copied.append(r.text)
    assert not copied, copied[:3]


def test_clinic_info_gives_the_details_an_admin_set_and_leaves_out_the_rest() -> None:
    clinic = ClinicInfo(name="Glow Skin Studio", phone="+12015550100", hours="Mon-Fri 9am-6pm", address="1 Main St, Hoboken")
    text = text_of("clinic_info", 3, clinic=clinic)
    has_all(text, "Glow Skin Studio", "Mon-Fri 9am-6pm", "1 Main St, Hoboken", "(201) 555-0100")
    assert "Book online" not in text  # no booking link set
    assert "+1201" not in text  # a US patient reads (201) 555-0100, not E.164
    only_hours = text_of("clinic_info", None, clinic=ClinicInfo(name="Glow", hours="Sat 10-2"))
    has_all(only_hours, "Sat 10-2")
    assert "Address" not in only_hours and "Phone" not in only_hours


def test_no_guidance_says_it_will_not_guess_and_who_follows_up() -> None:
    text = " ".join(r.text for r in no_guidance(CLINIC))
    has_all(text, "guidance", "won't guess", "passed", "team", "(201) 555-0100")
