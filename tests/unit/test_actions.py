"""Rasa custom actions against a temporary SQLite database (rasa-sdk Tracker + CollectingDispatcher)."""

from __future__ import annotations

import asyncio
import sys
import types
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from core import runtime
from core.db import Base, make_engine, make_session_factory, session_scope
from core.models import Clinic, Conversation, Escalation, Patient, Treatment
from tests.fakes import test_clock

TODAY = date(2026, 11, 25)  # a Wednesday
MISSING = object()


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", url)
    monkeypatch.setenv("AFTERCARE_ENV", "test")
    runtime.reset()
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine, test_clock())
    with session_scope(factory) as s:
        s.add(Clinic(id=1, name="Glow Skin Studio", phone="(201) 555-0100", booking_url="https://glow.example/book"))
    yield factory
    runtime.reset()
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
) -> Tracker:
    meta: dict[str, Any] = {"conversation_id": conv_id, "channel": channel, "today": today.isoformat(), "message_id": "m-1"}
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


def run(action, tracker: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return dispatcher.messages, slots


def texts(messages: list[dict[str, Any]]) -> str:
    return " ".join(m.get("text") or "" for m in messages)


def actions():
    from actions import actions as module

    return module


# ------------------------------------------------------------------ import hygiene
def test_importing_actions_creates_nothing(monkeypatch) -> None:
    runtime.reset()
    for name in [m for m in sys.modules if m == "actions" or m.startswith("actions.")]:
        monkeypatch.delitem(sys.modules, name)
    import actions.actions  # noqa: F401
    import actions.context  # noqa: F401

    assert runtime._factory is None and runtime._settings is None


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
    assert slots["treatment_date"] == (TODAY - timedelta(days=3)).isoformat()
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
    assert slots["treatment_date"] == "2026-11-23"
    assert conversation(db, conv).stated_treatment_on == date(2026, 11, 23)


def test_inform_treatment_date_not_understood(db) -> None:
    conv = anonymous_conversation(db)
    messages, slots = run(actions().ActionInformTreatmentDate(), make_tracker("a while back", "inform_treatment_date", conv))
    assert "couldn't work out that date" in texts(messages)
    assert conversation(db, conv).awaiting == "treatment_date:my_recovery_day"
    assert slots["topic"] == "my_recovery_day"


def test_date_in_slot_is_used_when_the_database_lacks_it(db) -> None:
    messages, _ = run(
        actions().ActionAnswerTopic(),
        make_tracker("makeup?", "makeup", "not-in-db", slots={"treatment_date": (TODAY - timedelta(days=4)).isoformat()}),
    )
    assert texts(messages).startswith("You're on day 4")


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


def test_staff_request_without_a_conversation_is_honest(db) -> None:
    messages, _ = run(actions().ActionStaffRequest(), make_tracker("talk to a person", "talk_to_staff", "unknown-conv"))
    assert "can't reach the team" in texts(messages)
    assert escalations(db) == []


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
class FakeLevel(Enum):
    NONE = "none"
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


@dataclass
class FakeFinding:
    code: str
    level: FakeLevel
    matched: str = ""
    rule: str = ""


@dataclass
class FakeResult:
    level: FakeLevel = FakeLevel.NONE
    findings: list = field(default_factory=list)
    expected: list = field(default_factory=list)
    is_symptom: bool = True
    needs_day: bool = False
    self_harm: bool = False


@pytest.fixture
def fake_triage(monkeypatch):
    """core.triage stand-in: results are set per test."""
    module = types.ModuleType("core.triage")
    module.calls = []
    module.result = FakeResult()

    def screen(text, day):
        module.calls.append((text, day))
        return module.result

    module.screen = screen
    module.Level = FakeLevel
    module.reason_text = lambda result, day: f"fake reason day {day}"
    module.patient_reply = lambda result, clinic_name, clinic_phone: f"URGENT reply from {clinic_name} {clinic_phone}"
    module.UNPLACED_REASON = "routine: unplaced"
    module.reply_language = lambda result, text=None: "en"
    module.unplaced_reply = lambda clinic_name, clinic_phone, language: f"NOT SURE, passed to {clinic_name} ({language})"
    monkeypatch.setitem(sys.modules, "core.triage", module)
    return module


def test_expected_symptom_is_reassured(db, fake_triage) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=1))
    fake_triage.result = FakeResult(expected=["redness"])
    messages, slots = run(actions().ActionSymptomReport(), make_tracker("my face is red", "symptom_report", conv, escalated=None))
    assert fake_triage.calls == [("my face is red", 1)]
    assert "normal healing" in texts(messages) and "day 1" in texts(messages)
    assert slots["topic"] == "symptom_report"
    assert escalations(db) == []


def test_symptom_needing_the_day_asks_for_it(db, fake_triage) -> None:
    conv = anonymous_conversation(db)
    fake_triage.result = FakeResult(expected=["redness"], needs_day=True)
    messages, _ = run(actions().ActionSymptomReport(), make_tracker("still red", "symptom_report", conv, escalated=None))
    assert "when your treatment was" in texts(messages)
    assert conversation(db, conv).awaiting == "treatment_date:symptom_report"


def test_symptom_trigger_after_the_date_rescreens_the_original_text(db, fake_triage) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=2))
    fake_triage.result = FakeResult(expected=["flaking"])
    history = [user_event("my skin is peeling", "symptom_report"), user_event("monday", "inform_treatment_date")]
    messages, _ = run(actions().ActionSymptomReport(), make_tracker("/symptom_report", "symptom_report", conv, history=history))
    assert fake_triage.calls == [("my skin is peeling", 2)]
    assert "flaking" in texts(messages)


