"""What the assistant says: every topic's answer, aware of the patient's day of recovery.

Framework-free (no rasa, no FastAPI): the Rasa actions call :func:`answer`,
:func:`reassure` and the small helpers below, and unit tests check the facts each
answer must carry (docs/spec/topics.yml).

This module decides *which* message fits the turn (topic, day window, channel); the words
are in ``content/en/answers.yml`` (see :mod:`core.content` and docs/content.md); clinical content
is the clinic's aftercare guide's (not in this repository), in our own words. Every day
window comes from :mod:`core.timeline`. Clinic name, phone and booking link come from the
:class:`~core.clinic.ClinicInfo` passed in, never from here.

Each reply stays around SMS size (about 300 characters); a longer answer is split
into several replies. On the web channel replies may carry buttons
(``{"title", "payload": "/<intent>"}``) for likely follow-ups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from core import content, phones
from core import timeline as tl
from core.ports import AssistantReply as Reply
from core.topics import TOPIC_IDS, topic_title
from core.turn import ClinicInfo

__all__ = [
    "ClinicInfo",
    "Reply",
    "DAY_AWARE_TOPICS",
    "STAFF_TOPICS",
    "default_clinic",
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

AREA = "answers"
# Topics answered from the day windows (the entry's `case` is picked below).
_DAY_CASES: dict[str, Callable[[int], str]] = {
    "makeup": lambda d: "no_makeup" if d < tl.MAKEUP_MINERAL_FROM_DAY else "mineral" if d < tl.MAKEUP_REGULAR_FROM_DAY else "usual",
    "exercise_sweat": lambda d: "rest" if d < tl.WORKOUT_FROM_DAY else "back_out_of_sun" if d < tl.SUN_AVOID_UNTIL_DAY else "back",
    "sun_protection": lambda d: "avoid" if d < tl.SUN_AVOID_UNTIL_DAY else "spf",
    "skincare_restart": lambda d: (
        "treatment_day" if d < 1 else "gentle" if d < tl.NORMAL_SKINCARE_FROM_DAY else "normal" if d < tl.ACTIVES_FROM_DAY else "actives"
    ),
    "downtime": lambda d: (
        "treatment_day" if d < 1 else "day_after" if d < 2
        else ("settling_out_of_sun" if d < tl.SUN_AVOID_UNTIL_DAY else "settling") if d <= tl.REDNESS_EXPECTED_LAST_DAY
        else "over"
    ),
    "washing_face": lambda d: "treatment_day" if d < 1 else "gentle" if d < tl.ACTIVES_FROM_DAY else "usual",
    "normal_reactions": lambda d: (
        "treatment_day" if d < 1 else "first_days" if d <= 2 else "pink" if d <= tl.REDNESS_EXPECTED_LAST_DAY
        else ("flaking_and_itch" if d <= tl.ITCH_EXPECTED_LAST_DAY else "flaking") if d <= tl.FLAKING_EXPECTED_LAST_DAY
        else "healed"
    ),
    "peeling_flaking": lambda d: (
        "before_peeling" if d < tl.FLAKING_EXPECTED_FIRST_DAY else "peeling" if d <= tl.FLAKING_EXPECTED_LAST_DAY else "too_long"
    ),
    "results_timeline": lambda d: (
        "before_glow" if d < tl.GLOW_BY_DAY else "glow" if d < tl.RESULTS_FROM_DAY
        else "main_improvement" if d <= tl.RESULTS_UNTIL_DAY else "later"
    ),
    "maintenance_frequency": lambda d: "not_yet" if d < tl.NEXT_SESSION_FROM_DAY else "due",
}  # fmt: skip
DAY_AWARE_TOPICS: frozenset[str] = frozenset({*_DAY_CASES, "my_recovery_day"})
# Topics whose answer is "the request is passed to the team" (the action opens a routine escalation).
STAFF_TOPICS: dict[str, str] = {
    "talk_to_staff": "patient asked to talk to staff",
    "book_appointment": "booking request",
    "pricing": "pricing question",
}
# Topics with one fixed answer (placeholders aside): the entry has the topic's name.
_STATIC_TOPICS = TOPIC_IDS - DAY_AWARE_TOPICS - {"results_for_concern", "symptom_report"}

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

CONCERNS: tuple[str, ...] = ("acne scars", "fine lines", "sun spots", "pores", "stretch marks")
_CONCERN_ALIASES: dict[str, str] = {
    "acne": "acne scars", "scar": "acne scars", "scars": "acne scars", "acne scar": "acne scars",
    "texture": "acne scars", "line": "fine lines", "lines": "fine lines", "wrinkles": "fine lines",
    "wrinkle": "fine lines", "fine line": "fine lines", "sun spot": "sun spots", "spots": "sun spots",
    "dark spots": "sun spots", "hyperpigmentation": "sun spots", "pigmentation": "sun spots",
    "age spots": "sun spots", "pore": "pores", "large pores": "pores", "enlarged pores": "pores",
    "stretch mark": "stretch marks", "stretchmarks": "stretch marks",
}  # fmt: skip

# Expected-healing findings of core.triage (TriageResult.expected codes, the policy's
# 'none' list): each is named by the entry expected_<code>, and has a watch-out group (watch_<group>).
_EXPECTED: dict[str, str] = {
    "redness": "red", "sunburn": "red", "warmth": "red", "tightness": "red", "sensitivity": "pain", "swelling": "red",
    "pinpoint_bleeding": "bleed", "flaking": "flake", "itch": "itch", "breakouts": "breakout", "numbness": "numb",
}  # fmt: skip
# unknown codes: the first fragment that matches decides
_FRAGMENTS: tuple[tuple[str, str], ...] = (
    ("bleed", "pinpoint_bleeding"), ("fluid", "pinpoint_bleeding"), ("swell", "swelling"), ("itch", "itch"),
    ("flak", "flaking"), ("peel", "flaking"), ("dry", "flaking"), ("break", "breakouts"), ("numb", "numbness"),
    ("warm", "warmth"), ("tight", "tightness"), ("sensitiv", "sensitivity"), ("pain", "sensitivity"),
    ("burn", "sunburn"), ("red", "redness"), ("pink", "redness"),
)  # fmt: skip

_KEYS = (
    {*_DAY_CASES, *_STATIC_TOPICS, *(f"concern_{c.replace(' ', '_')}" for c in CONCERNS), *(f"expected_{c}" for c in _EXPECTED)}
    | {f"watch_{g}" for g in (*_EXPECTED.values(), "anything")}
    | {
        "the_clinic",
        "list_and",
        "call",
        "hello",
        "lead",
        "now",
        "today",
        "tonight",
        "weeks_after",
        "booking",
        "button_talk_to_staff",
    }
    | {"button_book_next_session", "date_hint", "my_recovery_day_no_date", "date_not_understood", "treatment_coming_up"}
    | {"maintenance_next_session", "recovery_status", "recovery_advice", "concern_series", "symptom_report", "reassure_what"}
    | {"reassure_normal", "reassure_shedding", "reassure_watch", "clarify", "clarify_again", "passed_to_team"}
    | {"acknowledge_yes", "acknowledge_no", "could_not_pass_on", "no_guidance", "clinic_info_missing"}
    | {"clinic_hours", "clinic_address", "clinic_phone_line", "clinic_booking_line"}
)
say = content.Area(AREA, _KEYS)


def default_clinic() -> ClinicInfo:
    """The clinic when the turn did not say (its name in the language being spoken)."""
    return ClinicInfo(name=say("the_clinic"), phone="", booking_url="", hours="")


# --------------------------------------------------------------------- helpers
def _call(clinic: ClinicInfo) -> str:
    return say("call", case="phone" if clinic.phone else None, clinic_phone=clinic.phone)


def _later(when: str | None) -> str | None:
    """The case of {now}/{today}: the answer is about a later day than today."""
    return "later" if when and when != "today" else None


def _lead(day: int, when: str | None) -> str:
    """ "You're on day 3" or "On Saturday you'll be on day 5"."""
    if when == "day":  # the patient asked about a day of recovery ("on day 5")
        return say("lead", day=day, case="named_day")
    if when and when != "today":
        return say("lead", day=day, case="tomorrow" if when == "tomorrow" else "later", when=when)
    return say("lead", day=day)


def _values(clinic: ClinicInfo, when: str | None = None, day: int | None = None) -> dict[str, Any]:
    """The placeholders a message of this turn may use."""
    values: dict[str, Any] = {
        "call": _call(clinic),
        "clinic_name": clinic.name or say("the_clinic"),
        "clinic_phone": phones.display(clinic.phone),
        "booking_url": clinic.booking_url,
        "when": when,
    }
    if day is not None:
        values.update(lead=_lead(day, when), now=say("now", case=_later(when)), today=say("today", case=_later(when)))
    return values


def _button(topic: str, title: str | None = None) -> dict[str, str]:
    return {"title": title or topic_title(topic), "payload": f"/{topic}"}


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


def _texts(key: str, **kw: Any) -> list[str]:
    return [m.text for m in say.messages(key, **kw)]


# ---------------------------------------------------------- day-aware answers
def _for_day(topic: str, d: int, when: str | None, clinic: ClinicInfo) -> str:
    """The answer for a known recovery day ``d``: the variant of the day window ``d`` falls in."""
    values = _values(clinic, when, d)
    if topic == "washing_face":
        values["today"] = say("tonight", case=_later(when))
    if topic == "maintenance_frequency":
        return say(topic) + " " + say("maintenance_next_session", day=d, case=_DAY_CASES[topic](d), lead=values["lead"])
    return say(topic, day=d, case=_DAY_CASES[topic](d), **values)


def _recovery_cases(d: int) -> tuple[str, str]:
    """The (recovery_status, recovery_advice) cases for day ``d``: its band, split where a window ends."""
    band = tl.band_for(d)
    key = band.key if band else "later"
    if key == "days3_5":
        status = "days3_5_pink" if d <= tl.REDNESS_EXPECTED_LAST_DAY else "days3_5_settled"
        return status, "days3_5_mineral" if d < tl.MAKEUP_REGULAR_FROM_DAY else "days3_5_usual"
    if key == "days6_7":
        return key, "days6_7_before_actives" if d < tl.ACTIVES_FROM_DAY else "days6_7_actives"
    return key, key


def _recovery_replies(d: int, when: str | None, clinic: ClinicInfo, first_name: str | None) -> list[str]:
    values = _values(clinic, when, d)
    values["hello"] = say("hello", first_name=first_name) if first_name and not when else ""
    if d == 0 and (not when or when == "today"):
        values["lead"] = say("lead", day=d, case="treatment_day_today")
    values["weeks_after"] = say("weeks_after", day=d, weeks=d // 7)
    values["booking"] = say("booking", case="link" if clinic.booking_url else None, **values)
    status, advice = _recovery_cases(d)
    return [say("recovery_status", day=d, case=status, **values), say("recovery_advice", day=d, case=advice, **values)]


# ------------------------------------------------------------- static answers
def _static(topic: str, clinic: ClinicInfo, concern: str | None, first_name: str | None) -> list[str]:
    values = _values(clinic)
    if topic == "results_for_concern":
        key = normalise_concern(concern)
        if key:
            return [_concern(key) + " " + say("concern_series")]
        return [" ".join(_concern(k) for k in CONCERNS[:3]), " ".join(_concern(k) for k in CONCERNS[3:])]
    if topic == "symptom_report":
        return [say("normal_reactions"), say("symptom_report", **values)]
    if topic == "book_appointment":
        return _texts(topic, case="link" if clinic.booking_url else None, **values)
    if topic == "greet":
        return _texts(topic, case="named" if first_name else None, first_name=first_name, **values)
    if topic == "clinic_info":
        return [_clinic_details(clinic, values) or say("clinic_info_missing", **values)]
    if topic not in _STATIC_TOPICS:
        raise KeyError(topic)
    return _texts(topic, **values)


def has_clinic_details(clinic: ClinicInfo) -> bool:
    """Whether the settings hold what a "where are you / when are you open" question needs."""
    return bool(clinic.hours.strip() or clinic.address.strip())


def _clinic_details(clinic: ClinicInfo, values: dict[str, Any]) -> str:
    """The clinic's details as set in its settings, one line each ("" when neither hours nor address is set)."""
    if not has_clinic_details(clinic):
        return ""
    lines = [say("clinic_info", **values)]
    for key, value, field in (
        ("clinic_hours", clinic.hours, "hours"),
        ("clinic_address", clinic.address, "address"),
        ("clinic_phone_line", values["clinic_phone"], "clinic_phone"),
        ("clinic_booking_line", clinic.booking_url, "booking_url"),
    ):
        if value and value.strip():
            lines.append(say(key, **{**values, field: value.strip()}))
    return "\n".join(lines)


