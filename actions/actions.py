"""Rasa custom actions: adapt Rasa to core (answers, dates, recovery, escalations).

Every action reports the topic it answered in the ``topic`` slot (a
docs/spec/topics.yml id, or None for a clarifying question); bot/channel.py
returns it to the API. Nothing here runs at import time.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import (
    Turn,
    await_date,
    consecutive_intents,
    escalate,
    load_turn,
    previous_user_texts,
    remember_date,
)
from core import answers
from core.answers import DAY_AWARE_TOPICS, STAFF_TOPICS, Reply
from core.dates import asked_day_number, describe_target, extract_dates, parse_treatment_date
from core.topics import TOPIC_IDS

log = logging.getLogger("aftercare.actions")

TOPIC_SLOT = "topic"
DATE_SLOT = "treatment_date"
OPTIONS_SLOT = "clarify_options"
OFFER_SLOT = "pending_offer"
OFFER_STAFF = "talk_to_staff"

# Intents answered by action_answer_topic (everything in topics.yml but the staff hand-offs and symptoms).
ANSWERED_TOPICS = frozenset(TOPIC_IDS - set(STAFF_TOPICS) - {"symptom_report"})
# Intents that are not worth offering as a clarifying option.
_NOT_OPTIONS = frozenset({"greet", "goodbye", "thanks", "bot_challenge", "out_of_scope", "symptom_report"})


def _say(dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
    for r in replies:
        dispatcher.utter_message(text=r.text, buttons=list(r.buttons) or None)


def _done(topic: str | None, *extra: EventType, offer: str | None = None, options: list[str] | None = None) -> list[EventType]:
    return [SlotSet(TOPIC_SLOT, topic), SlotSet(OFFER_SLOT, offer), SlotSet(OPTIONS_SLOT, options), *extra]


def _concern(tracker: Tracker) -> str | None:
    values = list(tracker.get_latest_entity_values("concern"))
    return str(values[0]) if values else None


def answer_topic(topic: str, turn: Turn, tracker: Tracker, dispatcher: CollectingDispatcher) -> list[EventType]:
    """Answer one topic for this patient: their day of recovery, or the day they ask about."""
    events: list[EventType] = []
    day = turn.day
    ahead, when = 0, None
    text = "" if turn.is_trigger else turn.text
    if topic in DAY_AWARE_TOPICS and text:
        treated, target = extract_dates(text, turn.today)
        if treated is not None:  # "I had it monday, can I ...": the patient's own date wins for this answer
            turn.use_date(treated)
            remember_date(turn, treated)
            day = turn.day
            events.append(SlotSet(DATE_SLOT, treated.isoformat()))
        asked = asked_day_number(text)
        if asked is not None and (day is None or asked > day):
            # "can I wear makeup on day 5?": answer for that day, known treatment date or not
            ahead, when = (asked - day if day is not None else 0), "day"
            day = day if day is not None else asked
        elif target is not None and target > turn.today:
            # "can I work out on saturday?": answer for that day (or say what we'd need to)
            when = describe_target(target, turn.today)
            ahead = (target - turn.today).days if day is not None else 0
    if topic in DAY_AWARE_TOPICS and day is None:
        await_date(turn, topic)
    replies = answers.answer(
        topic,
        day,
        channel=turn.channel,
        clinic=turn.clinic,
        ahead=ahead,
        when=when,
        concern=_concern(tracker),
        first_name=turn.first_name,
    )
    _say(dispatcher, replies)
    offer = OFFER_STAFF if topic in ("out_of_scope", "bot_challenge") else None
    return _done(topic, *events, offer=offer)


def picked_option(turn: Turn, tracker: Tracker, dispatcher: CollectingDispatcher) -> list[EventType] | None:
    """An SMS reply "2" to "Is it about 1) ... 2) ...?": answer that option (None if it is not one)."""
    options = [o for o in (tracker.get_slot(OPTIONS_SLOT) or []) if o in TOPIC_IDS]
    choice = turn.text.strip().rstrip(".)")
    if not (options and choice.isdigit() and 1 <= int(choice) <= len(options)):
        return None
    topic = options[int(choice) - 1]
    turn.text = ""  # the digit is no date or day number
    if topic in STAFF_TOPICS:
        return staff_request(topic, turn, dispatcher)
    return answer_topic(topic, turn, tracker, dispatcher)


def staff_request(topic: str, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    """Pass the conversation to the team (routine escalation) and say so."""
    stored = escalate(turn, level="routine", reason=STAFF_TOPICS[topic])
    if stored:
        _say(dispatcher, answers.answer(topic, turn.day, channel=turn.channel, clinic=turn.clinic))
    else:
        _say(dispatcher, answers.could_not_pass_on(turn.clinic))
    return _done(topic)


class ActionAnswerTopic(Action):
    """Every informational topic: the intent name is the topic id."""

    def name(self) -> str:
        return "action_answer_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        picked = picked_option(turn, tracker, dispatcher)
        if picked is not None:
            return picked
        if turn.intent in ANSWERED_TOPICS:
            return answer_topic(turn.intent, turn, tracker, dispatcher)
        if turn.intent in STAFF_TOPICS:
            return staff_request(turn.intent, turn, dispatcher)
        return await ActionClarify().run(dispatcher, tracker, domain)


class ActionStaffRequest(Action):
    """talk_to_staff, book_appointment, pricing: a routine escalation and a hand-off line."""

    def name(self) -> str:
        return "action_staff_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        topic = turn.intent if turn.intent in STAFF_TOPICS else "talk_to_staff"
        return staff_request(topic, turn, dispatcher)


class ActionInformTreatmentDate(Action):
    """The patient says when the treatment was: remember it and describe their day."""

    def name(self) -> str:
        return "action_inform_treatment_date"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        picked = picked_option(turn, tracker, dispatcher)
        if picked is not None:
            return picked
        when = parse_treatment_date(turn.text, turn.today) if not turn.is_trigger else None
        if when is None:
            if turn.day is not None and turn.is_trigger:
                return answer_topic("my_recovery_day", turn, tracker, dispatcher)
            dispatcher.utter_message(text=answers.date_not_understood())
            await_date(turn, "my_recovery_day")
            return _done("my_recovery_day")
        turn.use_date(when)
        remember_date(turn, when)
        _say(
            dispatcher,
            answers.answer("my_recovery_day", turn.day, channel=turn.channel, clinic=turn.clinic, first_name=turn.first_name),
        )
        return _done("my_recovery_day", SlotSet(DATE_SLOT, when.isoformat()))


class ActionClarify(Action):
    """nlu_fallback: one clarifying question with the likely topics; the second time in a row, offer a person."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        picked = picked_option(turn, tracker, dispatcher)
        if picked is not None:
            return picked
        if consecutive_intents(tracker, "nlu_fallback") >= 2:
            _say(dispatcher, answers.clarify_again(turn.channel, turn.clinic))
            return _done(None, offer=OFFER_STAFF)
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        likely = [r.get("name") for r in ranking if r.get("name") in TOPIC_IDS and r.get("name") not in _NOT_OPTIONS][:3]
        _say(dispatcher, answers.clarify(likely, turn.channel))
        return _done(None, options=likely or None)


