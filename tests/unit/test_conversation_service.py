"""The conversation service with fakes at the ports: order of the safety steps."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from core.clock import FixedClock
from core.conversations import ConversationService
from core.db import session_scope
from core.models import Conversation, Escalation, Message, OutboxMessage
from core.patients import create_patient
from core.spool import Spool
from tests.fakes import FakeAssistant


def make_service(session_factory, clock: FixedClock, tmp_path, assistant, timeout_s: float, **kw) -> ConversationService:
    """The service on a clinic with a name, a phone and an on-call phone, in front of ``assistant``."""
    from core.clinic import get_clinic

    with session_scope(session_factory) as s:
        c = get_clinic(s)
        c.name, c.phone, c.oncall_phone = "Test Clinic", "+12015550199", "+12015550198"
    return ConversationService(
        session_factory=session_factory,
        assistant=assistant,
        clock=clock,
        spool=Spool(tmp_path / "spool.jsonl"),
        assistant_timeout_s=timeout_s,
        **kw,
    )


@pytest.fixture
def service(session_factory, fixed_clock: FixedClock, tmp_path):
    assistant = FakeAssistant({"makeup": ("makeup", "No makeup for at least 24 hours.")})
    return make_service(session_factory, fixed_clock, tmp_path, assistant, 1.0, public_url="http://test")


def new_conversation(factory, *, channel="web", treated_on: date | None = None, phone="+12015550123") -> str:
    with session_scope(factory) as s:
        patient_id = None
        if treated_on is not None:
            p = create_patient(s, first_name="Ana", phone=phone, treatments=[{"performed_on": treated_on}])
            patient_id = p.id
        conv = Conversation(channel=channel, patient_id=patient_id, phone=phone if channel == "sms" else None)
        s.add(conv)
        s.flush()
        return conv.id


def say(service: ConversationService, conv_id: str, text: str, external_id: str | None = None):
    with session_scope(service.session_factory) as s:
        conv = s.get(Conversation, conv_id)
        msg, _ = service.receive(s, conversation=conv, text=text, external_id=external_id)
        mid = msg.id
    return asyncio.run(service.process(mid))


def test_faq_goes_to_the_assistant_and_reports_its_topic(service, session_factory):
    conv = new_conversation(session_factory)
    result = say(service, conv, "can I wear makeup tomorrow?")
    assert result.topic == "makeup"
    assert result.escalation is None
    assert "24 hours" in result.replies[0].text
    assert service.assistant.calls[0]["metadata"]["today"] == "2026-11-26"


def test_red_flag_escalates_even_inside_a_faq_question(service, session_factory):
    conv = new_conversation(session_factory, treated_on=date(2026, 11, 23))
    result = say(service, conv, "can I wear makeup tmrw? also theres yellow crust and pus on my chin")
    assert result.escalation and result.escalation["level"] == "urgent"
    assert result.topic == "makeup"  # the FAQ part is still answered
    texts = " ".join(r.text for r in result.replies)
    assert "24 hours" in texts and "today" in texts.lower()
    with session_scope(session_factory) as s:
        esc = s.get(Escalation, result.escalation["id"])
        assert esc.recovery_day == 3 and esc.status == "open"
        alert = s.query(OutboxMessage).filter_by(purpose="oncall_alert").one()
        assert alert.to == "+12015550198" and "pus" not in alert.body.lower()


def test_emergency_reply_never_waits_on_the_assistant(service, session_factory):
    service.assistant.down = True
    conv = new_conversation(session_factory)
    result = say(service, conv, "cant breath and my throat is closing up")
    assert result.escalation["level"] == "emergency"
    assert "911" in result.replies[0].text.splitlines()[0]
    assert service.assistant.calls == []


def test_one_open_escalation_per_conversation_is_raised_not_duplicated(service, session_factory):
    conv = new_conversation(session_factory, treated_on=date(2026, 11, 20))  # day 6
    first = say(service, conv, "my face is still red")
    assert first.escalation["level"] == "routine"
    second = say(service, conv, "now there is pus coming out")
    assert second.escalation["id"] == first.escalation["id"]
    assert second.escalation["level"] == "urgent"
    with session_scope(session_factory) as s:
        assert s.query(Escalation).count() == 1
        assert len(s.get(Escalation, first.escalation["id"]).events) == 2


def test_unknown_day_asks_for_the_date_then_reassesses(service, session_factory):
    conv = new_conversation(session_factory)
    asked = say(service, conv, "my skin is still really red")
    assert asked.escalation is None
    assert "when" in asked.replies[-1].text.lower()
    answered = say(service, conv, "5 days ago")  # day 5: redness still there -> routine
    assert answered.escalation and answered.escalation["level"] == "routine"


def test_unknown_day_then_expected_healing_reassures_without_escalating(service, session_factory):
    conv = new_conversation(session_factory)
    say(service, conv, "my skin is still really red")
    answered = say(service, conv, "yesterday")
    assert answered.escalation is None


def test_staff_takeover_keeps_the_assistant_silent_but_not_for_emergencies(service, session_factory):
    conv = new_conversation(session_factory)
    with session_scope(session_factory) as s:
        s.get(Conversation, conv).staff_takeover = True
    quiet = say(service, conv, "can I wear makeup?")
    # the assistant stays silent; the patient is told once that a person will answer (issue #17)
    assert [r.text for r in quiet.replies] == ["Thanks, your message is with the clinic team. A team member will reply here."]
    assert service.assistant.calls == []
    assert say(service, conv, "hello?").replies == []  # not after every message
    loud = say(service, conv, "I fainted and have chest pain")
    assert "911" in loud.replies[0].text


def test_assistant_down_gives_a_holding_reply_and_reaches_staff(service, session_factory):
    service.assistant.down = True
    conv = new_conversation(session_factory)
    result = say(service, conv, "how many sessions will I need?")
    assert "saved" in result.replies[0].text
    assert result.escalation is None  # not a red flag, but a person must see it:
    with session_scope(session_factory) as s:
        assert s.query(Escalation).one().level == "routine"
        msg = s.query(Message).filter_by(direction="in").one()
        assert msg.status == "answered" and msg.text == "how many sessions will I need?"


def test_processing_twice_answers_once(service, session_factory):
    conv = new_conversation(session_factory)
    with session_scope(session_factory) as s:
        msg, _ = service.receive(s, conversation=s.get(Conversation, conv), text="makeup?")
        mid = msg.id
    asyncio.run(service.process(mid))
    asyncio.run(service.process(mid))
    assert len(service.assistant.calls) == 1


def test_duplicate_external_id_is_stored_once(service, session_factory):
    conv = new_conversation(session_factory, channel="sms")
    with session_scope(session_factory) as s:
        c = s.get(Conversation, conv)
        a, created_a = service.receive(s, conversation=c, text="hi", external_id="SM1")
        b, created_b = service.receive(s, conversation=c, text="hi", external_id="SM1")
    assert created_a and not created_b and a.id == b.id


def test_sms_replies_go_to_the_outbox(service, session_factory):
    conv = new_conversation(session_factory, channel="sms", treated_on=date(2026, 11, 25), phone="+12015550177")
    say(service, conv, "makeup tomorrow?", external_id="SM2")
    with session_scope(session_factory) as s:
        rows = s.query(OutboxMessage).filter_by(purpose="reply").all()
        assert rows and all(r.to == "+12015550177" for r in rows)


def test_database_down_still_screens_and_spools(service, session_factory):
    result = service.screen_without_database(channel="web", conversation_id=None, text="there is pus and I have a fever")
    assert not result.stored and result.escalation["level"] == "urgent"
    assert service.spool.pending() == 1
    assert service.spool.drain(service.replay_spooled) == 1
    with session_scope(session_factory) as s:
        esc = s.query(Escalation).one()
        assert esc.level == "urgent"
        assert s.query(Message).one().text == "there is pus and I have a fever"


# ------------------------------------------------------------- the actions' requests (core.turn)
@pytest.fixture
def with_actions(session_factory, fixed_clock: FixedClock, tmp_path):
    """The service in front of the real Rasa actions (intents by keyword): the whole turn contract."""
    from tests.fakes import ActionsAssistant

    intents = {
        "person": "talk_to_staff",
        "makeup": "makeup",
        "feels odd": "symptom_report",
        "red": "symptom_report",
        "ago": "inform_treatment_date",
    }
    return make_service(session_factory, fixed_clock, tmp_path, ActionsAssistant(intents), 5.0)


def test_a_hand_off_the_action_asks_for_is_stored_by_the_service(with_actions, session_factory):
    conv = new_conversation(session_factory)
    result = say(with_actions, conv, "can I talk to a person")
    assert result.escalation is None  # a request for a person, not a clinical finding
    with session_scope(session_factory) as s:
        [esc] = s.query(Escalation).all()
        assert (esc.level, esc.reason, esc.conversation_id) == ("routine", "patient asked to talk to staff", conv)


def test_the_service_sends_the_actions_everything_they_need(with_actions, session_factory, fixed_clock):
    conv = new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23))
    result = say(with_actions, conv, "can I wear makeup")
    meta = with_actions.assistant.calls[-1]["metadata"]
    assert meta["day"] == 3 and meta["first_name"] == "Ana" and meta["clinic"]["name"] == "Test Clinic"
    assert meta["screen"]["level"] == "none" and meta["today"] == fixed_clock.today().isoformat()
    assert result.replies[0].text.startswith("You're on day 3")


def test_a_date_stated_in_a_question_is_remembered_by_the_service(with_actions, session_factory, fixed_clock):
    conv = new_conversation(session_factory)
    result = say(with_actions, conv, "I had it 2 days ago, can I wear makeup?")
    assert result.replies[0].text.startswith("You're on day 2")
    with session_scope(session_factory) as s:
        assert s.get(Conversation, conv).stated_treatment_on == date.fromordinal(fixed_clock.today().toordinal() - 2)


def test_waiting_for_the_date_is_kept_by_the_service_only(with_actions, session_factory):
    conv = new_conversation(session_factory)
    first = say(with_actions, conv, "can I wear makeup")
    assert "when your treatment was" in first.replies[-1].text
    with session_scope(session_factory) as s:
        assert s.get(Conversation, conv).awaiting == "treatment_date:makeup"
    second = say(with_actions, conv, "3 days ago")
    assert with_actions.assistant.calls[-1]["text"] == "/makeup"  # the pending question, now with the date
    assert second.replies[0].text.startswith("You're on day 3")
    with session_scope(session_factory) as s:
        assert s.get(Conversation, conv).awaiting is None


def test_a_symptom_nobody_placed_reaches_staff_through_the_actions(with_actions, session_factory, fixed_clock):
    conv = new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23))
    result = say(with_actions, conv, "my face feels odd")
    assert "normal" not in " ".join(r.text for r in result.replies).lower()
    with session_scope(session_factory) as s:
        [esc] = s.query(Escalation).all()
        assert esc.level == "routine" and esc.recovery_day == 3


def test_the_clinic_row_sets_the_calendar_of_recovery_days(with_actions, session_factory, fixed_clock):
    """One source for the time zone: the clinic row an admin edits (not the process's clock or env)."""
    from core.clinic import get_clinic

    conv = new_conversation(session_factory, treated_on=date(2026, 11, 23))
    say(with_actions, conv, "can I wear makeup")
    assert with_actions.assistant.calls[-1]["metadata"]["day"] == 3  # 15:00 UTC is the 26th in New York
    with session_scope(session_factory) as s:
        get_clinic(s).timezone = "Pacific/Kiritimati"  # UTC+14: already the 27th there
    say(with_actions, conv, "can I wear makeup")
    assert with_actions.assistant.calls[-1]["metadata"]["day"] == 4
    assert with_actions.assistant.calls[-1]["metadata"]["today"] == "2026-11-27"


def test_the_time_zone_setting_only_seeds_a_first_install(tmp_path):
    from core.clinic import get_clinic
    from core.db import Base, make_engine, make_session_factory
    from tests.fakes import test_clock

    engine = make_engine(f"sqlite:///{tmp_path / 'seed.db'}")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine, test_clock())
    with session_scope(factory) as s:
        assert get_clinic(s, seed_timezone="America/Denver").timezone == "America/Denver"
    with session_scope(factory) as s:
        assert get_clinic(s, seed_timezone="Europe/Madrid").timezone == "America/Denver"
    engine.dispose()


