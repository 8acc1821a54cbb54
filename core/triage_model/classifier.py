"""The learned red-flag model at run time: logistic regressions over
[sentence embedding | hashed n-grams | day bucket], trained by ``core.triage_model.train``.

Heads:
- ``red``: needs a clinician today or sooner (urgent or emergency)
- ``emergency``: possibly life-threatening (self-harm statements included)
- ``spanish``: the message is in Spanish (the safety reply's language)

The weights and their thresholds live in ``weights/redflag.npz`` and ``weights/redflag.json``
beside this file; the JSON also records the encoder's weights hash, which must match.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.triage.model import ModelSignal

from .encoder import WEIGHTS_SHA256, SentenceEncoder
from .features import DAY_BUCKETS, N_HASH, day_bucket, ngram_vector

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
HEADS = ("red", "emergency", "spanish")
LIKE_MIN_SIMILARITY = 0.86


class ModelUnavailable(RuntimeError):
    pass


@dataclass
class Head:
    w_embed: np.ndarray  # (384,)
    w_ngram: np.ndarray  # (N_HASH,)
    w_day: np.ndarray  # (len(DAY_BUCKETS),)
    bias: float
    threshold: float

    def score(self, embed: np.ndarray, idx: np.ndarray, val: np.ndarray, bucket: int) -> float:
        z = float(self.w_embed @ embed) + float(self.w_ngram[idx] @ val) + float(self.w_day[bucket]) + self.bias
        return 1.0 / (1.0 + np.exp(-z))


@dataclass
class Prediction:
    scores: dict[str, float]
    signals: list[ModelSignal]
    spanish: bool
    embedding: np.ndarray | None = None  # the sentence embedding the heads scored


class RedFlagModel:
    """Loads once; ``predict(text, day)`` is thread-safe."""

    def __init__(
        self, weights_dir: Path = WEIGHTS_DIR, encoder: SentenceEncoder | None = None, threads: int | None = None
    ) -> None:
        meta_path, npz_path = weights_dir / "redflag.json", weights_dir / "redflag.npz"
        if not meta_path.exists() or not npz_path.exists():
            raise ModelUnavailable(f"no trained red-flag model in {weights_dir} (make train-redflag)")
        self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if self.meta.get("encoder_sha256") != WEIGHTS_SHA256:
            raise ModelUnavailable("the red-flag model was trained on another encoder; retrain it (make train-redflag)")
        if self.meta.get("n_hash") != N_HASH or self.meta.get("day_buckets") != list(DAY_BUCKETS):
            raise ModelUnavailable("the red-flag model's feature layout differs from this code; retrain it")
        data = np.load(npz_path)
        self.heads: dict[str, Head] = {}
        for name in HEADS:
            self.heads[name] = Head(
                w_embed=data[f"{name}_embed"].astype(np.float32),
                w_ngram=data[f"{name}_ngram"].astype(np.float32),
                w_day=data[f"{name}_day"].astype(np.float32),
                bias=float(data[f"{name}_bias"]),
                threshold=float(self.meta["thresholds"][name]),
            )
        self.like_embed = data["like_embed"].astype(np.float32)
        self.like_codes = [str(c) for c in data["like_codes"]]
        self.encoder = encoder or (SentenceEncoder(threads=threads) if threads else SentenceEncoder())
        started = time.perf_counter()
        self.predict("warm up", None)
        log.info("red-flag model loaded (warm-up %.0f ms)", (time.perf_counter() - started) * 1000)

    def predict(self, text: str, day: int | None) -> Prediction:
        embed = self.encoder.encode([text])[0]
        idx, val = ngram_vector(text)
        bucket = day_bucket(day)
        scores = {name: head.score(embed, idx, val, bucket) for name, head in self.heads.items()}
        signals: list[ModelSignal] = []
        like = (
            self._like(embed)
            if (scores["emergency"] >= self.heads["emergency"].threshold or scores["red"] >= self.heads["red"].threshold)
            else None
        )
        if scores["emergency"] >= self.heads["emergency"].threshold:
            signals.append(ModelSignal("emergency", round(scores["emergency"], 3), self.heads["emergency"].threshold, like))
        elif scores["red"] >= self.heads["red"].threshold:
            signals.append(ModelSignal("urgent", round(scores["red"], 3), self.heads["red"].threshold, like))
        return Prediction(
            scores=scores, signals=signals, spanish=scores["spanish"] >= self.heads["spanish"].threshold, embedding=embed
        )

    def _like(self, embed: np.ndarray) -> str | None:
        if not len(self.like_codes):
            return None
        sims = self.like_embed @ embed
        best = int(np.argmax(sims))
        return self.like_codes[best] if float(sims[best]) >= LIKE_MIN_SIMILARITY else None
