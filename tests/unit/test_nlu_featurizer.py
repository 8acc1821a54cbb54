"""The sentence-encoder featurizer (bot/nlu/featurizers.py) with a fake encoder at the port."""

from __future__ import annotations

import numpy as np
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.featurizers import SentenceEncoderFeaturizer
from core.screening import encode_embedding
from core.triage_model.encoder import DIM
from core.turn import embedding_key


class CountingEncoder:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return np.full((len(texts), DIM), 0.5, dtype=np.float32)


def featurizer(encoder: CountingEncoder) -> SentenceEncoderFeaturizer:
    config = {**SentenceEncoderFeaturizer.get_default_config(), "scale": 2.0}
    return SentenceEncoderFeaturizer(config, "enc", model_storage=None, resource=None, encoder=encoder)  # type: ignore[arg-type]


def message(text: str, embedding: dict | None = None) -> Message:
    return Message(data={"text": text, "metadata": {"embedding": embedding} if embedding else {}})


def test_the_screens_embedding_is_used_for_exactly_its_text_and_the_encoder_is_not_run_again() -> None:
    encoder = CountingEncoder()
    passed = np.linspace(-1, 1, DIM).astype(np.float32)
    text = "can i wear makeup tomorrow"
    m = message(text, {"of": embedding_key(text), "e5": encode_embedding(passed)})
    featurizer(encoder).process([m])
    assert encoder.texts == []
    assert np.allclose(m.features[0].features, passed * 2.0)


def test_an_embedding_for_another_text_or_a_malformed_one_is_ignored() -> None:
    encoder = CountingEncoder()
    vector = encode_embedding(np.ones(DIM, dtype=np.float32))
    messages = [
        message("makeup?", {"of": embedding_key("something else"), "e5": vector}),
        message("makeup?", {"of": embedding_key("makeup?"), "e5": "not base64!"}),
        message("makeup?", {"of": embedding_key("makeup?"), "e5": encode_embedding(np.ones(3, dtype=np.float32))}),
        message("makeup?"),
    ]
    featurizer(encoder).process(messages)
    assert encoder.texts == ["makeup?"] * 4
    assert all(np.allclose(m.features[0].features, 1.0) for m in messages)