# ------------------------------------------------------------- a way to call the patient back
def anonymous_web(factory) -> str:
    with session_scope(factory) as s:
        conv = Conversation(channel="web")
        s.add(conv)
        s.flush()
        return conv.id


def test_an_escalated_web_patient_without_a_number_is_asked_for_one(service, session_factory):
    conv = anonymous_web(session_factory)
    first = say(service, conv, "there's pus coming out of my cheek")
    assert first.escalation and "best phone number" in first.replies[-1].text
    # after a safety reply, no clarifying question from the assistant (its intent was not a topic)
    assert not any("another way" in r.text for r in first.replies)
    calls = len(service.assistant.calls)
    second = say(service, conv, "(201) 555-0142")
    assert second.replies[-1].text == "Thank you. The clinic team will call you at (201) 555-0142."
    assert len(service.assistant.calls) == calls  # answering our own question: not sent to the assistant
    with session_scope(session_factory) as s:
        c = s.get(Conversation, conv)
        assert c.callback_phone == "+12015550142" and c.awaiting is None


def test_a_number_written_with_the_red_flag_is_kept_and_not_asked_again(service, session_factory):
    conv = anonymous_web(session_factory)
    result = say(service, conv, "call me at 201 555 0142, there is pus and yellow crust")
    assert result.escalation and not any("best phone number" in r.text for r in result.replies)
    with session_scope(session_factory) as s:
        assert s.get(Conversation, conv).callback_phone == "+12015550142"