def no_guidance(clinic: ClinicInfo) -> list[Reply]:
    """A question the clinic's guide does not answer: say so, and that a person will follow up."""
    return [Reply(say("no_guidance", **_values(clinic)))]


def _concern(key: str) -> str:
    return say(f"concern_{key.replace(' ', '_')}")


def normalise_concern(concern: str | None) -> str | None:
    if not concern:
        return None
    c = concern.strip().lower().replace("_", " ")
    if c in CONCERNS:
        return c
    return _CONCERN_ALIASES.get(c) or next((k for k in CONCERNS if k.split()[0] in c), None)


def ask_treatment_date(first_name: str | None = None) -> str:
    return say("my_recovery_day_no_date", hello=say("hello", first_name=first_name) if first_name else "")


def date_not_understood() -> str:
    return say("date_not_understood")


def _date_hint(when: str | None) -> str:
    if when and when != "today":
        return say("date_hint", case="tomorrow" if when == "tomorrow" else "later", when=when)
    return say("date_hint")


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
    clinic = clinic or default_clinic()
    if topic not in TOPIC_IDS:
        raise KeyError(f"unknown topic {topic!r}")
    target = day + ahead if day is not None else None
    if target is not None and target < 0:
        target = None  # treatment still to come: give the general answer
    texts: list[str]
    if topic == "my_recovery_day":
        if target is None:
            if day is not None and day < 0:
                soon = say("treatment_coming_up", day=day, days_to_go=-day)
                return [Reply(soon, buttons_for(("prep_checklist", "prep_products_to_pause"), channel))]
            return [Reply(ask_treatment_date(first_name))]
        texts = _recovery_replies(target, when, clinic, first_name)
        replies = [Reply(t) for t in texts]
        band = tl.band_for(target)
        if channel == "web" and band is not None and band.key in ("weeks4_6", "later"):
            replies[-1].buttons = [_button("book_appointment", say("button_book_next_session"))]
        return _with_follow_ups(replies, topic, channel)
    if topic in _DAY_CASES:
        if target is None:
            texts = [say(topic), _date_hint(when)]
        else:
            texts = [_for_day(topic, target, when, clinic)]
    else:
        texts = _static(topic, clinic, concern, first_name)
    replies = [Reply(t) for t in texts]
    if topic in ("out_of_scope", "bot_challenge") and channel == "web":
        replies[-1].buttons = [_button("talk_to_staff", say("button_talk_to_staff"))]
        return replies
    return _with_follow_ups(replies, topic, channel)


