"""Rasa custom actions: they only answer.

The conversation service (core.conversations) owns the turn: it screens every message
for red flags, knows the recovery day, the patient and the clinic, and sends them as
metadata (core.turn.TurnContext; read in actions/context.py). An action writes the reply
(core.answers) and returns what it wants done as requests (core.turn.Request: remember a
date the patient stated, wait for the treatment date, hand the conversation to staff),
which the service applies with the replies. Actions never open the database and never
screen a message. Every action reports the topic it answered in the ``topic`` slot (a
docs/spec/topics.yml id, or None for a clarifying question); bot/channel.py returns it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn, consecutive_intents, load_turn, send_requests
from core import answers, content
from core.answers import DAY_AWARE_TOPICS, STAFF_TOPICS, Reply
from core.dates import asked_day_number, describe_target, extract_dates, parse_treatment_date
from core.topics import TOPIC_IDS
from core.triage.replies import UNPLACED_REASON, unplaced_reply
from core.turn import await_date, handoff, remember_date

log = logging.getLogger("aftercare.actions")

TOPIC_SLOT = "topic"
OPTIONS_SLOT = "clarify_options"
OFFER_SLOT = "pending_offer"
OFFER_STAFF = "talk_to_staff"
# the reasons staff read in the inbox for the assistant's own hand-offs (no health detail)
NO_GUIDANCE_REASON = "question the clinic's guide does not answer"
CLINIC_INFO_MISSING_REASON = "asked for opening hours or address (not set in the clinic settings)"

# Intents answered by action_answer_topic (everything in topics.yml but the staff hand-offs and symptoms).
ANSWERED_TOPICS = frozenset(TOPIC_IDS - set(STAFF_TOPICS) - {"symptom_report"})
# Intents that are not worth offering as a clarifying option.
_NOT_OPTIONS = frozenset({"greet", "goodbye", "thanks", "bot_challenge", "out_of_scope", "symptom_report"})


Run = Callable[[Any, CollectingDispatcher, Tracker, dict[str, Any]], Awaitable[list[EventType]]]


def in_the_turns_language(run: Run) -> Run:
    """Every text the action renders is in the conversation's language (core/language.py decides it
    and sends it in the turn's metadata); English where a text has no translation yet."""

    @functools.wraps(run)
    async def wrapper(self: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        with content.speaking(load_turn(tracker).language):
            return await run(self, dispatcher, tracker, domain)

    return wrapper


def _say(dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
    for r in replies:
        dispatcher.utter_message(text=r.text, buttons=list(r.buttons) or None)


def _done(
    dispatcher: CollectingDispatcher,
    turn: Turn,
    topic: str | None,
    *,
    offer: str | None = None,
    options: list[str] | None = None,
) -> list[EventType]:
    """End the action: hand its requests to the API and report the topic."""
    send_requests(dispatcher, turn)
    return [SlotSet(TOPIC_SLOT, topic), SlotSet(OFFER_SLOT, offer), SlotSet(OPTIONS_SLOT, options)]


def _concern(tracker: Tracker) -> str | None:
    values = list(tracker.get_latest_entity_values("concern"))
    return str(values[0]) if values else None


def answer_topic(topic: str, turn: Turn, tracker: Tracker, dispatcher: CollectingDispatcher) -> list[EventType]:
    """Answer one topic for this patient: their day of recovery, or the day they ask about."""
    day = turn.day
    ahead, when = 0, None
    text = "" if turn.is_trigger else turn.text
    if topic in DAY_AWARE_TOPICS and text:
        treated, target = extract_dates(text, turn.today)
        if treated is not None:  # "I had it monday, can I ...": the patient's own date wins for this answer
            turn.use_date(treated)
            turn.ask(remember_date(treated))
            day = turn.day
        asked = asked_day_number(text)
        if asked is not None and (day is None or asked > day):
            # "can I wear makeup on day 5?": answer for that day, known treatment date or not
            ahead, when = (asked - day if day is not None else 0), "day"
            day = day if day is not None else asked
        elif target is not None and target > turn.today:
            # "can I work out on saturday?": answer for that day (or say what we'd need to)
            when = describe_target(target, turn.today, turn.language)
            ahead = (target - turn.today).days if day is not None else 0
    if topic in DAY_AWARE_TOPICS and day is None:
        turn.ask(await_date(topic))
    if topic == "clinic_info" and not answers.has_clinic_details(turn.clinic):
        turn.ask(handoff(CLINIC_INFO_MISSING_REASON))  # nothing to say but "someone will tell you"
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
    return _done(dispatcher, turn, topic, offer=offer)


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
    """Ask the API to pass the conversation to the team (a routine escalation) and say so."""
    turn.ask(handoff(STAFF_TOPICS[topic]))
    _say(dispatcher, answers.answer(topic, turn.day, channel=turn.channel, clinic=turn.clinic))
    return _done(dispatcher, turn, topic)


class ActionAnswerTopic(Action):
    """Every informational topic: the intent name is the topic id."""

    def name(self) -> str:
        return "action_answer_topic"

    @in_the_turns_language
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


class ActionNoGuidance(Action):
    """out_of_guide: a question the clinic's guide does not answer. No guess: a routine hand-off."""

    def name(self) -> str:
        return "action_no_guidance"

    @in_the_turns_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        picked = picked_option(turn, tracker, dispatcher)
        if picked is not None:
            return picked
        return no_guidance(turn, dispatcher)


def no_guidance(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    turn.ask(handoff(NO_GUIDANCE_REASON))
    _say(dispatcher, answers.no_guidance(turn.clinic))
    return _done(dispatcher, turn, None)


class ActionStaffRequest(Action):
    """talk_to_staff, book_appointment, pricing: a routine escalation and a hand-off line."""

    def name(self) -> str:
        return "action_staff_request"

    @in_the_turns_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        topic = turn.intent if turn.intent in STAFF_TOPICS else "talk_to_staff"
        return staff_request(topic, turn, dispatcher)


class ActionInformTreatmentDate(Action):
    """The patient says when the treatment was: remember it and describe their day."""

    def name(self) -> str:
        return "action_inform_treatment_date"

    @in_the_turns_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        picked = picked_option(turn, tracker, dispatcher)
        if picked is not None:
            return picked
        when = parse_treatment_date(turn.text, turn.today) if not turn.is_trigger else None
        if when is None:
            if turn.day is not None and turn.is_trigger:
                return answer_topic("my_recovery_day", turn, tracker, dispatcher)
            if turn.day is not None:
                # the date is on file, so "1" or "temp is 100.4" was no date: never ask for one again
                return await ActionClarify().run(dispatcher, tracker, domain)
            dispatcher.utter_message(text=answers.date_not_understood())
            turn.ask(await_date("my_recovery_day"))
            return _done(dispatcher, turn, "my_recovery_day")
        turn.use_date(when)
        turn.ask(remember_date(when))
        _say(
            dispatcher,
            answers.answer("my_recovery_day", turn.day, channel=turn.channel, clinic=turn.clinic, first_name=turn.first_name),
        )
        return _done(dispatcher, turn, "my_recovery_day")


class ActionClarify(Action):
    """nlu_fallback: one clarifying question with the likely topics; the second time in a row, offer a person."""

    def name(self) -> str:
        return "action_clarify"

    @in_the_turns_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        picked = picked_option(turn, tracker, dispatcher)
        if picked is not None:
            return picked
        if consecutive_intents(tracker, "nlu_fallback") >= 2:
            _say(dispatcher, answers.clarify_again(turn.channel, turn.clinic))
            return _done(dispatcher, turn, None, offer=OFFER_STAFF)
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        likely = [r.get("name") for r in ranking if r.get("name") in TOPIC_IDS and r.get("name") not in _NOT_OPTIONS][:3]
        _say(dispatcher, answers.clarify(likely, turn.channel))
        return _done(dispatcher, turn, None, options=likely or None)


class ActionAffirmDeny(Action):
    """ "yes"/"no": accepts or declines what the assistant last offered (a person)."""

    def name(self) -> str:
        return "action_affirm_deny"

    @in_the_turns_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        picked = picked_option(turn, tracker, dispatcher)
        if picked is not None:
            return picked
        offer = tracker.get_slot(OFFER_SLOT)
        if turn.intent == "affirm" and offer == OFFER_STAFF:
            return staff_request("talk_to_staff", turn, dispatcher)
        _say(dispatcher, answers.acknowledge(yes=turn.intent == "affirm"))
        return _done(dispatcher, turn, None)


class ActionSymptomReport(Action):
    """A message about how the skin is reacting.

    The service has screened it (metadata ``screen``) before Rasa saw it. When the screen
    escalated it, the service has answered already and this action stays silent. When
    the screen recognised expected healing, reassure for the day. Anything else is a
    symptom nobody placed: never reassure it; ask for a hand-off to staff and say so
    honestly (policy: "any symptom the assistant cannot place with confidence" is routine).
    """

    def name(self) -> str:
        return "action_symptom_report"

    @in_the_turns_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        turn = load_turn(tracker)
        if turn.escalated:
            return _done(dispatcher, turn, "symptom_report")  # the service has answered with the escalation reply
        screen = turn.screen
        day = turn.day if turn.day is not None else (screen.day_used if screen else None)  # "day 3 and still red"
        if screen is not None and screen.expected:
            _say(dispatcher, answers.reassure(list(screen.expected), day, channel=turn.channel, clinic=turn.clinic))
            return _done(dispatcher, turn, "symptom_report")
        turn.ask(handoff(f"{UNPLACED_REASON}, day {day if day is not None else 'unknown'}"))
        reply = unplaced_reply(clinic_name=turn.clinic.name, clinic_phone=turn.clinic.phone, language=turn.language)
        _say(dispatcher, [Reply(reply)])
        return _done(dispatcher, turn, "symptom_report")