def test_a_patient_with_a_phone_on_file_is_not_asked(service, session_factory):
    conv = new_conversation(session_factory, treated_on=date(2026, 11, 24))
    result = say(service, conv, "there's pus coming out of my cheek")
    assert result.escalation and not any("best phone number" in r.text for r in result.replies)


def test_no_number_in_the_answer_goes_on_as_a_normal_message(service, session_factory):
    conv = anonymous_web(session_factory)
    say(service, conv, "there's pus coming out of my cheek")
    result = say(service, conv, "can I wear makeup?")
    assert result.replies[-1].text == "No makeup for at least 24 hours."
    with session_scope(session_factory) as s:
        c = s.get(Conversation, conv)
        assert c.awaiting is None and c.callback_phone is None


def test_the_callback_question_speaks_the_patients_language(service, session_factory):
    conv = anonymous_web(session_factory)
    result = say(service, conv, "me sale pus de la mejilla y tengo costras amarillas")
    assert result.escalation and "número de teléfono" in result.replies[-1].text


# ---------------------------------------------------------------------- language (issue #18)
@pytest.fixture
def bilingual(session_factory, fixed_clock: FixedClock, tmp_path):
    """The service in front of the real Rasa actions, with Spanish keywords too."""
    from tests.fakes import ActionsAssistant

    intents = {"makeup": "makeup", "maquillaje": "makeup", "ago": "inform_treatment_date"}
    return make_service(session_factory, fixed_clock, tmp_path, ActionsAssistant(intents), 5.0)