class ActionAffirmDeny(Action):
    """ "yes"/"no": accepts or declines what the assistant last offered (a person)."""

    def name(self) -> str:
        return "action_affirm_deny"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        picked = picked_option(turn, tracker, dispatcher)
        if picked is not None:
            return picked
        offer = tracker.get_slot(OFFER_SLOT)
        if turn.intent == "affirm" and offer == OFFER_STAFF:
            return staff_request("talk_to_staff", turn, dispatcher)
        _say(dispatcher, answers.acknowledge(yes=turn.intent == "affirm"))
        return _done(None)


class ActionSymptomReport(Action):
    """A message about how the skin is reacting.

    The API screens every message for red flags first (core.triage) and replies to
    escalations itself (metadata "escalated"): then this action stays silent. Otherwise
    it reassures for expected healing, asks for the treatment date when the answer
    depends on it, and escalates whatever its own screen finds (with the date the
    patient just stated, or without the API in front of it).
    """

    def name(self) -> str:
        return "action_symptom_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        if turn.escalated:
            return _done("symptom_report")  # the API has already answered with the escalation reply
        text = turn.text
        if turn.is_trigger:  # "/symptom_report" after the patient gave the date: use the symptom they described
            earlier = previous_user_texts(tracker, "symptom_report")
            text = earlier[0] if earlier else ""
        events: list[EventType] = []
        if turn.day is None and not turn.is_trigger:
            treated, _ = extract_dates(text, turn.today)  # "had it monday and it's still red"
            if treated is not None:
                turn.use_date(treated)
                remember_date(turn, treated)
                events.append(SlotSet(DATE_SLOT, treated.isoformat()))
        result = _screen(text, turn.day)
        if result is None:
            _say(dispatcher, answers.answer("symptom_report", turn.day, channel=turn.channel, clinic=turn.clinic))
            return _done("symptom_report", *events)
        level = _level(result)
        if level in ("routine", "urgent", "emergency"):
            # the API did not escalate this message (or did not screen it): never say "passed on" without doing it
            if escalate(turn, level=level, reason=_reason(result, turn.day), findings=_findings(result)):
                _say(dispatcher, _escalation_reply(result, level, turn))
            else:
                _say(dispatcher, answers.could_not_pass_on(turn.clinic))
            return _done("symptom_report", *events)
        if getattr(result, "needs_day", False) and turn.day is None:
            dispatcher.utter_message(
                text="To tell whether that's expected, I need to know when your treatment was. "
                "When was it? (For example: 'Monday', '3 days ago' or 'Nov 20'.)"
            )
            await_date(turn, "symptom_report")
            return _done("symptom_report", *events)
        day = turn.day if turn.day is not None else getattr(result, "day_used", None)  # "day 3 and still red"
        expected = list(getattr(result, "expected", None) or [])
        if expected:
            _say(dispatcher, answers.reassure(expected, day, channel=turn.channel, clinic=turn.clinic))
            return _done("symptom_report", *events)
        # Nothing recognised as expected healing: never reassure what we did not recognise (policy:
        # "any symptom the assistant cannot place with confidence" is routine). Staff review it.
        from core.triage import UNPLACED_REASON, reply_language, unplaced_reply

        reason = f"{UNPLACED_REASON}, day {day if day is not None else 'unknown'}"
        if escalate(turn, level="routine", reason=reason, findings=[]):
            language = reply_language(result, text)
            _say(
                dispatcher,
                [Reply(unplaced_reply(clinic_name=turn.clinic.name, clinic_phone=turn.clinic.phone, language=language))],
            )
        else:
            _say(dispatcher, answers.could_not_pass_on(turn.clinic))
        return _done("symptom_report", *events)


