"""core.sms: keywords, consent state, SMS formatting, and the inbound store (no HTTP)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.models import Conversation, Escalation, Message, OutboxMessage, Patient, SmsOptOut
from core.patients import create_patient
from core.sms import (
    HELP,
    KEYWORD_PURPOSE,
    MAX_CHARS,
    START,
    STOP,
    InboundSms,
    SmsChannel,
    encoding_of,
    format_sms,
    is_opted_out,
    keyword_language,
    keyword_of,
    plain_text,
    segment_count,
    set_opt_out,
    split_sms,
)


# ---------------------------------------------------------------------- keywords
@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOP!",
        "stopall",
        "UNSUBSCRIBE",
        "cancel",
        "End",
        "quit",
        "REVOKE",
        "OPTOUT",
        "opt-out",
        "Opt out",
        "stop texting me",
    ],
)
def test_stop_words(body: str) -> None:
    assert keyword_of(body) == STOP


@pytest.mark.parametrize("body", ["START", "unstop", "Start!"])
def test_start_words(body: str) -> None:
    assert keyword_of(body) == START
    assert keyword_of(body, opted_out=True) == START


def test_yes_restarts_only_an_opted_out_number() -> None:
    assert keyword_of("yes") is None  # an answer to a question
    assert keyword_of("YES", opted_out=True) == START


@pytest.mark.parametrize("body", ["HELP", "help", "Info"])
def test_help_words(body: str) -> None:
    assert keyword_of(body) == HELP


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "can I stop using retinol?",
        "stop?",
        "when does the redness end",
        "help me my face is swollen",
        "stop 2",
        "I want to cancel my appointment",
    ],
)
def test_questions_and_sentences_are_not_keywords(body: str) -> None:
    assert keyword_of(body) is None


@pytest.mark.parametrize(
    "body, want",
    [
        ("PARAR", STOP),
        ("parar", STOP),
        ("Alto.", STOP),
        ("cancelar", STOP),
        ("BAJA", STOP),
        ("No más", STOP),
        ("COMENZAR", START),
        ("iniciar", START),
        ("AYUDA", HELP),
        ("ayuda!", HELP),
    ],
)
def test_spanish_keywords_are_honoured_and_confirmed_in_spanish(body: str, want: str) -> None:
    """Issue #18: PARAR, ALTO, CANCELAR... like STOP; COMENZAR like START; AYUDA like HELP."""
    assert keyword_of(body) == want
    assert keyword_language(body) == "es"


def test_si_restarts_only_an_opted_out_number_and_english_keywords_are_confirmed_in_english() -> None:
    assert keyword_of("si") is None and keyword_of("Sí", opted_out=True) == START
    assert keyword_language("STOP") == "en" and keyword_language("help") == "en"
    # Spanish sentences are not keywords either
    for body in ("¿puedo parar el retinol?", "ayuda, tengo la cara hinchada", "quiero cancelar mi cita"):
        assert keyword_of(body) is None


def test_twilio_opt_out_type_wins() -> None:
    assert keyword_of("ARRET", opt_out_type="STOP") == STOP
    assert keyword_of("anything", opt_out_type="start") == START
    assert keyword_of("AIDE", opt_out_type="HELP") == HELP
    assert keyword_of("STOP", opt_out_type="") == STOP


# ---------------------------------------------------------------------- formatting
def test_markdown_and_html_become_plain_text() -> None:
    md = (
        "## Makeup\n\n**Wait 24 hours** before makeup; *mineral* makeup is best. See [our guide](https://ex.com/g).\n"
        "* clean brushes\n+ gentle cleanser\n\n\n\n`no scrubs` &amp; <b>no</b> retinol<br>for 5 days"
    )
    out = plain_text(md)
    assert "*" not in out and "#" not in out and "`" not in out and "<" not in out
    assert "Wait 24 hours before makeup; mineral makeup is best." in out
    assert "our guide (https://ex.com/g)" in out
    assert "- clean brushes\n- gentle cleanser" in out
    assert "no scrubs & no retinol\nfor 5 days" in out
    assert "\n\n\n" not in out