def _language(factory, conv_id: str) -> str | None:
    with session_scope(factory) as s:
        return s.get(Conversation, conv_id).language


def test_a_patient_who_writes_in_spanish_is_answered_in_spanish(bilingual, session_factory, fixed_clock):
    conv = new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23))
    result = say(bilingual, conv, "hola, puedo usar maquillaje mañana?")
    assert bilingual.assistant.calls[-1]["metadata"]["language"] == "es"
    text = " ".join(r.text for r in result.replies)
    assert "maquillaje" in text.lower() and "makeup" not in text.lower()
    assert _language(session_factory, conv) == "es"
    # "ok" and a bare number keep the conversation in Spanish; English words switch it back
    say(bilingual, conv, "ok")
    assert _language(session_factory, conv) == "es"
    result = say(bilingual, conv, "sorry, can you tell me about makeup again in english")
    assert _language(session_factory, conv) == "en"


def test_asking_for_spanish_switches_and_is_confirmed_without_the_assistant(bilingual, session_factory):
    conv = new_conversation(session_factory)
    result = say(bilingual, conv, "¿puede contestar en español?")
    assert bilingual.assistant.calls == []
    assert [r.text for r in result.replies] == [
        "Claro, a partir de ahora le respondo en español. ¿Qué le gustaría saber sobre el cuidado después de su tratamiento?"
    ]
    assert _language(session_factory, conv) == "es"
    result = say(bilingual, conv, "English please")
    assert result.replies[0].text.startswith("Sure, I'll answer in English")
    assert _language(session_factory, conv) == "en"