# --------------------------------------------------------------- triage glue
def _screen(text: str, day: int | None) -> Any | None:
    if not text:
        return None
    try:
        from core.triage import screen
    except ImportError:
        log.warning("core.triage is not available; giving the general symptom answer")
        return None
    try:
        return screen(text, day)
    except Exception:
        log.exception("triage screen failed")
        return None


def _level(result: Any) -> str:
    level = getattr(result, "level", "none")
    return str(getattr(level, "value", level) or "none").lower()


def _findings(result: Any) -> list[dict]:
    out = []
    for f in getattr(result, "findings", None) or []:
        level = getattr(f, "level", "")
        out.append(
            {
                "code": getattr(f, "code", ""),
                "level": str(getattr(level, "value", level)),
                "matched": getattr(f, "matched", ""),
                "rule": getattr(f, "rule", ""),
            }
        )
    return out


def _reason(result: Any, day: int | None) -> str:
    try:
        from core.triage import reason_text

        return str(reason_text(result, day))
    except Exception:
        codes = ", ".join(f["code"] for f in _findings(result)) or "symptom"
        return f"symptom reported in chat ({codes}), recovery day {day if day is not None else 'unknown'}"


def _escalation_reply(result: Any, level: str, turn: Turn) -> list[Reply]:
    if level in ("urgent", "emergency"):
        try:
            from core.triage import patient_reply

            return [Reply(str(patient_reply(result, clinic_name=turn.clinic.name, clinic_phone=turn.clinic.phone)))]
        except Exception:
            log.exception("triage patient_reply unavailable")
            phone = f" at {turn.clinic.phone}" if turn.clinic.phone else ""
            return [
                Reply(
                    f"This needs a clinician's attention today. Please call the clinic{phone} now; if it gets much worse "
                    "or you have trouble breathing, call 911."
                )
            ]
    return answers.passed_to_team(turn.clinic)
