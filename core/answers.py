"""What the assistant says: every topic's answer, aware of the patient's day of recovery.

Framework-free (no rasa, no FastAPI): the Rasa actions call :func:`answer`,
:func:`reassure` and the small helpers below, and unit tests check the facts each
answer must carry (docs/spec/topics.yml).

Clinical content is the clinic's aftercare guide's (not in this repository), in our own words; every
day number comes from :mod:`core.timeline`. Clinic name, phone and booking link
come from the :class:`~core.clinic.ClinicInfo` passed in, never from here.

Each reply stays around SMS size (about 300 characters); a longer answer is split
into several replies. On the web channel replies may carry buttons
(``{"title", "payload": "/<intent>"}``) for likely follow-ups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from core import timeline as tl
from core.ports import AssistantReply as Reply
from core.topics import TOPIC_IDS, TOPIC_TITLES
from core.turn import ClinicInfo

__all__ = [
    "ClinicInfo",
    "Reply",
    "DAY_AWARE_TOPICS",
    "STAFF_TOPICS",
    "DEFAULT_CLINIC",
    "answer",
    "reassure",
    "ask_treatment_date",
    "date_not_understood",
    "clarify",
    "clarify_again",
    "passed_to_team",
    "could_not_pass_on",
    "acknowledge",
    "buttons_for",
]

DEFAULT_CLINIC = ClinicInfo(name="the clinic", phone="", booking_url="", hours="")

DAY_AWARE_TOPICS: frozenset[str] = frozenset(
    {
        "makeup",
        "exercise_sweat",
        "sun_protection",
        "skincare_restart",
        "downtime",
        "washing_face",
        "normal_reactions",
        "peeling_flaking",
        "results_timeline",
        "maintenance_frequency",
        "my_recovery_day",
    }
)
# Topics whose answer is "the request is passed to the team" (the action opens a routine escalation).
STAFF_TOPICS: dict[str, str] = {
    "talk_to_staff": "patient asked to talk to staff",
    "book_appointment": "booking request",
    "pricing": "pricing question",
}

DATE_EXAMPLES = "(for example 'Monday', '3 days ago' or 'Nov 20')"
ASK_DATE_TODAY = "If you tell me when your treatment was, I can tell you what applies to you today."

# Likely follow-ups offered as buttons on the web channel.
FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "makeup": ("skincare_restart", "exercise_sweat", "sun_protection"),
    "exercise_sweat": ("makeup", "sun_protection", "washing_face"),
    "sun_protection": ("makeup", "skincare_restart", "exercise_sweat"),
    "skincare_restart": ("hydration_products", "makeup", "sun_protection"),
    "downtime": ("makeup", "exercise_sweat", "normal_reactions"),
    "washing_face": ("hydration_products", "skincare_restart", "makeup"),
    "normal_reactions": ("peeling_flaking", "when_to_call", "my_recovery_day"),
    "peeling_flaking": ("hydration_products", "normal_reactions", "when_to_call"),
    "hydration_products": ("skincare_restart", "washing_face", "sun_protection"),
    "results_timeline": ("sessions_needed", "results_longevity", "results_factors"),
    "results_for_concern": ("sessions_needed", "results_timeline", "results_longevity"),
    "results_longevity": ("maintenance_frequency", "results_factors"),
    "sessions_needed": ("maintenance_frequency", "results_timeline", "book_appointment"),
    "maintenance_frequency": ("book_appointment", "results_longevity"),
    "results_factors": ("sun_protection", "results_timeline"),
    "my_recovery_day": ("makeup", "exercise_sweat", "skincare_restart"),
    "prep_checklist": ("prep_products_to_pause", "treatment_pain", "treatment_duration"),
    "prep_products_to_pause": ("prep_checklist", "candidacy_conditions"),
    "candidacy_conditions": ("talk_to_staff", "prep_checklist"),
    "darker_skin": ("results_for_concern", "safety_general"),
    "what_is_microneedling": ("treatment_pain", "results_timeline", "sessions_needed"),
    "treatment_pain": ("treatment_duration", "prep_checklist"),
    "treatment_duration": ("treatment_pain", "downtime"),
    "at_home_rollers": ("what_is_microneedling", "safety_general"),
    "combine_treatments": ("book_appointment", "results_for_concern"),
    "safety_general": ("normal_reactions", "when_to_call"),
    "when_to_call": ("talk_to_staff", "normal_reactions"),
    "greet": ("my_recovery_day", "makeup", "when_to_call"),
    "bot_challenge": ("talk_to_staff",),
    "out_of_scope": ("talk_to_staff",),
    "symptom_report": ("normal_reactions", "when_to_call", "talk_to_staff"),
}

CONCERNS: dict[str, str] = {
    "acne scars": "Acne scars get shallower over a series of sessions, and rough texture smooths out.",
    "fine lines": "Fine lines and wrinkles soften as new collagen plumps the skin.",
    "sun spots": "Sun spots and hyperpigmentation fade a little more with each session.",
    "pores": "Pores look smaller as the skin around them firms up.",
    "stretch marks": "Stretch marks gradually improve in texture and colour.",
}
_CONCERN_ALIASES: dict[str, str] = {
    "acne": "acne scars", "scar": "acne scars", "scars": "acne scars", "acne scar": "acne scars",
    "texture": "acne scars", "line": "fine lines", "lines": "fine lines", "wrinkles": "fine lines",
    "wrinkle": "fine lines", "fine line": "fine lines", "sun spot": "sun spots", "spots": "sun spots",
    "dark spots": "sun spots", "hyperpigmentation": "sun spots", "pigmentation": "sun spots",
    "age spots": "sun spots", "pore": "pores", "large pores": "pores", "enlarged pores": "pores",
    "stretch mark": "stretch marks", "stretchmarks": "stretch marks",
}  # fmt: skip


# --------------------------------------------------------------------- helpers
def _call(clinic: ClinicInfo) -> str:
    return f"call us at {clinic.phone}" if clinic.phone else "call the clinic"


def _name(clinic: ClinicInfo) -> str:
    return clinic.name or "the clinic"


def _button(topic: str, title: str | None = None) -> dict[str, str]:
    return {"title": title or TOPIC_TITLES.get(topic, topic.replace("_", " ").capitalize()), "payload": f"/{topic}"}


def buttons_for(topics: Iterable[str], channel: str) -> list[dict[str, str]]:
    """Buttons for the web channel (SMS cannot show them)."""
    if channel != "web":
        return []
    return [_button(t) for t in topics if t in TOPIC_IDS]


def _with_follow_ups(replies: list[Reply], topic: str, channel: str) -> list[Reply]:
    buttons = buttons_for(FOLLOW_UPS.get(topic, ()), channel)
    if buttons and replies and not any(r.buttons for r in replies):
        replies[-1].buttons = buttons
    return replies


def _lead(day: int, when: str | None) -> str:
    """ "You're on day 3" or "On Saturday you'll be on day 5"."""
    if when == "day":  # the patient asked about a day of recovery ("on day 5")
        return f"On day {day}"
    if when and when != "today":
        if when == "tomorrow":
            return f"Tomorrow you'll be on day {day}"
        return f"On {when} you'll be on day {day}"
    if day == 0:
        return "It's treatment day (day 0)"
    return f"You're on day {day}"


def _now(when: str | None) -> str:
    return "by then" if when and when != "today" else "now"


def _today(when: str | None) -> str:
    return "that day" if when and when != "today" else "today"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _on(day: int, body: str, when: str | None) -> str:
    return f"{_lead(day, when)}: {body}"


# ---------------------------------------------------------- day-aware answers
# Each entry: (general answer, answer for a known day). The day function returns
# the whole first reply (it may call _on for the "You're on day N" lead).
DayFn = Callable[[int, "str | None", ClinicInfo], str]


def _makeup_general(clinic: ClinicInfo) -> str:
    return (
        "Skip makeup for at least 24 hours after treatment so the tiny channels in your skin can close. "
        "If you need coverage early, mineral makeup is the gentlest choice; your usual makeup "
        f"can come back around day {tl.MAKEUP_REGULAR_FROM_DAY}."
    )


def _makeup_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    if d < tl.MAKEUP_MINERAL_FROM_DAY:
        return (
            f"No makeup {_today(when)}: give the tiny channels at least 24 hours to close. "
            "From tomorrow mineral makeup is the gentlest option, and your usual makeup "
            f"from about day {tl.MAKEUP_REGULAR_FROM_DAY}."
        )
    if d < tl.MAKEUP_REGULAR_FROM_DAY:
        return _on(
            d,
            f"mineral makeup is fine {_now(when)}; your usual makeup from about day {tl.MAKEUP_REGULAR_FROM_DAY}.",
            when,
        )
    return _on(
        d,
        f"your usual makeup is fine {_now(when)}. If your skin still feels sensitive, mineral makeup is the gentlest choice.",
        when,
    )


def _exercise_general(clinic: ClinicInfo) -> str:
    return (
        "Skip hard workouts, saunas and steam rooms for at least the first 24 hours: sweat can irritate "
        "the healing skin. After that you can ease back in."
    )


def _exercise_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    if d < tl.WORKOUT_FROM_DAY:
        return (
            f"No hard workouts, sauna or steam room {_today(when)}: sweat can irritate freshly treated skin, "
            "so give it at least the first 24 hours. From tomorrow you can ease back in."
        )
    text = (
        "the first 24 hours are behind you, so workouts are fine again. Sweat can still irritate "
        "healing skin, so go easy while it's red"
    )
    if d < tl.SUN_AVOID_UNTIL_DAY:
        text += f", and if you train outdoors keep out of direct sun until day {tl.SUN_AVOID_UNTIL_DAY}."
    else:
        text += "."
    return _on(d, text, when)


def _sun_general(clinic: ClinicInfo) -> str:
    return (
        "Avoid direct sun for the first 72 hours. After that, wear a broad-spectrum SPF 30 or higher "
        "every day: sun on treated skin can cause dark spots and undo your results."
    )


def _sun_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    if d < tl.SUN_AVOID_UNTIL_DAY:
        return _on(
            d,
            f"stay out of direct sun until day {tl.SUN_AVOID_UNTIL_DAY} (the first 72 hours). From then on, "
            "wear a broad-spectrum SPF 30 or higher every day: sun can cause dark spots and undo your results.",
            when,
        )
    return _on(
        d,
        "the 72-hour no-sun window is over. Wear a broad-spectrum SPF 30 or higher every day, "
        "because sun exposure can cause dark spots and undo your results.",
        when,
    )


def _skincare_general(clinic: ClinicInfo) -> str:
    return (
        f"Days 1 to {tl.GENTLE_SKINCARE_UNTIL_DAY}: only a gentle cleanser, a hyaluronic acid serum, a simple "
        "moisturiser and sunscreen, and skip vitamin C serums at first. Your normal routine can usually "
        f"return around day {tl.NORMAL_SKINCARE_FROM_DAY}; wait at least a week before retinoids, acids "
        "and other strong actives."
    )


def _skincare_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    if d < 1:
        return (
            f"Keep it very simple {_today(when)}: a gentle cleanser and a plain hydrating moisturiser. "
            "No harsh cleansers, exfoliants, retinoids or vitamin C serums. "
            f"Days 1 to {tl.GENTLE_SKINCARE_UNTIL_DAY}: gentle cleanser, hyaluronic acid serum, "
            "simple moisturiser and sunscreen."
        )
    if d < tl.NORMAL_SKINCARE_FROM_DAY:
        return _on(
            d,
            "stick to a gentle cleanser, a hyaluronic acid serum, a simple moisturiser and sunscreen until "
            f"about day {tl.NORMAL_SKINCARE_FROM_DAY}. Skip vitamin C serums for now; retinoids, acids and "
            f"other strong actives wait until day {tl.ACTIVES_FROM_DAY}.",
            when,
        )
    if d < tl.ACTIVES_FROM_DAY:
        return _on(
            d,
            f"your normal routine can usually come back {_now(when)}, but keep retinoids, exfoliating acids "
            f"and other strong actives until day {tl.ACTIVES_FROM_DAY}.",
            when,
        )
    return _on(
        d,
        "retinoids, acids and your other actives can come back. Reintroduce them slowly, as your skin "
        "feels ready, and keep up daily SPF 30 or higher.",
        when,
    )


def _downtime_general(clinic: ClinicInfo) -> str:
    return (
        "Plan on 24 to 48 hours of redness, like a mild sunburn. Most people go back to work the next "
        "day; just skip makeup and hard workouts for the first day."
    )


def _downtime_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    if d < 1:
        return (
            "Expect a mild sunburn look for 24 to 48 hours. Most people are back at work tomorrow; "
            f"{_today(when)} skip makeup and hard workouts."
        )
    if d < 2:
        return _on(
            d,
            "most people are back at work by now. Redness usually fades within 24 to 48 hours, "
            "and mineral makeup and workouts are fine again.",
            when,
        )
    if d <= tl.REDNESS_EXPECTED_LAST_DAY:
        return _on(
            d,
            "the usual 24 to 48 hours of redness should be behind you or nearly so, and normal life can carry on."
            + (f" Keep out of direct sun until day {tl.SUN_AVOID_UNTIL_DAY}." if d < tl.SUN_AVOID_UNTIL_DAY else ""),
            when,
        )
    return _on(
        d,
        "downtime is usually over by now. If redness or swelling is still there on day "
        f"{tl.REDNESS_EXPECTED_LAST_DAY + 1} or later, let us know so the team can take a look.",
        when,
    )


def _washing_general(clinic: ClinicInfo) -> str:
    return (
        "Wash with a gentle, non-exfoliating cleanser and lukewarm water, and keep your skin clean and "
        "hydrated. No scrubs or exfoliants while it heals (at least the first week)."
    )


def _washing_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    if d < 1:
        return (
            f"Yes, you can wash {_today(when) if when and when != 'today' else 'tonight'}: a gentle, "
            "non-exfoliating cleanser and lukewarm water, then a simple moisturiser. No scrubs or exfoliants."
        )
    if d < tl.ACTIVES_FROM_DAY:
        return _on(
            d,
            "keep washing with a gentle, non-exfoliating cleanser and lukewarm water, and keep skin "
            f"hydrated. No scrubs or exfoliants until day {tl.ACTIVES_FROM_DAY}.",
            when,
        )
    return _on(
        d,
        "your usual cleanser is fine. Exfoliating products can come back gradually as your skin feels ready.",
        when,
    )


def _normal_general(clinic: ClinicInfo) -> str:
    return (
        "Right after treatment, skin looks and feels like a mild to moderate sunburn. Redness, tightness "
        "and warmth are normal and usually last one to two days; light flaking can follow as old skin sheds."
    )


def _normal_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    if d < 1:
        return (
            "A mild to moderate sunburn look is normal today: redness, tightness and warmth. A little "
            "pinpoint bleeding or clear fluid today is expected too. It usually settles within one to two days."
        )
    if d <= 2:
        return _on(
            d,
            "redness, tightness and warmth are still normal and usually settle within one to two days. "
            "Light dryness or flaking may start as old skin sheds.",
            when,
        )
    if d <= tl.REDNESS_EXPECTED_LAST_DAY:
        return _on(
            d,
            "a little leftover pinkness is still normal, and so are dryness and light flaking. "
            "If redness or swelling is getting worse rather than better, contact us.",
            when,
        )
    if d <= tl.FLAKING_EXPECTED_LAST_DAY:
        itch = f" (and mild itch while peeling, up to day {tl.ITCH_EXPECTED_LAST_DAY})" if d <= tl.ITCH_EXPECTED_LAST_DAY else ""
        return _on(
            d,
            f"redness should have settled. Dryness and light flaking are still normal up to about day "
            f"{tl.FLAKING_EXPECTED_LAST_DAY}{itch}. Redness or swelling that is still there: let us know.",
            when,
        )
    return _on(
        d,
        "your skin should have healed. Anything still showing, like redness, bumps or a change in colour, "
        f"is worth a check: tell me here or {_call(clinic)}.",
        when,
    )


def _peeling_general(clinic: ClinicInfo) -> str:
    return (
        "Light flaking or peeling in the first week is normal as old skin cells shed. Let it come off on "
        "its own (no picking or scrubbing) and keep moisturising."
    )


def _peeling_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    if d < tl.FLAKING_EXPECTED_FIRST_DAY:
        return (
            "Peeling usually comes a little later, once the redness settles. Light flaking in the first week "
            "is normal: let it shed on its own and keep moisturising."
        )
    if d <= tl.FLAKING_EXPECTED_LAST_DAY:
        return _on(
            d,
            "light flaking or peeling is normal as old cells shed. Let it come off on its own "
            "(no picking or scrubbing) and keep moisturising.",
            when,
        )
    return _on(
        d,
        f"flaking this far out is longer than usual. Keep moisturising, and let the team take a look: "
        f"tell me here or {_call(clinic)}.",
        when,
    )


def _results_general(clinic: ClinicInfo) -> str:
    return (
        "Expect a healthy glow within about a week. The main improvement shows at 4 to 6 weeks as new "
        "collagen builds, and your skin keeps improving for months."
    )


def _results_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    if d < tl.GLOW_BY_DAY:
        return _on(
            d,
            "a healthy glow usually shows within about a week. The main improvement comes at 4 to 6 weeks "
            "as collagen builds, and skin keeps improving for months.",
            when,
        )
    if d < tl.RESULTS_FROM_DAY:
        return _on(
            d,
            "the glow should be showing. The main improvement builds at weeks 4 to 6 "
            f"(from about day {tl.RESULTS_FROM_DAY}), and skin keeps improving for months.",
            when,
        )
    if d <= tl.RESULTS_UNTIL_DAY:
        return _on(
            d,
            "this is when the main improvement usually shows, as new collagen builds, and skin keeps "
            "improving for months. Doing a series? It's time to book your next session.",
            when,
        )
    return _on(
        d,
        "skin keeps improving for months as collagen builds. Most concerns need a series of sessions "
        "about a month apart, then maintenance.",
        when,
    )


def _maintenance_general(clinic: ClinicInfo) -> str:
    return (
        "A corrective series is spaced about 4 to 6 weeks apart. For maintenance: age 25 to 35, about "
        "2 to 3 sessions a year; over 35, about 3 to 4 a year."
    )


def _maintenance_day(d: int, when: str | None, clinic: ClinicInfo) -> str:
    text = _maintenance_general(clinic)
    if d < tl.NEXT_SESSION_FROM_DAY:
        return text + f" If you're doing a series, your next session is due from about day {tl.NEXT_SESSION_FROM_DAY}."
    return text + f" {_lead(d, when)}, so your next series session is due now."


# ------------------------------------------------------------ my recovery day
def _weeks_after(d: int) -> str:
    return "over a week after treatment" if d < 14 else f"about {d // 7} weeks after treatment"


def _booking(clinic: ClinicInfo) -> str:
    if clinic.booking_url:
        return f"book at {clinic.booking_url} or {_call(clinic)}"
    return f"{_call(clinic)} or ask me to pass a booking request to the team"


def _recovery_replies(d: int, when: str | None, clinic: ClinicInfo, first_name: str | None) -> list[str]:
    band = tl.band_for(d)
    hello = f"Hi {first_name}! " if first_name and not when else ""
    lead = _lead(d, when)
    key = band.key if band else "later"
    if key == "day0":
        head = "treatment day (day 0)" if not when or when == "today" else None
        first = (
            f"{hello}{'Today is your ' + head if head else lead}. Redness, tightness and warmth like a mild "
            "to moderate sunburn are expected, and a little pinpoint bleeding or clear fluid is normal today."
        )
        second = (
            "For today: no makeup, no workouts, sauna or steam, stay out of direct sun, and wash only with a "
            "gentle cleanser and lukewarm water."
        )
        return [first, second]
    if key == "day1":
        return [
            f"{hello}{lead}. Redness and tightness are still normal and usually fade within one to two days; "
            "some dryness may start.",
            "Fine now: mineral makeup and workouts. Still: no direct sun until "
            f"day {tl.SUN_AVOID_UNTIL_DAY}, and only gentle products (cleanser, hyaluronic acid serum, "
            "simple moisturiser).",
        ]
    if key == "day2":
        return [
            f"{hello}{lead}. Redness should be fading; dryness or light flaking is normal as old skin sheds.",
            "Mineral makeup and workouts are fine. It's the last day to keep out of direct sun; from "
            f"day {tl.SUN_AVOID_UNTIL_DAY}, SPF 30 or higher every day. Gentle products only.",
        ]
    if key == "days3_5":
        if d <= tl.REDNESS_EXPECTED_LAST_DAY:
            first = f"{hello}{lead}. Any pinkness should be settling, and dryness or light flaking is normal."
        else:
            first = (
                f"{hello}{lead}. Redness should have settled, and dryness or light flaking is normal. "
                "If redness or swelling is still there, let us know so the team can check."
            )
        if d < tl.MAKEUP_REGULAR_FROM_DAY:
            second = (
                f"Broad-spectrum SPF 30+ every day. Mineral makeup until day {tl.MAKEUP_REGULAR_FROM_DAY}, "
                f"then your usual makeup and routine; retinoids and acids wait until day {tl.ACTIVES_FROM_DAY}."
            )
        else:
            second = (
                f"Your usual makeup and skincare can come back {_now(when)}; retinoids and acids wait until "
                f"day {tl.ACTIVES_FROM_DAY}. SPF 30+ every day."
            )
        return [first, second]
    if key == "days6_7":
        first = f"{hello}{lead}. Any flaking is usually winding down, and a healthy glow often shows around now."
        if d < tl.ACTIVES_FROM_DAY:
            second = (
                f"Your usual makeup and skincare are fine; retinoids and acids from day {tl.ACTIVES_FROM_DAY}. SPF 30+ every day."
            )
        else:
            second = "Retinoids, acids and other actives can come back, slowly. Keep up SPF 30+ every day."
        return [first, second]
    if key == "weeks2_3":
        return [
            f"{hello}{lead}, {_weeks_after(d)}. Your skin has usually healed, and new "
            "collagen is building underneath; the main improvement shows at weeks 4 to 6.",
            "Your usual routine is fine; keep up daily SPF 30+. If a colour change, bumps or redness are "
            f"still showing, tell me here or {_call(clinic)}.",
        ]
    if key == "weeks4_6":
        return [
            f"{hello}{lead}, {_weeks_after(d)}: this is when the main improvement usually shows as new collagen builds.",
            f"If you're doing a series, it's time for your next session (they're about 4 weeks apart): {_booking(clinic)}.",
        ]
    return [
        f"{hello}{lead}, {_weeks_after(d)}. Skin keeps improving for months as collagen builds.",
        "Ready for the next step? A series is spaced about a month apart; for maintenance, 2 to 4 sessions "
        f"a year depending on age. When you're ready, {_booking(clinic)}.",
    ]


# ------------------------------------------------------------- static answers
def _static(topic: str, clinic: ClinicInfo, concern: str | None, first_name: str | None) -> list[str]:
    call = _call(clinic)
    name = _name(clinic)
    if topic == "prep_checklist":
        return [
            "Before your appointment: keep out of direct sun and tanning beds for at least a week (we can't "
            "treat sunburned skin), and no chemical peels, waxing or laser on that area beforehand.",
            "No alcohol in the 24 hours before. Keep your skin moisturised and wear broad-spectrum SPF daily. "
            "On the day, come with a clean face: no makeup or lotion.",
        ]
    if topic == "prep_products_to_pause":
        return [
            "Stop products with active ingredients 5 to 7 days before: retinoids (retinol, tretinoin), "
            "exfoliating acids (glycolic, salicylic, lactic) and benzoyl peroxide. Meanwhile use a gentle "
            "cleanser and a hydrating moisturiser."
        ]
    if topic == "candidacy_conditions":
        return [
            "Microneedling may not suit you if you have active acne, eczema, psoriasis, a skin infection or "
            "a cold sore. Please also tell us about blood clotting problems, blood thinners or a weakened "
            "immune system.",
            f"Your specialist decides at the consultation. To talk it through, {call}.",
        ]
    if topic == "darker_skin":
        return [
            "Yes: microneedling is suitable and safe for darker skin tones. It uses no heat, so it avoids the "
            "pigmentation risk some lasers carry. The key is an experienced provider."
        ]
    if topic == "what_is_microneedling":
        return [
            "Microneedling uses fine, sterile needles to make tiny, controlled micro-injuries in the skin. "
            "As it heals, your skin builds new collagen and elastin, which smooths texture, scars and fine lines."
        ]
    if topic == "treatment_pain":
        return [
            "Numbing cream goes on about 30 minutes before we start, so most people feel only a light "
            "vibration or buzzing, with little or no pain."
        ]
    if topic == "treatment_duration":
        return [
            "The treatment itself takes about 30 minutes, depending on the area, plus about 30 minutes "
            "of numbing beforehand, so plan on roughly an hour."
        ]
    if topic == "at_home_rollers":
        return [
            "They're not the same. Professional devices are sterile and medical-grade, with the needle depth "
            "set for your concern. At-home rollers can tear or drag the skin, risking scarring, infection or "
            "pigmentation."
        ]
    if topic == "combine_treatments":
        return [
            "Yes. It pairs well with PRP, which uses growth factors from your own blood to boost healing and "
            "results. You can also alternate with facials such as HydraFacial between sessions. Your "
            "specialist can plan the mix with you."
        ]
    if topic == "hydration_products":
        return [
            "Hyaluronic acid serums are a great way to hydrate while your skin heals. Products sink in more "
            "deeply right after treatment, so keep them simple and fragrance-free. Drink plenty of water too."
        ]
    if topic == "results_for_concern":
        key = normalise_concern(concern)
        if key:
            return [CONCERNS[key] + " Most concerns need a series of 3 to 6 sessions about a month apart."]
        return [
            " ".join(CONCERNS[k] for k in ("acne scars", "fine lines", "sun spots")),
            " ".join(CONCERNS[k] for k in ("pores", "stretch marks")),
        ]
    if topic == "results_longevity":
        return [
            "Results last because the new collagen is your own: improvements in scars and texture can be "
            "permanent. Fine-line results last many months, and a maintenance session once or twice a year "
            "keeps them up."
        ]
    if topic == "sessions_needed":
        return [
            "One session gives a glow, but most concerns need a series of 3 to 6 sessions, about a month "
            "apart. Deeper scars need more."
        ]
    if topic == "results_factors":
        return [
            "Results depend on your concern, your age and how your skin heals. Good aftercare and daily sun "
            "protection make a big difference."
        ]
    if topic == "safety_general":
        return [
            "Microneedling is low risk in a professional, sterile setting. Normal: redness, tightness and "
            "light peeling for a few days. Red flags: signs of infection, a cold sore flare-up or a colour "
            "change that lasts; if you see one, contact us."
        ]
    if topic == "when_to_call":
        return [
            "Contact us if redness or swelling isn't improving after a few days, or for any sign of infection "
            "(pus, spreading redness or heat, fever), a cold sore, or a colour change that lasts. "
            f"Tell me here or {call}.",
            "If you have trouble breathing or your face or throat swells fast, call 911.",
        ]
    if topic == "talk_to_staff":
        return [
            f"I've asked a member of the {name} team to follow up with you here, usually within one "
            f"business day. If it's urgent, {call}."
        ]
    if topic == "book_appointment":
        link = f" You can also book at {clinic.booking_url}." if clinic.booking_url else ""
        return [
            f"I've passed your booking request to the {name} team; they'll get back to you, usually "
            f"within one business day.{link} Or {call}."
        ]
    if topic == "pricing":
        return [
            f"I can't quote prices here, so I've passed your question to the {name} team and they'll "
            f"follow up. You can also {call}."
        ]
    if topic == "greet":
        hello = f"Hi {first_name}!" if first_name else "Hi!"
        return [
            f"{hello} I'm the aftercare assistant for {name}. Ask me anything about getting ready for "
            "microneedling, your recovery or your results."
        ]
    if topic == "goodbye":
        return ["Take care! Message me any time if a question about your recovery comes up."]
    if topic == "thanks":
        return ["You're welcome! I'm here if anything else comes up."]
    if topic == "bot_challenge":
        return [f"I'm an automated assistant for {name}, not a person. To reach the team, say 'talk to a person' or {call}."]
    if topic == "out_of_scope":
        return [
            "I can only help with microneedling: getting ready, aftercare and recovery, and results. "
            "Would you like me to pass your message to a person on the team? Just say 'talk to a person'."
        ]
    if topic == "symptom_report":
        return [_normal_general(clinic), f"If something doesn't look right, tell me more here or {call}."]
    raise KeyError(topic)


_DAY_AWARE: dict[str, tuple[Callable[[ClinicInfo], str], DayFn]] = {
    "makeup": (_makeup_general, _makeup_day),
    "exercise_sweat": (_exercise_general, _exercise_day),
    "sun_protection": (_sun_general, _sun_day),
    "skincare_restart": (_skincare_general, _skincare_day),
    "downtime": (_downtime_general, _downtime_day),
    "washing_face": (_washing_general, _washing_day),
    "normal_reactions": (_normal_general, _normal_day),
    "peeling_flaking": (_peeling_general, _peeling_day),
    "results_timeline": (_results_general, _results_day),
    "maintenance_frequency": (_maintenance_general, _maintenance_day),
}


def normalise_concern(concern: str | None) -> str | None:
    if not concern:
        return None
    c = concern.strip().lower().replace("_", " ")
    if c in CONCERNS:
        return c
    return _CONCERN_ALIASES.get(c) or next((k for k in CONCERNS if k.split()[0] in c), None)


def ask_treatment_date(first_name: str | None = None) -> str:
    hello = f"Hi {first_name}! " if first_name else ""
    return f"{hello}I don't have your treatment date yet. When was your treatment? {_cap(DATE_EXAMPLES)}"


def date_not_understood() -> str:
    return f"Sorry, I couldn't work out that date. When was your treatment? {_cap(DATE_EXAMPLES)}"


def _date_hint(when: str | None) -> str:
    if when and when != "today":
        day_name = when if when == "tomorrow" else f"on {when}"
        return f"If you tell me when your treatment was, I can tell you what applies {day_name}."
    return ASK_DATE_TODAY


def answer(
    topic: str,
    day: int | None,
    *,
    channel: str,
    clinic: ClinicInfo | None = None,
    ahead: int = 0,
    when: str | None = None,
    concern: str | None = None,
    first_name: str | None = None,
) -> list[Reply]:
    """The replies for ``topic`` on recovery ``day`` (None = unknown).

    ``ahead``/``when``: the patient asked about a later day ("can I work out on Saturday?"):
    the answer is for ``day + ahead`` and names it ("On Saturday you'll be on day 5: ...").
    ``when="day"`` answers for a day of recovery the patient named ("can I ... on day 5?"):
    "On day 5: ...".
    """
    clinic = clinic or DEFAULT_CLINIC
    if topic not in TOPIC_IDS:
        raise KeyError(f"unknown topic {topic!r}")
    target = day + ahead if day is not None else None
    if target is not None and target < 0:
        target = None  # treatment still to come: give the general answer
    texts: list[str]
    if topic == "my_recovery_day":
        if target is None:
            if day is not None and day < 0:
                soon = f"Your treatment is coming up in {-day} day{'s' if day != -1 else ''}. Ask me how to get ready any time."
                return [Reply(soon, buttons_for(("prep_checklist", "prep_products_to_pause"), channel))]
            return [Reply(ask_treatment_date(first_name))]
        texts = _recovery_replies(target, when, clinic, first_name)
        replies = [Reply(t) for t in texts]
        band = tl.band_for(target)
        if channel == "web" and band is not None and band.key in ("weeks4_6", "later"):
            replies[-1].buttons = [_button("book_appointment", "Book my next session")]
        return _with_follow_ups(replies, topic, channel)
    if topic in _DAY_AWARE:
        general, for_day = _DAY_AWARE[topic]
        if target is None:
            texts = [general(clinic), _date_hint(when)]
        else:
            texts = [for_day(target, when, clinic)]
    else:
        texts = _static(topic, clinic, concern, first_name)
    replies = [Reply(t) for t in texts]
    if topic in ("out_of_scope", "bot_challenge") and channel == "web":
        replies[-1].buttons = [_button("talk_to_staff", "Talk to a person")]
        return replies
    return _with_follow_ups(replies, topic, channel)


# ------------------------------------------------------------- reassurance
# Expected-healing findings of core.triage (TriageResult.expected codes, the policy's
# 'none' list): how to name them, and which watch-out note goes with them.
_EXPECTED: dict[str, tuple[str, str]] = {
    "redness": ("redness", "red"),
    "sunburn": ("a sunburn feeling", "red"),
    "warmth": ("warmth", "red"),
    "tightness": ("tightness", "red"),
    "sensitivity": ("some tenderness", "pain"),
    "swelling": ("mild swelling", "red"),
    "pinpoint_bleeding": ("a little pinpoint bleeding or clear fluid", "bleed"),
    "flaking": ("dryness or flaking", "flake"),
    "itch": ("a mild itch", "itch"),
    "breakouts": ("some breakouts", "breakout"),
    "numbness": ("some numbness", "numb"),
}
# unknown codes: the first fragment that matches decides
_FRAGMENTS: tuple[tuple[str, str], ...] = (
    ("bleed", "pinpoint_bleeding"), ("fluid", "pinpoint_bleeding"), ("swell", "swelling"), ("itch", "itch"),
    ("flak", "flaking"), ("peel", "flaking"), ("dry", "flaking"), ("break", "breakouts"), ("numb", "numbness"),
    ("warm", "warmth"), ("tight", "tightness"), ("sensitiv", "sensitivity"), ("pain", "sensitivity"),
    ("burn", "sunburn"), ("red", "redness"), ("pink", "redness"),
)  # fmt: skip
_WATCH: dict[str, str] = {
    "red": f"redness or swelling that gets worse, or is still there on day {tl.REDNESS_EXPECTED_LAST_DAY + 1} or later",
    "pain": "pain that is severe or getting worse",
    "bleed": f"bleeding that won't stop, or oozing after day {tl.OOZING_EXPECTED_LAST_DAY}",
    "flake": f"flaking past day {tl.FLAKING_EXPECTED_LAST_DAY}",
    "itch": f"itching past day {tl.ITCH_EXPECTED_LAST_DAY}, or a rash",
    "breakout": f"breakouts that keep coming after day {tl.BREAKOUTS_EXPECTED_LAST_DAY}",
    "numb": "numbness after today",
}


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _expected_key(code: str) -> str | None:
    c = str(code).lower()
    if c in _EXPECTED:
        return c
    return next((key for fragment, key in _FRAGMENTS if fragment in c), None)


def reassure(
    expected_codes: Sequence[str],
    day: int | None,
    *,
    channel: str = "sms",
    clinic: ClinicInfo | None = None,
) -> list[Reply]:
    """Reassurance for expected healing (triage level none): what's normal now, and when to get in touch."""
    clinic = clinic or DEFAULT_CLINIC
    keys = list(dict.fromkeys(k for k in (_expected_key(c) for c in expected_codes) if k))
    what = f"What you describe ({_join([_EXPECTED[k][0] for k in keys])})" if keys else "What you describe"
    if day is None:
        first = f"{what} can be part of normal healing in the first days after microneedling. {ASK_DATE_TODAY}"
    else:
        first = f"{what} sounds like normal healing on {'treatment day' if day == 0 else f'day {day}'}."
    groups = list(dict.fromkeys(_EXPECTED[k][1] for k in keys))
    if "flake" in groups or "itch" in groups:
        first += " Let it shed on its own and keep moisturising."
    watch = "; ".join(_WATCH[g] for g in groups) or "anything that gets worse rather than better"
    second = (
        f"Let us know about {watch}. Contact us right away for pus, spreading heat, fever or blisters: "
        f"tell me here or {_call(clinic)}."
    )
    return _with_follow_ups([Reply(first), Reply(second)], "symptom_report", channel)