def test_the_preferred_language_on_file_starts_the_conversation(bilingual, session_factory, fixed_clock):
    conv = new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23))
    with session_scope(session_factory) as s:
        s.get(Conversation, conv).patient.language = "es"
    say(bilingual, conv, "makeup?")  # one word: too little to tell, so the preference decides
    assert bilingual.assistant.calls[-1]["metadata"]["language"] == "es"


def test_a_spanish_red_flag_in_an_english_conversation_gets_the_spanish_safety_reply(service, session_factory):
    conv = new_conversation(session_factory, treated_on=date(2026, 11, 23))
    say(service, conv, "can I wear makeup tomorrow?")
    assert _language(session_factory, conv) in (None, "en")
    result = say(service, conv, "me sale pus de la mejilla y tengo costras amarillas")
    assert result.escalation and result.escalation["level"] == "urgent"
    assert result.replies[0].text.startswith("Gracias por avisarnos") and "911" in result.replies[0].text
    assert _language(session_factory, conv) == "es"


def test_a_short_red_flag_in_spanish_in_an_english_conversation_gets_the_safety_reply_in_both(
    session_factory, fixed_clock, tmp_path
):
    """Too short to switch the conversation's language, but the patient must understand "call 911".
    (The learned model reads both the red flag and its language; the lexicon alone knows neither here.)"""
    from core.screening import load_screener

    assistant = FakeAssistant({"makeup": ("makeup", "No makeup for at least 24 hours.")})
    service = make_service(session_factory, fixed_clock, tmp_path, assistant, 1.0, screener=load_screener(True, 1))
    conv = new_conversation(session_factory)
    say(service, conv, "can I wear makeup tomorrow?")  # the conversation is English
    result = say(service, conv, "no respiro")
    assert result.escalation["level"] == "emergency"
    first = result.replies[0].text
    spanish, english = first.split("\n\n", 1)
    assert "911" in spanish and "llame" in spanish.lower()
    assert "911" in english and "call" in english.lower()
    with session_scope(session_factory) as s:
        assert s.get(Conversation, conv).language == "en"  # the conversation itself stays English


def test_an_english_red_flag_in_an_english_conversation_gets_one_language(service, session_factory):
    conv = new_conversation(session_factory)
    result = say(service, conv, "I can't breathe and my throat is closing")
    assert result.escalation["level"] == "emergency"
    assert "llame" not in result.replies[0].text.lower()


# ------------------------------------------------------------- two questions in one message (issue #15)
@pytest.fixture
def two_topics(session_factory, fixed_clock: FixedClock, tmp_path):
    from tests.fakes import ActionsAssistant

    intents = {
        "makeup": "makeup",
        "maquillaje": "makeup",
        "gym": "exercise_sweat",
        "gimnasio": "exercise_sweat",
        "tylenol": "out_of_guide",
        "hello": "greet",
        "red": "symptom_report",
    }
    return make_service(session_factory, fixed_clock, tmp_path, ActionsAssistant(intents), 5.0)


def _texts(result) -> list[str]:
    return [r.text for r in result.replies]


