"""The screen as the service runs it: lexicon + learned model (a fake model at the port)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from core.screening import Screener, load_screener
from core.triage import Level, ModelSignal, patient_reply, screen
from core.triage.language import looks_spanish
from core.triage.learned import combine, model_only

CLINIC = {"clinic_name": "Glow MedSpa", "clinic_phone": "(555) 010-0100"}


@dataclass
class FakePrediction:
    signals: list = field(default_factory=list)
    spanish: bool = False
    scores: dict = field(default_factory=dict)
    embedding: object = None


class FakeModel:
    def __init__(self, *signals: ModelSignal, spanish: bool = False, fail: bool = False) -> None:
        self.signals, self.spanish, self.fail = list(signals), spanish, fail
        self.calls: list[tuple[str, int | None]] = []

    def predict(self, text: str, day: int | None) -> FakePrediction:
        self.calls.append((text, day))
        if self.fail:
            raise RuntimeError("boom")
        return FakePrediction(list(self.signals), self.spanish)


EMERGENCY = ModelSignal("emergency", 0.91, 0.47)
URGENT = ModelSignal("urgent", 0.83, 0.80, like="infection.crust")


def test_the_model_raises_a_level_the_lexicon_missed_and_says_why() -> None:
    s = Screener(FakeModel(EMERGENCY))
    result = s.screen("tonight might be the night", 3)
    assert screen("tonight might be the night", 3).level is Level.NONE
    assert result.level is Level.EMERGENCY
    [f] = [f for f in result.findings if f.code == "model.emergency"]
    assert "score 0.91" in f.rule and "learned screen" in f.rule
    assert model_only(result)


def test_the_model_never_lowers_the_lexicons_level() -> None:
    s = Screener(FakeModel(URGENT))
    result = s.screen("I passed out", 1)
    assert result.level is Level.EMERGENCY and not model_only(result)


def test_no_signal_leaves_the_lexicon_result_unchanged() -> None:
    s = Screener(FakeModel())
    assert s.screen("still a bit pink", 1).level is screen("still a bit pink", 1).level


def test_a_model_level_never_waits_for_the_treatment_date() -> None:
    base = screen("my face is still red", None)
    assert base.needs_day
    raised = combine(base, [URGENT])
    assert raised.level is Level.URGENT and not raised.needs_day


def test_a_failing_model_leaves_the_lexicon_screening() -> None:
    s = Screener(FakeModel(fail=True))
    assert s.screen("there's pus on my chin", 3).level is Level.URGENT
    assert s.screen("hello", 3).level is Level.NONE
    assert s.failures == 2


def test_without_a_model_the_status_is_degraded_and_the_lexicon_screens() -> None:
    s = Screener(None, load_error="no weights")
    assert s.status.startswith("degraded") and "no weights" in s.status
    assert s.screen("cant breathe", 0).level is Level.EMERGENCY


def test_load_screener_can_be_switched_off() -> None:
    s = load_screener(False)
    assert s.model is None and "AFTERCARE_TRIAGE_MODEL=off" in s.status


def test_a_model_only_emergency_also_offers_988_because_it_may_be_self_harm() -> None:
    result = Screener(FakeModel(EMERGENCY)).screen("i have everything ready for tonight", 3)
    reply = patient_reply(result, **CLINIC)
    assert "911" in reply.splitlines()[0] and "988" in reply


def test_a_model_emergency_that_resembles_self_harm_is_marked_self_harm() -> None:
    like = ModelSignal("emergency", 0.9, 0.47, like="emergency.self_harm")
    result = Screener(FakeModel(like)).screen("nobody would miss me", 3)
    assert result.self_harm and "Suicide & Crisis Lifeline" in patient_reply(result, **CLINIC)


def test_a_model_emergency_that_resembles_fainting_gets_no_988() -> None:
    like = ModelSignal("emergency", 0.9, 0.47, like="emergency.fainting")
    reply = patient_reply(Screener(FakeModel(like)).screen("everything went dark and I woke up on the floor", 1), **CLINIC)
    assert "911" in reply and "988" not in reply


# ------------------------------------------------------------------ replies fit what was found, in the patient's language
def test_hives_are_not_told_to_keep_the_area_clean() -> None:
    reply = patient_reply(screen("i have hives all over my neck and arms", 2), **CLINIC)
    assert "clean" not in reply and "911" in reply and "nothing new" in reply


def test_infection_keeps_the_skin_care_advice() -> None:
    assert "keep the area clean" in patient_reply(screen("there's pus", 3), **CLINIC)


def test_spanish_safety_replies_carry_the_same_facts() -> None:
    emergency = patient_reply(screen("I passed out", 0), **CLINIC, language="es")
    assert emergency.splitlines()[0].startswith("Llame al 911 ahora")
    self_harm = patient_reply(screen("i want to kill myself", 4), **CLINIC, language="es")
    assert "988" in self_harm and "911" in self_harm.splitlines()[0]
    urgent = patient_reply(screen("there's pus", 3), **CLINIC, language="es")
    assert "hoy" in urgent and "911" in urgent and "Glow MedSpa" in urgent and "(555) 010-0100" in urgent
    routine = patient_reply(screen("still red on day 5", 5), **CLINIC, language="es")
    assert "día hábil" in routine and "911" not in routine


def test_the_model_language_picks_the_reply_language() -> None:
    from core.triage import reply_language

    result = Screener(FakeModel(URGENT, spanish=True)).screen("tengo costras amarillas", 3)
    assert result.language == "es" and reply_language(result, "tengo costras amarillas") == "es"


@pytest.mark.parametrize(
    "text,spanish",
    [
        ("hola, tengo la cara muy roja y me arde, es normal?", True),
        ("me salieron unas ronchas q pican mucho", True),
        ("ya no quiero estar aqui", True),
        ("my face is red and it stings, is that normal?", False),
        ("can I wear makeup tomorrow", False),
        ("ok", False),
    ],
)
def test_the_fallback_language_guess(text: str, spanish: bool) -> None:
    assert looks_spanish(text) is spanish


def test_the_screen_hands_on_its_sentence_embedding_for_the_nlu() -> None:
    import base64

    import numpy as np

    class Embedding(FakeModel):
        def predict(self, text: str, day: int | None) -> FakePrediction:
            return FakePrediction(embedding=np.arange(4, dtype=np.float32))

    result = Screener(Embedding()).screen("can i wear makeup", 2)
    assert np.array_equal(np.frombuffer(base64.b64decode(result.embedding), dtype="<f4"), np.arange(4))
    assert Screener(FakeModel()).screen("can i wear makeup", 2).embedding is None