def test_snake_case_and_arithmetic_survive() -> None:
    assert plain_text("use skin_care_plus, 2*3 drops") == "use skin_care_plus, 2*3 drops"


def test_typographic_punctuation_is_made_gsm() -> None:
    out = plain_text("It\u2019s \u201cnormal\u201d \u2013 days 1\u20133\u2026 don\u2019t worry\u00a0today")
    assert out == "It's \"normal\" - days 1-3... don't worry today"
    assert encoding_of(out) == "GSM-7"


def test_spanish_sms_costs_the_segments_of_gsm_7() -> None:
    """Issue #18: one á would make a whole reply UCS-2 (67 characters a segment). á í ó ú lose the
    accent on SMS; ñ, é, ü, ¿ and ¡ are GSM-7 and stay."""
    text = "¿Cómo está su piel? Un poco de enrojecimiento es normal; úselo así. Señal: pingüino, Ángel, Él."
    out = plain_text(text)
    assert out == "¿Como esta su piel? Un poco de enrojecimiento es normal; uselo asi. Señal: pingüino, Angel, Él."
    assert encoding_of(out) == "GSM-7"
    long = "Después de su tratamiento, evite el sol directo y use protector solar todos los días. " * 3
    assert segment_count(long) == 4 and segment_count(plain_text(long)) == 2


def test_segments_for_gsm_and_ucs2() -> None:
    assert segment_count("a" * 160) == 1
    assert segment_count("a" * 161) == 2
    assert segment_count("a" * 306) == 2
    assert segment_count("a" * 307) == 3
    assert segment_count("€" * 80) == 1  # extension characters count twice: 160 septets
    assert segment_count("€" * 81) == 2
    assert segment_count("é" * 160) == 1  # é is in the GSM basic set
    assert segment_count("ç" * 70) == 1  # ç (lower case) is not: UCS-2
    assert segment_count("😀" * 35) == 1  # emoji: two UTF-16 units each
    assert segment_count("😀" * 36) == 2
    assert encoding_of("hello") == "GSM-7" and encoding_of("hi 😀") == "UCS-2"


def test_long_reply_splits_at_sentence_boundaries() -> None:
    text = " ".join(f"Sentence {i} says something useful about aftercare." for i in range(30))
    parts = format_sms(text)
    assert len(parts) > 1
    assert all(len(p) <= MAX_CHARS for p in parts)
    assert all(segment_count(p) <= 3 for p in parts)
    assert all(p.endswith(".") for p in parts)  # every part ends on a full sentence
    assert " ".join(parts) == text


def test_split_keeps_paragraphs_and_handles_monster_words() -> None:
    text = "First paragraph.\n\nSecond paragraph is here. " + "x" * 900
    parts = split_sms(text)
    assert parts[0].startswith("First paragraph.\n\nSecond paragraph is here.")
    assert all(len(p) <= MAX_CHARS for p in parts)
    assert "".join(parts).count("x") == 900


def test_unicode_replies_are_split_by_segments() -> None:
    text = "😀 " * 400
    parts = format_sms(text)
    assert all(segment_count(p) <= 3 for p in parts)
    assert sum(p.count("😀") for p in parts) == 400


def test_format_is_idempotent_on_its_parts() -> None:
    text = (
        "**Day 3:** redness is *expected*. " * 6
        + "- keep it clean\n- use SPF 30 \u2014 always\n"
        + "Ça va? Emoji 😀 and [a link](https://ex.com). " * 4
    )
    for part in format_sms(text):
        assert format_sms(part) == [part]


def test_buttons_become_a_reply_line() -> None:
    parts = format_sms("Was your treatment today?", [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}])
    assert parts == ["Was your treatment today?\nReply: Yes / No"]