def test_a_message_with_two_questions_gets_both_answers_in_order(two_topics, session_factory, fixed_clock):
    conv = new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23))
    alone = {
        q: _texts(
            say(
                two_topics,
                new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23), phone=f"+1201555013{i}"),
                q,
            )
        )
        for i, q in enumerate(("can I wear makeup tomorrow?", "when can I go back to the gym"))
    }
    two_topics.assistant.calls.clear()
    result = say(two_topics, conv, "can I wear makeup tomorrow? and when can I go back to the gym")
    assert [c["text"] for c in two_topics.assistant.calls] == ["can I wear makeup tomorrow?", "when can I go back to the gym"]
    assert _texts(result) == alone["can I wear makeup tomorrow?"] + alone["when can I go back to the gym"]
    assert result.topic == "makeup"  # the first question asked
    # asked the other way round, the topic follows the patient's order
    result = say(two_topics, conv, "when can i go to the gym, can i put makeup on")
    assert result.topic == "exercise_sweat" and len(two_topics.assistant.calls) == 4


def test_a_second_question_the_guide_does_not_answer_is_handed_off_not_guessed(two_topics, session_factory, fixed_clock):
    conv = new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23))
    result = say(two_topics, conv, "can I wear makeup tomorrow? also can I take tylenol tonight")
    assert result.topic == "makeup" and len(result.replies) >= 2
    with session_scope(session_factory) as s:
        [esc] = s.query(Escalation).all()
        assert esc.level == "routine" and esc.conversation_id == conv


def test_small_talk_and_one_question_with_and_are_answered_once(two_topics, session_factory, fixed_clock):
    conv = new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23))
    say(two_topics, conv, "can i use makeup and moisturizer tomorrow")
    assert len(two_topics.assistant.calls) == 1  # one question: not split
    two_topics.assistant.calls.clear()
    result = say(two_topics, conv, "hello there how are you? can i wear makeup tomorrow")
    # two parts, one of them small talk: one thing asked, so the whole message is answered as before
    assert [c["text"] for c in two_topics.assistant.calls][-1] == "hello there how are you? can i wear makeup tomorrow"
    assert result.topic == "makeup" and len(two_topics.assistant.calls) == 3


def test_spanish_two_questions_are_both_answered_in_spanish(two_topics, session_factory, fixed_clock):
    conv = new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23))
    result = say(two_topics, conv, "hola, puedo usar maquillaje mañana? y cuando puedo volver al gimnasio")
    assert [c["text"] for c in two_topics.assistant.calls] == [
        "hola, puedo usar maquillaje mañana?",
        "cuando puedo volver al gimnasio",
    ]
    assert result.topic == "makeup" and len(result.replies) >= 2
    assert "maquillaje" in " ".join(_texts(result)).lower()


def test_a_red_flag_message_with_two_questions_is_not_split(two_topics, session_factory, fixed_clock):
    conv = new_conversation(session_factory, treated_on=fixed_clock.today().replace(day=23))
    result = say(two_topics, conv, "there is pus on my cheek. can I wear makeup? and when can I go to the gym")
    assert len(two_topics.assistant.calls) == 1 and result.escalation is not None


def test_with_no_date_known_two_questions_are_answered_and_a_symptom_part_is_not_reassured(two_topics, session_factory):
    conv = new_conversation(session_factory)  # anonymous: no treatment date
    result = say(two_topics, conv, "my face is red, can i wear makeup tomorrow? and when can i go back to the gym")
    assert [c["text"] for c in two_topics.assistant.calls] == [
        "my face is red, can i wear makeup tomorrow?",
        "when can i go back to the gym",
    ]
    assert result.topic == "makeup" and result.escalation is None
    two_topics.assistant.calls.clear()
    # the symptom part alone needs the day: it is left out, one question remains, the whole message decides
    result = say(two_topics, conv, "is it normal that my face is this red? and can i go to the gym")
    assert len(two_topics.assistant.calls) == 3 and two_topics.assistant.calls[-1]["text"].startswith("is it normal")
