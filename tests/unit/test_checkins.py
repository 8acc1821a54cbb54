"""The check-in plan's text and the scheduler's pure helpers (no database)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import timeline
from core.checkins import (
    DEFAULT_PLAN,
    MAX_SEGMENTS,
    PlanError,
    in_window,
    is_gsm7,
    render_body,
    sms_length,
    sms_segments,
    validate_body,
)
from tests.fakes import test_clock

LONG_CLINIC = "Ultimate Image MedSpa & Wellness"  # 32 characters
LONG_NAME = "Alexandra-Josephine"


def test_default_plan_has_the_four_microneedling_steps():
    assert [(s["key"], s["day"]) for s in DEFAULT_PLAN] == [("day1", 1), ("day3", 3), ("day7", 7), ("week4", 28)]
    assert DEFAULT_PLAN[-1]["day"] == timeline.NEXT_SESSION_FROM_DAY == timeline.RESULTS_FROM_DAY


@pytest.mark.parametrize("step", DEFAULT_PLAN, ids=lambda s: s["key"])
def test_each_message_fits_two_gsm_segments_with_long_names(step):
    text = render_body(step["body"], first_name=LONG_NAME, clinic_name=LONG_CLINIC)
    assert is_gsm7(text), "curly quotes or emoji would make every segment 67 characters"
    assert sms_length(text) <= 306
    assert sms_segments(text) <= MAX_SEGMENTS
    assert "{" not in text and "}" not in text
    assert LONG_NAME in text and LONG_CLINIC in text
    assert validate_body(step["body"], clinic_name=LONG_CLINIC) == step["body"]


def test_first_message_tells_how_to_opt_out():
    assert "Reply STOP to opt out" in DEFAULT_PLAN[0]["body"]


def test_messages_carry_the_topics_of_their_day():
    body = {s["key"]: s["body"].lower() for s in DEFAULT_PLAN}
    assert "how is your skin today" in body["day1"] and "redness" in body["day1"] and "day or two" in body["day1"]
    assert "reply" in body["day1"]
    assert "flaking" in body["day7"] and "skincare" in body["day7"] and "spf 30" in body["day7"]
    assert "book" in body["week4"] and "month apart" in body["week4"]
    assert "worse" in body["day3"]  # when to get back in touch


def test_messages_are_our_own_words():
    """No run of 10 words copied from the clinic's guide (the before-stop check, as a test)."""
    seed = Path(__file__).resolve().parents[3] / "shared" / "seed"
    files = list(seed.glob("*.txt")) if seed.exists() else []
    if not files:
        pytest.skip("the clinic guide is not beside the project")

    def words(s: str) -> list[str]:
        return re.findall(r"[a-z0-9']+", s.lower().replace("\u2019", "'"))

    grams = set()
    for f in files:
        w = words(f.read_text(errors="ignore"))
        grams.update(tuple(w[i : i + 10]) for i in range(len(w) - 9))
    for step in DEFAULT_PLAN:
        w = words(step["body"])
        assert not [w[i : i + 10] for i in range(len(w) - 9) if tuple(w[i : i + 10]) in grams], step["key"]


def test_render_fills_only_known_placeholders():
    assert render_body("Hi {first_name} from {clinic}", first_name="Ana", clinic_name="Glow") == "Hi Ana from Glow"
    assert render_body("Hi {first_name}", first_name="  ", clinic_name="Glow") == "Hi there"
    assert render_body("{other} {clinic}", first_name="Ana", clinic_name="") == "{other} your clinic"


def test_sms_segment_arithmetic():
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3
    assert sms_length("[]") == 4  # GSM-7 extended characters take two septets
    assert not is_gsm7("it\u2019s")
    assert sms_segments("\u2019" + "a" * 69) == 1
    assert sms_segments("\u2019" + "a" * 70) == 2  # UCS-2: 70 in one, 67 per part


def test_validate_body_rejects_empty_unknown_placeholders_and_too_long():
    with pytest.raises(PlanError, match="empty"):
        validate_body("   ", clinic_name="Glow")
    with pytest.raises(PlanError, match="placeholders"):
        validate_body("Hi {name}", clinic_name="Glow")
    with pytest.raises(PlanError, match="too long"):
        validate_body("x" * 307, clinic_name="Glow")
    with pytest.raises(PlanError, match="alphabet"):
        validate_body("Great \U0001f600 " + "x" * 140, clinic_name="Glow")
    # curly quotes and dashes pasted from a word processor become plain SMS characters
    assert validate_body("It\u2019s day 3 \u2013 how are you?", clinic_name="Glow") == "It's day 3 - how are you?"
    assert validate_body("  Hi {first_name}, {clinic} here.\r\n ", clinic_name="Glow") == "Hi {first_name}, {clinic} here."


@pytest.mark.parametrize(
    "hour,start,end,expected",
    [
        (8, 9, 19, False),
        (9, 9, 19, True),
        (18, 9, 19, True),
        (19, 9, 19, False),
        (23, 20, 2, True),
        (1, 20, 2, True),
        (2, 20, 2, False),
        (12, 9, 9, False),
    ],
)
def test_sending_window(hour, start, end, expected):
    assert in_window(hour, start, end) is expected


def test_a_fresh_install_gets_the_default_plan(tmp_path):
    from core.bootstrap import prepare
    from core.db import make_engine, make_session_factory, session_scope
    from core.models import CheckinStep

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {
        "AFTERCARE_ENV": "test",
        "AFTERCARE_DATA_DIR": str(tmp_path),
        "AFTERCARE_DATABASE_URL": url,
        "AFTERCARE_DEMO_DATA": "0",
    }
    prepare(env)
    prepare(env)  # idempotent
    engine = make_engine(url)
    with session_scope(make_session_factory(engine, test_clock())) as s:
        keys = sorted(step.key for step in s.query(CheckinStep).all())
    engine.dispose()
    assert keys == sorted(step["key"] for step in DEFAULT_PLAN)
    assert all({"key", "day", "body"} <= set(step) for step in DEFAULT_PLAN)
    assert len({step["key"] for step in DEFAULT_PLAN}) == len(DEFAULT_PLAN)
    assert all(len(step["key"]) <= 32 for step in DEFAULT_PLAN)


def test_a_production_install_starts_without_demo_data(tmp_path) -> None:
    """Issue 16, item 8: production was seeded with the demo clinic's fictitious on-call number."""
    from core.bootstrap import prepare
    from core.db import make_engine, make_session_factory, session_scope
    from core.models import Patient, StaffUser

    url = f"sqlite:///{tmp_path / 'prod.db'}"
    env = {
        "AFTERCARE_ENV": "production",
        "AFTERCARE_DATA_DIR": str(tmp_path),
        "AFTERCARE_DATABASE_URL": url,
        "AFTERCARE_PUBLIC_URL": "https://clinic.example",
        "AFTERCARE_API_TOKEN": "prod-token-0123456789abcdefghij",
        "AFTERCARE_SECRET_KEY": "prod-secret-0123456789abcdef0123456789",
    }
    prepare(env)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine, test_clock())) as s:
        assert s.query(Patient).count() == 0 and s.query(StaffUser).count() == 0
    engine.dispose()
