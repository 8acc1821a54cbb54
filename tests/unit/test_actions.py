"""Rasa custom actions (rasa-sdk Tracker + CollectingDispatcher), set up as the conversation service runs them.

The actions never open the database: each test builds the metadata the service would send
(core.conversations.turn_context, from a temporary SQLite database) and applies the requests
the action returns the way the service does (core.conversations.apply_requests), then checks
the database.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from core.conversations import apply_requests, turn_context
from core.db import Base, make_engine, make_session_factory, session_scope
from core.models import Clinic, Conversation, Escalation, Patient, Treatment
from core.recovery import recovery_for_conversation
from core.triage import screen
from core.turn import REQUEST_KEY, Request, ScreenFacts, TurnContext
from tests.fakes import test_clock

TODAY = date(2026, 11, 25)  # a Wednesday
MISSING = object()
_DB: dict[str, Any] = {}  # the test's session factory: where the service would read the context from


@pytest.fixture
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'actions.db'}")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine, test_clock())
    with session_scope(factory) as s:
        s.add(Clinic(id=1, name="Glow Skin Studio", phone="(201) 555-0100", booking_url="https://glow.example/book"))
    _DB["factory"] = factory
    yield factory
    _DB.clear()
    engine.dispose()


def patient_conversation(factory, performed_on: date | None, *, first_name: str = "Ana", channel: str = "sms") -> str:
    with session_scope(factory) as s:
        p = Patient(first_name=first_name, phone=None, chat_token=f"tok-{first_name}-{performed_on}")
        s.add(p)
        s.flush()
        if performed_on is not None:
            s.add(Treatment(patient_id=p.id, performed_on=performed_on))
        c = Conversation(channel=channel, patient_id=p.id)
        s.add(c)
        s.flush()
        return c.id


def anonymous_conversation(factory, channel: str = "web") -> str:
    with session_scope(factory) as s:
        c = Conversation(channel=channel)
        s.add(c)
        s.flush()
        return c.id


def conversation(factory, conv_id: str) -> Conversation:
    with session_scope(factory) as s:
        return s.get(Conversation, conv_id)


def escalations(factory) -> list[Escalation]:
    with session_scope(factory) as s:
        return list(s.execute(select(Escalation)).scalars())


def make_tracker(
    text: str,
    intent: str,
    conv_id: str,
    *,
    today: date = TODAY,
    channel: str = "sms",
    slots: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    ranking: list[tuple[str, float]] | None = None,
    entities: list[dict[str, Any]] | None = None,
    escalated: Any = MISSING,
    metadata_in_latest: bool = True,
    screened: ScreenFacts | bool | None = None,
) -> Tracker:
    """A tracker carrying the metadata the conversation service sends (``screened=True``: the real screen's
    verdict on ``text``, as the service computes it; a ScreenFacts: that verdict)."""
    meta = service_metadata(conv_id, text, today=today, channel=channel, screened=screened)
    if escalated is not MISSING:
        meta["escalated"] = escalated
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in (ranking or [(intent, 0.9)])],
        "entities": entities or [],
    }
    latest = dict(parse, metadata=meta) if metadata_in_latest else dict(parse)
    events = list(history or []) + [{"event": "user", "text": text, "parse_data": parse, "metadata": meta}]
    return Tracker.from_dict(
        {"sender_id": conv_id, "slots": slots or {}, "latest_message": latest, "events": events, "active_loop": {}}
    )


def user_event(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.3}}}


def service_metadata(
    conv_id: str, text: str, *, today: date, channel: str, screened: ScreenFacts | bool | None
) -> dict[str, Any]:
    factory = _DB.get("factory")
    conv = None
    if factory is not None:
        with session_scope(factory) as s:
            conv = s.get(Conversation, conv_id)
            if conv is not None:
                day = recovery_for_conversation(s, conv_id, today).day
                triage = screen(text, day) if screened is True else None
                context = turn_context(s, conv, today=today, day=day, message_id="m-1", triage=triage, text=text)
    if conv is None:  # a conversation the database does not know: only what the message says
        context = TurnContext(conversation_id=conv_id, channel=channel, today=today, message_id="m-1")
        if screened is True:
            triage = screen(text, None)
            context = TurnContext(
                conversation_id=conv_id,
                channel=channel,
                today=today,
                message_id="m-1",
                screen=ScreenFacts(triage.level.value, tuple(triage.expected), triage.needs_day, triage.day_used),
            )
    meta = context.to_metadata()
    meta["channel"] = channel
    if isinstance(screened, ScreenFacts):
        meta["screen"] = TurnContext(conv_id, channel, today, screen=screened).to_metadata()["screen"]
    if screened is None:
        meta["escalated"] = None
    return meta


def requests_in(messages: list[dict[str, Any]]) -> list[Request]:
    return [Request.from_json(m["custom"]) for m in messages if REQUEST_KEY in (m.get("custom") or {})]


def run(action, tracker: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the action; apply its requests as the service does; return its text messages and slots."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    requests = requests_in(dispatcher.messages)
    factory = _DB.get("factory")
    meta = tracker.latest_message.get("metadata") or tracker.events[-1].get("metadata") or {}
    if factory is not None and requests:
        with session_scope(factory) as s:
            conv = s.get(Conversation, meta.get("conversation_id") or tracker.sender_id)
            if conv is not None:
                today = date.fromisoformat(meta["today"])
                day = recovery_for_conversation(s, conv.id, today).day
                apply_requests(s, conv, requests, today=today, day=day, message_id=None)
    slots["requests"] = requests
    return [m for m in dispatcher.messages if not m.get("custom")], slots


def texts(messages: list[dict[str, Any]]) -> str:
    return " ".join(m.get("text") or "" for m in messages)


def actions():
    from actions import actions as module

    return module


# ------------------------------------------------------------------ import hygiene
# ------------------------------------------------------------------ day-aware answers
def test_makeup_on_day_3_from_the_records(db) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=3))
    messages, slots = run(actions().ActionAnswerTopic(), make_tracker("can I wear makeup", "makeup", conv))
    assert texts(messages) == "You're on day 3: mineral makeup is fine now; your usual makeup from about day 5."
    assert slots["topic"] == "makeup"
    assert messages[0].get("buttons") in (None, [])  # SMS: no buttons


def test_web_channel_adds_follow_up_buttons(db) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=3), channel="web")
    messages, _ = run(actions().ActionAnswerTopic(), make_tracker("can I wear makeup", "makeup", conv, channel="web"))
    assert {"title": "Exercise and sweat", "payload": "/exercise_sweat"} in messages[-1]["buttons"]


@pytest.mark.parametrize(
    "day, expected",
    [
        (0, "treatment day"),
        (1, "day 1"),
        (2, "day 2"),
        (4, "day 4"),
        (6, "day 6"),
        (14, "2 weeks after treatment"),
        (30, "time for your next session"),
        (60, "maintenance"),
    ],
)
def test_my_recovery_day_bands(db, day: int, expected: str) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=day))
    messages, slots = run(actions().ActionAnswerTopic(), make_tracker("what day am I on", "my_recovery_day", conv))
    assert expected in texts(messages)
    assert texts(messages).startswith("Hi Ana!")
    assert slots["topic"] == "my_recovery_day"


def test_unknown_date_gives_the_general_answer_and_waits_for_the_date(db) -> None:
    conv = anonymous_conversation(db)
    messages, slots = run(actions().ActionAnswerTopic(), make_tracker("can I wear makeup", "makeup", conv))
    text = texts(messages)
    assert "24 hours" in text and "mineral" in text and "when your treatment was" in text
    assert slots["topic"] == "makeup"
    assert conversation(db, conv).awaiting == "treatment_date:makeup"


def test_my_recovery_day_unknown_asks_for_the_date(db) -> None:
    conv = anonymous_conversation(db)
    messages, _ = run(actions().ActionAnswerTopic(), make_tracker("what day am I on", "my_recovery_day", conv))
    assert "When was your treatment?" in texts(messages)
    assert conversation(db, conv).awaiting == "treatment_date:my_recovery_day"


def test_relative_date_in_the_question_is_used_and_remembered(db) -> None:
    conv = anonymous_conversation(db)
    tracker = make_tracker("I had it done 3 days ago, can I wear makeup?", "makeup", conv)
    messages, slots = run(actions().ActionAnswerTopic(), tracker)
    assert texts(messages).startswith("You're on day 3: mineral makeup")
    assert slots["requests"] == [Request("remember_date", date=TODAY - timedelta(days=3))]
    assert conversation(db, conv).stated_treatment_on == TODAY - timedelta(days=3)


def test_future_target_date(db) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=3))
    tracker = make_tracker("can I work out on saturday?", "exercise_sweat", conv)
    messages, _ = run(actions().ActionAnswerTopic(), tracker)
    assert texts(messages).startswith("On Saturday you'll be on day 6:")


def test_tomorrow_target_date(db) -> None:
    conv = patient_conversation(db, TODAY)
    messages, _ = run(actions().ActionAnswerTopic(), make_tracker("can i put foundation on tmrw", "makeup", conv))
    assert texts(messages).startswith("Tomorrow you'll be on day 1: mineral makeup is fine by then")


def test_asked_day_of_recovery_without_a_date(db) -> None:
    conv = anonymous_conversation(db)
    messages, _ = run(actions().ActionAnswerTopic(), make_tracker("can I wear makeup on day 5?", "makeup", conv))
    assert texts(messages).startswith("On day 5: your usual makeup")


def test_intent_trigger_from_the_api_uses_the_remembered_date(db) -> None:
    conv = anonymous_conversation(db)
    with session_scope(db) as s:
        s.get(Conversation, conv).stated_treatment_on = TODAY - timedelta(days=1)
    messages, slots = run(actions().ActionAnswerTopic(), make_tracker("/sun_protection", "sun_protection", conv))
    assert texts(messages).startswith("You're on day 1: stay out of direct sun until day 3")
    assert slots["topic"] == "sun_protection"


def test_metadata_found_in_events_when_latest_message_lacks_it(db) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=2))
    tracker = make_tracker("makeup?", "makeup", conv, metadata_in_latest=False)
    tracker.sender_id = "some-other-sender"
    messages, _ = run(actions().ActionAnswerTopic(), tracker)
    assert texts(messages).startswith("You're on day 2")


def test_today_comes_from_metadata(db) -> None:
    conv = patient_conversation(db, date(2026, 11, 1))
    tracker = make_tracker("what day am I on", "my_recovery_day", conv, today=date(2026, 11, 3))
    messages, _ = run(actions().ActionAnswerTopic(), tracker)
    assert "day 2" in texts(messages)


def test_results_for_concern_uses_the_entity(db) -> None:
    conv = anonymous_conversation(db)
    tracker = make_tracker(
        "will it help my acne scars", "results_for_concern", conv, entities=[{"entity": "concern", "value": "acne_scars"}]
    )
    messages, slots = run(actions().ActionAnswerTopic(), tracker)
    assert "shallower" in texts(messages) and "stretch" not in texts(messages)
    assert slots["topic"] == "results_for_concern"


def test_greet_uses_clinic_and_first_name(db) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=1), first_name="Maya")
    messages, slots = run(actions().ActionAnswerTopic(), make_tracker("hi", "greet", conv))
    assert texts(messages).startswith("Hi Maya! I'm the aftercare assistant for Glow Skin Studio.")
    assert slots["topic"] == "greet"


# ------------------------------------------------------------------ the treatment date
def test_inform_treatment_date_remembers_and_describes_the_day(db) -> None:
    conv = anonymous_conversation(db)
    messages, slots = run(
        actions().ActionInformTreatmentDate(), make_tracker("I had it done on monday", "inform_treatment_date", conv)
    )
    assert "You're on day 2" in texts(messages)
    assert slots["topic"] == "my_recovery_day"
    assert slots["requests"] == [Request("remember_date", date=date(2026, 11, 23))]
    assert conversation(db, conv).stated_treatment_on == date(2026, 11, 23)


def test_inform_treatment_date_not_understood(db) -> None:
    conv = anonymous_conversation(db)
    messages, slots = run(actions().ActionInformTreatmentDate(), make_tracker("a while back", "inform_treatment_date", conv))
    assert "couldn't work out that date" in texts(messages)
    assert conversation(db, conv).awaiting == "treatment_date:my_recovery_day"
    assert slots["topic"] == "my_recovery_day"


# ------------------------------------------------------------------ staff hand-offs
@pytest.mark.parametrize(
    "intent, reason",
    [
        ("talk_to_staff", "patient asked to talk to staff"),
        ("book_appointment", "booking request"),
        ("pricing", "pricing question"),
    ],
)
def test_staff_requests_open_a_routine_escalation(db, intent: str, reason: str) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=3))
    messages, slots = run(actions().ActionStaffRequest(), make_tracker("text", intent, conv))
    [esc] = escalations(db)
    assert (esc.level, esc.reason, esc.status, esc.conversation_id) == ("routine", reason, "open", conv)
    assert esc.recovery_day == 3
    assert "(201) 555-0100" in texts(messages)
    assert slots["topic"] == intent


def test_repeated_staff_request_joins_the_open_escalation(db) -> None:
    conv = anonymous_conversation(db)
    run(actions().ActionStaffRequest(), make_tracker("talk to a person", "talk_to_staff", conv))
    run(actions().ActionStaffRequest(), make_tracker("I need to reschedule", "book_appointment", conv))
    assert len(escalations(db)) == 1


# ------------------------------------------------------------------ fallback and offers
def test_first_fallback_asks_with_likely_topics(db) -> None:
    conv = anonymous_conversation(db)
    ranking = [
        ("nlu_fallback", 0.4),
        ("makeup", 0.3),
        ("greet", 0.1),
        ("sun_protection", 0.1),
        ("downtime", 0.05),
        ("exercise_sweat", 0.05),
    ]
    messages, slots = run(
        actions().ActionClarify(), make_tracker("blah foundation", "nlu_fallback", conv, channel="web", ranking=ranking)
    )
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/makeup", "/sun_protection", "/downtime"]
    assert [b["title"] for b in messages[0]["buttons"]] == ["Makeup", "Sun protection", "Downtime"]
    assert slots["topic"] is None
    assert slots["clarify_options"] == ["makeup", "sun_protection", "downtime"]


def test_second_fallback_in_a_row_offers_a_person(db) -> None:
    conv = anonymous_conversation(db)
    history = [user_event("blah", "nlu_fallback"), {"event": "action", "name": "action_clarify"}]
    messages, slots = run(
        actions().ActionClarify(), make_tracker("blah again", "nlu_fallback", conv, channel="web", history=history)
    )
    assert messages[0]["buttons"] == [{"title": "Talk to a person", "payload": "/talk_to_staff"}]
    assert slots["pending_offer"] == "talk_to_staff" and slots["topic"] is None


def test_fallback_after_a_normal_turn_is_a_first_fallback(db) -> None:
    conv = anonymous_conversation(db)
    history = [user_event("blah", "nlu_fallback"), user_event("makeup?", "makeup")]
    messages, _ = run(actions().ActionClarify(), make_tracker("hmm", "nlu_fallback", conv, history=history))
    assert "talk to a person" not in texts(messages)


def test_sms_number_reply_picks_a_clarify_option(db) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=1))
    tracker = make_tracker("2", "nlu_fallback", conv, slots={"clarify_options": ["makeup", "exercise_sweat"]})
    messages, slots = run(actions().ActionClarify(), tracker)
    assert texts(messages).startswith("You're on day 1: the first 24 hours are behind you")
    assert slots["topic"] == "exercise_sweat"


def test_out_of_scope_then_yes_hands_over(db) -> None:
    conv = anonymous_conversation(db)
    messages, slots = run(actions().ActionAnswerTopic(), make_tracker("order me a pizza", "out_of_scope", conv))
    assert "microneedling" in texts(messages) and slots["pending_offer"] == "talk_to_staff"
    assert slots["topic"] == "out_of_scope"
    messages, slots = run(
        actions().ActionAffirmDeny(), make_tracker("yes please", "affirm", conv, slots={"pending_offer": "talk_to_staff"})
    )
    assert slots["topic"] == "talk_to_staff"
    assert [e.reason for e in escalations(db)] == ["patient asked to talk to staff"]


def test_no_after_an_offer_hands_nothing_over(db) -> None:
    conv = anonymous_conversation(db)
    messages, slots = run(
        actions().ActionAffirmDeny(), make_tracker("no thanks", "deny", conv, slots={"pending_offer": "talk_to_staff"})
    )
    assert "No problem" in texts(messages) and slots["topic"] is None and slots["pending_offer"] is None
    assert escalations(db) == []


def test_yes_without_an_offer(db) -> None:
    conv = anonymous_conversation(db)
    messages, slots = run(actions().ActionAffirmDeny(), make_tracker("ok", "affirm", conv))
    assert "Anything else" in texts(messages) and escalations(db) == []


# ------------------------------------------------------------------ symptoms
def test_expected_symptom_is_reassured(db) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=1))
    facts = ScreenFacts(expected=("redness",))
    messages, slots = run(
        actions().ActionSymptomReport(), make_tracker("my face is red", "symptom_report", conv, escalated=None, screened=facts)
    )
    assert "normal healing" in texts(messages) and "day 1" in texts(messages)
    assert slots["topic"] == "symptom_report"
    assert escalations(db) == []


def test_symptom_already_escalated_by_the_api_stays_silent(db) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=2))
    messages, slots = run(actions().ActionSymptomReport(), make_tracker("pus", "symptom_report", conv, escalated="urgent"))
    assert messages == [] and slots["topic"] == "symptom_report"
    assert slots["requests"] == [] and escalations(db) == []


def test_real_triage_reassures_expected_redness(db) -> None:
    triage = pytest.importorskip("core.triage")
    if not hasattr(triage, "screen"):
        pytest.skip("core.triage.screen not written yet")
    conv = patient_conversation(db, TODAY - timedelta(days=1))
    messages, _ = run(
        actions().ActionSymptomReport(),
        make_tracker("my face is still really red", "symptom_report", conv, escalated=None, screened=True),
    )
    assert "normal healing" in texts(messages)


# ------------------------------------------------------------------ database down
def test_actions_answer_without_any_database() -> None:
    """The action server has no database: everything it needs comes with the message."""
    messages, slots = run(actions().ActionAnswerTopic(), make_tracker("can I wear makeup", "makeup", "c-1"))
    assert "24 hours" in texts(messages) and "when your treatment was" in texts(messages)
    assert slots["topic"] == "makeup"
    assert slots["requests"] == [Request("await_date", topic="makeup")]
    messages, slots = run(actions().ActionStaffRequest(), make_tracker("talk to a person", "talk_to_staff", "c-1"))
    assert "(201)" not in texts(messages) and slots["requests"] == [Request("handoff", reason="patient asked to talk to staff")]


# ------------------------------------------------------------------ the channel's turn summary
def test_channel_summarises_intent_and_topic() -> None:
    pytest.importorskip("rasa")
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

    from bot.channel import clean_messages, summarise_turn

    old = [UserUttered("hi", {"name": "greet", "confidence": 0.99}), SlotSet("topic", "greet")]
    turn = [
        UserUttered("blah", {"name": "nlu_fallback", "confidence": 0.3}),
        ActionExecuted("action_clarify"),
        SlotSet("topic", None),
    ]
    assert summarise_turn(old + turn) == ({"name": "nlu_fallback", "confidence": 0.3}, None, True)
    # no action reported a topic: the intent, if it is a topic id
    assert summarise_turn([UserUttered("bye", {"name": "goodbye", "confidence": 0.8})]) == (
        {"name": "goodbye", "confidence": 0.8},
        "goodbye",
        False,
    )
    assert summarise_turn([UserUttered("yes", {"name": "affirm", "confidence": 0.8})])[1] is None
    assert summarise_turn([]) == (None, None, False)
    assert clean_messages(
        [{"recipient_id": "x", "text": "hi", "buttons": [{"title": "A", "payload": "/a"}]}, {"image": "u"}]
    ) == [{"text": "hi", "buttons": [{"title": "A", "payload": "/a"}]}]


@pytest.mark.parametrize(
    "action_name, intent", [("ActionInformTreatmentDate", "inform_treatment_date"), ("ActionAffirmDeny", "affirm")]
)
def test_number_reply_is_honoured_whatever_the_intent(db, action_name: str, intent: str) -> None:
    conv = anonymous_conversation(db)
    tracker = make_tracker("1", intent, conv, slots={"clarify_options": ["sun_protection", "makeup"]})
    messages, slots = run(getattr(actions(), action_name)(), tracker)
    assert "72 hours" in texts(messages) and slots["topic"] == "sun_protection"
    assert conversation(db, conv).stated_treatment_on is None


def test_real_triage_uses_a_day_stated_in_the_message(db) -> None:
    triage = pytest.importorskip("core.triage")
    if not hasattr(triage, "screen"):
        pytest.skip("core.triage.screen not written yet")
    conv = anonymous_conversation(db)
    tracker = make_tracker("im on day 2 and my face is still red", "symptom_report", conv, escalated=None, screened=True)
    messages, _ = run(actions().ActionSymptomReport(), tracker)
    assert "normal healing on day 2" in texts(messages)


def test_a_symptom_the_screen_cannot_place_is_not_reassured_but_passed_to_staff(db) -> None:
    """Policy: 'any symptom the assistant cannot place with confidence' is routine, never reassured."""
    from core.triage import UNPLACED_REASON, unplaced_reply

    conv = patient_conversation(db, TODAY - timedelta(days=3))
    messages, slots = run(
        actions().ActionSymptomReport(),
        make_tracker("my face feels odd", "symptom_report", conv, escalated=None, screened=ScreenFacts(expected=())),
    )
    assert texts(messages) == unplaced_reply(clinic_name="Glow Skin Studio", clinic_phone="(201) 555-0100", language="en")
    assert "normal" not in texts(messages).lower()
    [esc] = escalations(db)
    assert esc.level == "routine" and esc.reason.startswith(UNPLACED_REASON) and esc.recovery_day == 3


def test_a_symptom_with_no_screen_verdict_is_never_reassured(db) -> None:
    """Metadata without the screen's verdict (never sent by the service): treated as unplaced, not reassured."""
    conv = patient_conversation(db, TODAY - timedelta(days=1))
    messages, _ = run(actions().ActionSymptomReport(), make_tracker("my face is red", "symptom_report", conv, escalated=None))
    assert "normal" not in texts(messages).lower()
    assert [e.level for e in escalations(db)] == ["routine"]