def test_empty_and_whitespace() -> None:
    assert format_sms("") == []
    assert format_sms("   \n ") == []


# ---------------------------------------------------------------------- consent state
def test_opt_out_for_patient_and_unknown_number(session_factory) -> None:
    with session_scope(session_factory) as s:
        create_patient(s, first_name="Ana", phone="+12015550123")
    with session_scope(session_factory) as s:
        assert not is_opted_out(s, "+12015550123")
        set_opt_out(s, "+12015550123", opted_out=True, keyword="STOP")
        set_opt_out(s, "+12015550999", opted_out=True, keyword="QUIT")
    with session_scope(session_factory) as s:
        ana = s.execute(select(Patient).where(Patient.phone == "+12015550123")).scalar_one()
        assert ana.opted_out and ana.opted_out_at is not None
        assert is_opted_out(s, "+12015550123") and is_opted_out(s, "+12015550999")
        assert s.get(SmsOptOut, "+12015550999").keyword == "QUIT"
        set_opt_out(s, "+12015550123", opted_out=False, keyword="START")
    with session_scope(session_factory) as s:
        assert not is_opted_out(s, "+12015550123")
        assert s.execute(select(Patient).where(Patient.phone == "+12015550123")).scalar_one().opted_out_at is None
        assert not is_opted_out(s, None)


def test_staff_opt_out_on_the_patient_counts(session_factory) -> None:
    with session_scope(session_factory) as s:
        p = create_patient(s, first_name="Ben", phone="+12015550101")
        p.opted_out = True
    with session_scope(session_factory) as s:
        assert is_opted_out(s, "+12015550101")


# ---------------------------------------------------------------------- the inbound store
class _Conversations:
    """Only receive() is used by SmsChannel.store; take the real one."""

    def __init__(self, factory) -> None:
        from core.conversations import ConversationService

        self._svc = ConversationService(session_factory=factory, assistant=None, clock=None)  # type: ignore[arg-type]

    def receive(self, *args, **kwargs):
        return self._svc.receive(*args, **kwargs)


@pytest.fixture
def channel(session_factory, fixed_clock) -> SmsChannel:
    from core.clinic import get_clinic

    with session_scope(session_factory) as s:
        c = get_clinic(s)
        c.name, c.phone = "Glow", "+12015550199"
    return SmsChannel(session_factory=session_factory, conversations=_Conversations(session_factory), clock=fixed_clock)


def _rows(factory, model):
    with session_scope(factory) as s:
        return list(s.execute(select(model)).scalars())


def test_store_once_per_message_sid_and_one_conversation_per_phone(channel, session_factory) -> None:
    a = channel.store(InboundSms(message_sid="SM1", from_phone="+12015550123", body="hi"))
    again = channel.store(InboundSms(message_sid="SM1", from_phone="+12015550123", body="hi"))
    b = channel.store(InboundSms(message_sid="SM2", from_phone="+12015550123", body="makeup?"))
    assert a.created and a.needs_turn
    assert not again.created and not again.needs_turn and again.message_id == a.message_id
    assert b.conversation_id == a.conversation_id
    assert len(_rows(session_factory, Message)) == 2
    assert len(_rows(session_factory, Conversation)) == 1


def test_keywords_are_answered_at_store_time_without_a_turn(channel, session_factory) -> None:
    stop = channel.store(InboundSms(message_sid="SM1", from_phone="+12015550123", body="STOP"))
    assert stop.keyword == STOP and not stop.needs_turn and stop.queued_replies == 1
    [out] = _rows(session_factory, OutboxMessage)
    assert out.purpose == KEYWORD_PURPOSE and "START" in out.body
    with session_scope(session_factory) as s:
        assert is_opted_out(s, "+12015550123")
        assert s.get(Message, stop.message_id).status == "answered"
    # Twilio Advanced Opt-Out: state recorded, no reply of ours
    start = channel.store(InboundSms(message_sid="SM2", from_phone="+12015550123", body="START", opt_out_type="START"))
    assert start.keyword == START and start.queued_replies == 0
    with session_scope(session_factory) as s:
        assert not is_opted_out(s, "+12015550123")