# ------------------------------------------------------------- reassurance
def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " " + say("list_and") + " " + items[-1]


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
    clinic = clinic or default_clinic()
    keys = list(dict.fromkeys(k for k in (_expected_key(c) for c in expected_codes) if k))
    named = _join([say(f"expected_{k}") for k in keys]) if keys else ""
    what = say("reassure_what", case="named" if keys else None, what=named)
    first = say("reassure_normal", day=day, what=what)
    if day is None:
        first += " " + say("date_hint")
    groups = list(dict.fromkeys(_EXPECTED[k] for k in keys))
    if "flake" in groups or "itch" in groups:
        first += " " + say("reassure_shedding")
    watch = "; ".join(say(f"watch_{g}") for g in groups) or say("watch_anything")
    second = say("reassure_watch", watch=watch, call=_call(clinic))
    return _with_follow_ups([Reply(first), Reply(second)], "symptom_report", channel)


# ---------------------------------------------------------------- fallback
def clarify(options: Sequence[str], channel: str) -> list[Reply]:
    """First unclear message: one clarifying question offering the likely topics."""
    options = [o for o in options if o in TOPIC_IDS][:3]
    if not options:
        return [Reply(say("clarify", case="no_options"))]
    if channel == "web":
        return [Reply(say("clarify", channel=channel), buttons_for(options, channel))]
    numbered = ", ".join(f"{i}) {topic_title(o)}" for i, o in enumerate(options, 1))
    return [Reply(say("clarify", channel=channel, options=numbered))]


def clarify_again(channel: str, clinic: ClinicInfo | None = None) -> list[Reply]:
    """Second unclear message in a row: offer a person."""
    clinic = clinic or default_clinic()
    if channel == "web":
        return [Reply(say("clarify_again", channel=channel), [_button("talk_to_staff", say("button_talk_to_staff"))])]
    return [Reply(say("clarify_again", channel=channel, call=_call(clinic)))]


def passed_to_team(clinic: ClinicInfo | None = None) -> list[Reply]:
    """A symptom that needs a staff review (the escalation is opened elsewhere)."""
    return [Reply(say("passed_to_team", call=_call(clinic or default_clinic())))]


def acknowledge(*, yes: bool) -> list[Reply]:
    """A "yes" or "no" when nothing was offered (or the offer was declined)."""
    return [Reply(say("acknowledge_yes" if yes else "acknowledge_no"))]


def could_not_pass_on(clinic: ClinicInfo | None = None) -> list[Reply]:
    """The hand-off could not be stored (database down, unknown conversation): say so, and how to reach a person."""
    return [Reply(say("could_not_pass_on", call=_call(clinic or default_clinic())))]