def test_the_unplaced_reply_is_honest_in_both_languages() -> None:
    from core.triage import unplaced_reply

    en = unplaced_reply(clinic_name="Glow", clinic_phone="(201) 555-0100", language="en")
    es = unplaced_reply(clinic_name="Glow", clinic_phone="(201) 555-0100", language="es")
    assert "not sure" in en and "passed it to the Glow team" in en and "normal" not in en and "911" in en
    assert "No estoy seguro" in es and "Glow" in es and "911" in es and "(201) 555-0100" in es


# ------------------------------------------------------------------ what the guide does not answer
def test_a_question_the_guide_does_not_answer_is_passed_on_not_guessed(db) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=2))
    messages, slots = run(actions().ActionNoGuidance(), make_tracker("can i take tylenol tonight", "out_of_guide", conv))
    [esc] = escalations(db)
    assert (esc.level, esc.reason, esc.status) == ("routine", "question the clinic's guide does not answer", "open")
    assert "won't guess" in texts(messages)
    assert slots["topic"] is None  # no topic was answered


def test_clinic_hours_not_set_are_not_guessed_a_person_follows_up(db) -> None:
    conv = anonymous_conversation(db)
    messages, slots = run(actions().ActionAnswerTopic(), make_tracker("what are your hours", "clinic_info", conv))
    [esc] = escalations(db)
    assert esc.level == "routine" and "opening hours" in esc.reason
    assert "passed your question" in texts(messages)
    assert slots["topic"] == "clinic_info"


@pytest.mark.parametrize("text", ["1", "temp is 100.4", "a while back"])
def test_with_a_date_on_file_a_message_that_is_no_date_never_asks_for_the_date(db, text: str) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=3))
    messages, slots = run(actions().ActionInformTreatmentDate(), make_tracker(text, "inform_treatment_date", conv))
    assert "couldn't work out that date" not in texts(messages)
    assert "when was your treatment" not in texts(messages).lower()
    assert conversation(db, conv).awaiting is None