def test_symptom_already_escalated_by_the_api_stays_silent(db, fake_triage) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=2))
    messages, slots = run(actions().ActionSymptomReport(), make_tracker("pus", "symptom_report", conv, escalated="urgent"))
    assert messages == [] and slots["topic"] == "symptom_report"
    assert fake_triage.calls == [] and escalations(db) == []


def test_unscreened_routine_symptom_is_escalated(db, fake_triage) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=9))
    fake_triage.result = FakeResult(level=FakeLevel.ROUTINE, findings=[FakeFinding("pigment_change", FakeLevel.ROUTINE)])
    messages, _ = run(actions().ActionSymptomReport(), make_tracker("dark patches", "symptom_report", conv))
    assert "passed this to the team" in texts(messages)
    [esc] = escalations(db)
    assert esc.level == "routine" and esc.findings[0]["code"] == "pigment_change" and esc.recovery_day == 9


def test_routine_symptom_the_api_did_not_escalate_is_escalated_here(db, fake_triage) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=9))
    fake_triage.result = FakeResult(level=FakeLevel.ROUTINE)
    messages, _ = run(actions().ActionSymptomReport(), make_tracker("dark patches", "symptom_report", conv, escalated=None))
    assert "passed this to the team" in texts(messages)
    assert [e.level for e in escalations(db)] == ["routine"]


def test_symptom_escalation_that_cannot_be_stored_says_to_call(db, fake_triage) -> None:
    fake_triage.result = FakeResult(level=FakeLevel.ROUTINE)
    messages, _ = run(actions().ActionSymptomReport(), make_tracker("dark patches", "symptom_report", "not-in-db"))
    assert "passed this to the team" not in texts(messages)
    assert "can't reach the team" in texts(messages) and "911" in texts(messages)


def test_unscreened_urgent_symptom_uses_the_triage_reply(db, fake_triage) -> None:
    conv = patient_conversation(db, TODAY - timedelta(days=2))
    fake_triage.result = FakeResult(level=FakeLevel.URGENT)
    messages, _ = run(actions().ActionSymptomReport(), make_tracker("there is pus", "symptom_report", conv))
    assert texts(messages) == "URGENT reply from Glow Skin Studio (201) 555-0100"
    assert [e.level for e in escalations(db)] == ["urgent"]


def test_symptom_without_triage_module_gives_a_general_answer(db, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "core.triage", None)  # import fails
    conv = anonymous_conversation(db)
    messages, slots = run(actions().ActionSymptomReport(), make_tracker("my face is red", "symptom_report", conv))
    assert "sunburn" in texts(messages) and slots["topic"] == "symptom_report"


def test_real_triage_reassures_expected_redness(db) -> None:
    triage = pytest.importorskip("core.triage")
    if not hasattr(triage, "screen"):
        pytest.skip("core.triage.screen not written yet")
    conv = patient_conversation(db, TODAY - timedelta(days=1))
    messages, _ = run(
        actions().ActionSymptomReport(), make_tracker("my face is still really red", "symptom_report", conv, escalated=None)
    )
    assert "normal healing" in texts(messages)


# ------------------------------------------------------------------ database down
def test_database_down_still_answers_generally(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    monkeypatch.setenv("AFTERCARE_ENV", "test")
    runtime.reset()
    try:
        messages, slots = run(actions().ActionAnswerTopic(), make_tracker("can I wear makeup", "makeup", "c-1"))
        assert "24 hours" in texts(messages) and "when your treatment was" in texts(messages)
        assert slots["topic"] == "makeup"
        messages, _ = run(actions().ActionStaffRequest(), make_tracker("talk to a person", "talk_to_staff", "c-1"))
        assert "call the clinic" in texts(messages)
    finally:
        runtime.reset()


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
    tracker = make_tracker("im on day 2 and my face is still red", "symptom_report", conv, escalated=None)
    messages, _ = run(actions().ActionSymptomReport(), tracker)
    assert "normal healing on day 2" in texts(messages)


def test_a_symptom_the_screen_cannot_place_is_not_reassured_but_passed_to_staff(db, fake_triage) -> None:
    """Policy: 'any symptom the assistant cannot place with confidence' is routine, never reassured."""
    conv = patient_conversation(db, TODAY - timedelta(days=3))
    fake_triage.result = FakeResult(level=FakeLevel.NONE, expected=[])
    messages, slots = run(
        actions().ActionSymptomReport(), make_tracker("my face feels odd", "symptom_report", conv, escalated=None)
    )
    assert texts(messages) == "NOT SURE, passed to Glow Skin Studio (en)"
    assert "normal" not in texts(messages).lower()
    [esc] = escalations(db)
    assert esc.level == "routine" and esc.reason.startswith("routine: unplaced") and esc.recovery_day == 3


def test_the_unplaced_reply_is_honest_in_both_languages() -> None:
    from core.triage import unplaced_reply

    en = unplaced_reply(clinic_name="Glow", clinic_phone="(201) 555-0100", language="en")
    es = unplaced_reply(clinic_name="Glow", clinic_phone="(201) 555-0100", language="es")
    assert "not sure" in en and "passed it to the Glow team" in en and "normal" not in en and "911" in en
    assert "No estoy seguro" in es and "Glow" in es and "911" in es and "(201) 555-0100" in es