def test_empty_body_is_prompted_at_store_time(channel, session_factory) -> None:
    r = channel.store(InboundSms(message_sid="SM1", from_phone="+12015550123", body="   "))
    assert not r.needs_turn and r.queued_replies == 1
    [out] = _rows(session_factory, OutboxMessage)
    assert "empty" in out.body


def test_media_only_opens_a_routine_escalation(channel, session_factory) -> None:
    r = channel.store(InboundSms(message_sid="SM1", from_phone="+12015550123", media_urls=["https://api.twilio.com/m/1"]))
    assert not r.needs_turn
    [esc] = _rows(session_factory, Escalation)
    assert esc.level == "routine" and "1 photo" in esc.reason
    with session_scope(session_factory) as s:
        assert s.get(Message, r.message_id).media_urls == ["https://api.twilio.com/m/1"]


def test_claim_is_exclusive(channel) -> None:
    r = channel.store(InboundSms(message_sid="SM1", from_phone="+12015550123", body="makeup?"))
    assert channel.claim(r.message_id) == "turn"
    assert channel.claim(r.message_id) is None
    assert channel.claim(r.message_id, allow_stale=True) == "turn"  # the recovery sweep, past the lease


def test_unfinished_lists_received_and_stale_processing(channel, session_factory) -> None:
    from datetime import timedelta

    a = channel.store(InboundSms(message_sid="SM1", from_phone="+12015550123", body="one"))
    b = channel.store(InboundSms(message_sid="SM2", from_phone="+12015550124", body="two"))
    channel.claim(b.message_id)
    now = channel.clock.now()
    assert [(m, stale) for m, _, stale in channel.unfinished(now=now)] == [(a.message_id, False)]
    later = now + timedelta(seconds=channel.processing_lease_s + 1)
    assert [(m, stale) for m, _, stale in channel.unfinished(now=later)] == [(a.message_id, False), (b.message_id, True)]


def test_stop_reply_names_the_clinic(channel, session_factory) -> None:
    channel.store(InboundSms(message_sid="SM1", from_phone="+12015550123", body="HELP"))
    [out] = _rows(session_factory, OutboxMessage)
    assert "Glow" in out.body and "+12015550199" in out.body and re.search(r"\bSTOP\b", out.body)


def test_the_spool_is_readable_by_the_service_user_only(tmp_path) -> None:
    """Issue 16, item 16: it held message text and phone numbers at mode 0644."""
    import os
    import stat

    from core.spool import Spool

    spool = Spool(tmp_path / "spool" / "inbound.jsonl")
    spool.append({"text": "there is pus", "phone": "+12015550123"})
    assert stat.S_IMODE(os.stat(spool.path).st_mode) == 0o600
    spool.drain(lambda rec: (_ for _ in ()).throw(RuntimeError("database still down")))
    assert stat.S_IMODE(os.stat(spool.path).st_mode) == 0o600


def test_the_sqlite_database_is_readable_by_the_service_user_only(tmp_path) -> None:
    """Issue 16, item 16: the database (patients' messages) took the umask of whoever started the
    service (0644 under the usual 022), outside `make run`. Its -wal and -shm files follow it."""
    import os
    import stat

    from sqlalchemy import text

    from core.db import make_engine

    old = os.umask(0o022)
    try:
        existing = tmp_path / "old.db"
        existing.write_bytes(b"")
        os.chmod(existing, 0o644)
        for path in (tmp_path / "new.db", existing):
            engine = make_engine(f"sqlite:///{path}")
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE t (x TEXT)"))
                conn.execute(text("INSERT INTO t VALUES ('there is pus')"))
            for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                if p.exists():
                    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
            engine.dispose()
    finally:
        os.umask(old)