# ---------------------------------------------------------------- fallback
def clarify(options: Sequence[str], channel: str) -> list[Reply]:
    """First unclear message: one clarifying question offering the likely topics."""
    options = [o for o in options if o in TOPIC_IDS][:3]
    if not options:
        return [
            Reply(
                "Sorry, I didn't quite catch that. Could you say it another way? I can help with getting "
                "ready for microneedling, your recovery and your results."
            )
        ]
    titles = [TOPIC_TITLES[o] for o in options]
    if channel == "web":
        return [Reply("Sorry, I'm not sure I understood. Did you mean one of these?", buttons_for(options, channel))]
    numbered = ", ".join(f"{i}) {t}" for i, t in enumerate(titles, 1))
    return [Reply(f"Sorry, I'm not sure I understood. Is it about {numbered}? Reply with the number, or say it another way.")]


def clarify_again(channel: str, clinic: ClinicInfo | None = None) -> list[Reply]:
    """Second unclear message in a row: offer a person."""
    clinic = clinic or DEFAULT_CLINIC
    if channel == "web":
        return [
            Reply(
                "Sorry, I still can't work that out. Would you like a person from the team to help?",
                [_button("talk_to_staff", "Talk to a person")],
            )
        ]
    return [
        Reply(f"Sorry, I still can't work that out. Reply 'talk to a person' and I'll pass this to the team, or {_call(clinic)}.")
    ]


def passed_to_team(clinic: ClinicInfo | None = None) -> list[Reply]:
    """A symptom that needs a staff review (the escalation is opened elsewhere)."""
    clinic = clinic or DEFAULT_CLINIC
    return [
        Reply(
            f"I've passed this to the team so someone can take a look; they'll follow up, usually within "
            f"one business day. If it gets worse, {_call(clinic)}; for trouble breathing, call 911."
        )
    ]


def acknowledge(*, yes: bool) -> list[Reply]:
    """A "yes" or "no" when nothing was offered (or the offer was declined)."""
    if yes:
        return [Reply("Great! Anything else about your treatment or recovery I can help with?")]
    return [Reply("No problem. If anything else comes up, just message me here.")]


def could_not_pass_on(clinic: ClinicInfo | None = None) -> list[Reply]:
    """The hand-off could not be stored (database down, unknown conversation): say so, and how to reach a person."""
    clinic = clinic or DEFAULT_CLINIC
    return [
        Reply(
            f"Sorry, I can't reach the team from here right now. Please {_call(clinic)} so someone can help you "
            "directly. If you have trouble breathing or feel very unwell, call 911."
        )
    ]
