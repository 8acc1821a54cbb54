"""Rasa's LogisticRegressionClassifier with the regularisation strength exposed (`C`) and
TF-IDF weighting of the count blocks (`weighting: tfidf`).

The stock component fixes C=1.0 and feeds raw counts to scikit-learn: a long run-on message
then outweighs a two-word one and every frequent character n-gram counts as much as a rare,
telling one. With ``weighting: tfidf`` each CountVectorsFeaturizer block is weighted like
scikit-learn's ``TfidfTransformer(sublinear_tf=True)`` (1 + log count, times the smoothed
inverse document frequency learnt from the training examples), divided by its L2 norm and
multiplied by ``block_scale``; other blocks (the RegexFeaturizer's lexicon flags) are kept as
they are. The norm used is never below ``norm_floor`` times the median norm of the training
examples: without that floor a one-word fragment ("what", "is it") would be blown up to the
weight of a whole question and get a confident, wrong topic instead of the clarifying question.
docs/nlu-pipeline.md has the measurements behind these settings.
Nothing runs at import time beyond the class definition and its recipe registration.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

log = logging.getLogger(__name__)

WEIGHTING_FILE = "weighting.json"


def _origin_name(origin: Any) -> str:
    return "+".join(origin) if isinstance(origin, list) else str(origin)


def sentence_blocks(message: Message) -> List[Tuple[str, csr_matrix]]:
    """The message's sentence-level TEXT features, one sparse row per featurizer, in pipeline order."""
    blocks: List[Tuple[str, csr_matrix]] = []
    for feature in message.features:
        if feature.attribute != TEXT or feature.type != FEATURE_TYPE_SENTENCE:
            continue
        matrix = feature.features if feature.is_sparse() else np.asarray(feature.features)
        blocks.append((_origin_name(feature.origin), csr_matrix(matrix, dtype=np.float64)))
    return blocks


def smoothed_idf(counts: csr_matrix) -> np.ndarray:
    """ln((1 + n) / (1 + df)) + 1 per column, as scikit-learn's TfidfTransformer (smooth_idf) learns it."""
    document_frequency = np.diff(counts.tocsc().indptr)  # rows in which each column occurs
    return np.log((1.0 + counts.shape[0]) / (1.0 + document_frequency)) + 1.0


def sublinear_tfidf(counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
    """(1 + log count) times idf, per cell; zero stays zero."""
    weighted = counts.tocsr(copy=True).astype(np.float64)
    weighted.data = 1.0 + np.log(weighted.data)
    return csr_matrix(weighted.multiply(idf.reshape(1, -1)))


def row_norms(matrix: csr_matrix) -> np.ndarray:
    return np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()


def tfidf_rows(counts: csr_matrix, idf: np.ndarray, scale: float, floor: float = 0.0) -> csr_matrix:
    """Sublinear TF-IDF of count rows, each divided by max(its L2 norm, ``floor``) and scaled."""
    weighted = sublinear_tfidf(counts, idf)
    if floor <= 0.0:
        return normalize(weighted) * scale
    factors = scale / np.maximum(row_norms(weighted), floor)
    return csr_matrix(weighted.multiply(factors.reshape(-1, 1)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TunedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Logistic regression intent classifier with a configurable `C` and optional TF-IDF weighting."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "C": 1.0,
            # "count" (Rasa's behaviour) or "tfidf" (see the module docstring)
            "weighting": "count",
            "block_scale": 3.0,
            "norm_floor": 0.0,
        }

    def __init__(self, config: Dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        if self.config["weighting"] not in ("count", "tfidf"):
            raise ValueError(f"weighting must be 'count' or 'tfidf', not {self.config['weighting']!r}")
        # per block in pipeline order: its width and, for a count block under tfidf, its idf vector
        # and the norm floor (``norm_floor`` times the median training norm)
        self.blocks: List[Dict[str, Any]] | None = None
        self._idf: List[np.ndarray | None] = []  # the blocks' idf as arrays, built once (not per message)
        self.clf = LogisticRegression(
            C=float(self.config["C"]),
            solver=self.config["solver"],
            max_iter=self.config["max_iter"],
            class_weight="balanced",
            tol=self.config["tol"],
            random_state=self.config["random_state"],
            dual=False,
            fit_intercept=True,
            intercept_scaling=1,
            multi_class="auto",
            verbose=0,
            warm_start=False,
            n_jobs=None,
            l1_ratio=None,
        )

    # ------------------------------------------------------------------ features
    def _fit_blocks(self, messages: List[Message]) -> None:
        rows = [sentence_blocks(m) for m in messages]
        layout: List[Dict[str, Any]] = []
        for index, (origin, first) in enumerate(rows[0]):
            block: Dict[str, Any] = {"origin": origin, "width": int(first.shape[1]), "idf": None, "floor": 0.0}
            if self.config["weighting"] == "tfidf" and "CountVectorsFeaturizer" in origin:
                counts = vstack([r[index][1] for r in rows]).tocsr()
                idf = smoothed_idf(counts)
                block["idf"] = idf.tolist()
                median_norm = float(np.median(row_norms(sublinear_tfidf(counts, idf))))
                block["floor"] = float(self.config["norm_floor"]) * median_norm
            layout.append(block)
        self._set_blocks(layout)

    def _set_blocks(self, blocks: List[Dict[str, Any]] | None) -> None:
        self.blocks = blocks
        self._idf = [None if b["idf"] is None else np.asarray(b["idf"], dtype=np.float64) for b in blocks or []]

    def _create_X(self, messages: List[Message]) -> csr_matrix:  # noqa: N802 (Rasa's name)
        if self.blocks is None or self.config["weighting"] == "count":
            return super()._create_X(messages)
        rows = [sentence_blocks(m) for m in messages]
        columns = []
        for index, block in enumerate(self.blocks):
            matrix = vstack([r[index][1] for r in rows]).tocsr()
            if matrix.shape[1] != block["width"]:  # the featurizers' vocabularies are fixed at training
                raise ValueError(f"feature block {block['origin']} has {matrix.shape[1]} columns, trained on {block['width']}")
            idf = self._idf[index]
            if idf is not None:
                matrix = tfidf_rows(matrix, idf, float(self.config["block_scale"]), float(block.get("floor", 0.0)))
            columns.append(matrix)
        return hstack(columns).tocsr()

    # ------------------------------------------------------------------ training and storage
    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if (e.get("intent") and e.get("text"))]
        if examples:
            self._fit_blocks(examples)
        return super().train(training_data)

    def persist(self) -> None:
        super().persist()
        with self._model_storage.write_to(self._resource) as model_dir:
            (model_dir / WEIGHTING_FILE).write_text(json.dumps({"blocks": self.blocks}))

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TunedLogisticRegressionClassifier:
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / WEIGHTING_FILE
                if path.exists():
                    component._set_blocks(json.loads(path.read_text())["blocks"])
        except ValueError:
            log.debug("no stored feature weighting for %s", resource.name)
        return component
