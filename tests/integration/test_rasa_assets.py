"""The Rasa assistant's own checks, as its reference assistants run them in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA = str(Path(sys.executable).with_name("rasa"))


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([RASA, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_rasa_data_validates_without_warnings(tmp_path):
    r = run(
        ["data", "validate", "--config", "config.yml", "--domain", "bot/domain", "--data", "data", "--fail-on-warnings"], tmp_path
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_test_stories_pass_without_prediction_errors(tmp_path):
    model = ROOT / "models" / "aftercare.tar.gz"
    if not model.exists():
        pytest.fail("no trained model; `make test` trains it")
    r = run(
        [
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            "tests/stories",
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path),
        ],
        tmp_path,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_trained_classifier_reloads_its_tfidf_weighting(tmp_path):
    """The weighting learnt at training (idf per count block) travels in the model archive and is
    loaded back: without it the classifier would silently score raw counts."""
    import json

    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.nlu.classifiers import WEIGHTING_FILE, TunedLogisticRegressionClassifier

    model = ROOT / "models" / "aftercare.tar.gz"
    if not model.exists():
        pytest.fail("no trained model; `make test` trains it")
    storage, _metadata = LocalModelStorage.from_model_archive(tmp_path / "storage", model)
    found = list((tmp_path / "storage").glob(f"*/{WEIGHTING_FILE}"))
    assert len(found) == 1, found
    blocks = json.loads(found[0].read_text())["blocks"]
    assert [b["idf"] is not None for b in blocks] == ["CountVectorsFeaturizer" in b["origin"] for b in blocks]
    assert sum(b["idf"] is not None for b in blocks) == 2  # words and characters
    for block in blocks:
        if block["idf"] is not None:
            assert len(block["idf"]) == block["width"] and min(block["idf"]) >= 1.0

    name = found[0].parent.name
    config = {**TunedLogisticRegressionClassifier.get_default_config(), "weighting": "tfidf"}
    component = TunedLogisticRegressionClassifier.load(config, storage, Resource(name), ExecutionContext(GraphSchema({}), "test"))
    assert component.blocks == blocks


def test_trained_model_pins_the_sentence_encoder_and_gives_its_golden_vectors(tmp_path):
    """The NLU model stores the hash of the encoder weights it was trained with; a model trained on other
    weights refuses to load, and the featurizer's vectors are the golden ones (times its scale)."""
    import json

    import numpy as np
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.featurizers import ENCODER_FILE, EncoderMismatch, SentenceEncoderFeaturizer
    from core.triage_model.encoder import WEIGHTS_SHA256

    model = ROOT / "models" / "aftercare.tar.gz"
    if not model.exists():
        pytest.fail("no trained model; `make test` trains it")
    storage, _metadata = LocalModelStorage.from_model_archive(tmp_path / "storage", model)
    [found] = list((tmp_path / "storage").glob(f"*/{ENCODER_FILE}"))
    stored = json.loads(found.read_text())
    assert stored["weights_sha256"] == WEIGHTS_SHA256

    config = {**SentenceEncoderFeaturizer.get_default_config(), "scale": stored["scale"]}
    context = ExecutionContext(GraphSchema({}), "test")
    component = SentenceEncoderFeaturizer.load(config, storage, Resource(found.parent.name), context)
    golden = json.loads((ROOT / "tests" / "data" / "golden_e5.json").read_text(encoding="utf-8"))
    messages = [Message(data={"text": t}) for t in golden["texts"]]
    component.process(messages)
    got = np.vstack([m.features[0].features for m in messages]) / float(stored["scale"])
    assert got.shape == (3, 384)
    assert float(np.abs(got - np.array(golden["vectors"], dtype=np.float32)).max()) < 5e-3

    found.write_text(json.dumps({**stored, "weights_sha256": "0" * 64}))
    with pytest.raises(EncoderMismatch):
        SentenceEncoderFeaturizer.load(config, storage, Resource(found.parent.name), context)
