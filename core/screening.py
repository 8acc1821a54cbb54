"""The red-flag screen as the service runs it: the deterministic lexicon (core.triage), raised by
the learned model (core.triage_model) when it is loaded. The higher level wins.

One ``Screener`` is built at start-up and shared by every path that screens a message (web chat,
SMS, the database-down path, opted-out numbers). If the model cannot load, or fails on one
message, the lexicon still screens, the failure is logged, and ``status`` says the service is
degraded (``/healthz`` reports it).
"""

from __future__ import annotations

import base64
import logging
import threading
import time

import numpy as np

from core.ports import RedFlagModel
from core.triage import TriageResult, screen
from core.triage.learned import combine

log = logging.getLogger(__name__)

_shared_lock = threading.Lock()
_shared: dict[str, object] = {}


class Screener:
    def __init__(self, model: RedFlagModel | None = None, *, load_error: str | None = None) -> None:
        self.model = model
        self.load_error = load_error
        self.failures = 0

    @property
    def status(self) -> str:
        if self.model is not None:
            return "ok"
        return f"degraded: learned red-flag model not loaded ({self.load_error or 'disabled'}); the lexicon screens alone"

    def screen(self, text: str, day: int | None) -> TriageResult:
        """Screen one message: the lexicon first (never fails), then the model raises the level."""
        result = screen(text, day)
        if self.model is None or not (text or "").strip():
            return result
        try:
            prediction = self.model.predict(text, day if day is not None else result.day_used)
        except Exception as exc:  # the lexicon's result stands; staff still see every lexicon finding
            self.failures += 1
            log.error("learned red-flag model failed on one message (%s); the lexicon's level stands", type(exc).__name__)
            return result
        result = combine(result, list(prediction.signals))
        result.language = "es" if prediction.spanish else "en"
        if prediction.embedding is not None:
            result.embedding = encode_embedding(prediction.embedding)
        return result


def encode_embedding(vector: np.ndarray) -> str:
    """A sentence embedding as it travels in the turn's metadata: base64 of little-endian float32."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def load_screener(enabled: bool = True, threads: int | None = None) -> Screener:
    """The product's screener, the model loaded once per process (shared by every app instance)."""
    if not enabled:
        return Screener(None, load_error="disabled by AFTERCARE_TRIAGE_MODEL=off")
    with _shared_lock:
        cached = _shared.get("screener")
        if isinstance(cached, Screener):
            return cached
        started = time.perf_counter()
        try:
            from core.triage_model.classifier import RedFlagModel as LearnedModel

            screener = Screener(LearnedModel(threads=threads))
            log.info("learned red-flag model ready in %.1f s", time.perf_counter() - started)
        except Exception as exc:
            log.error("learned red-flag model unavailable, the lexicon screens alone: %s: %s", type(exc).__name__, exc)
            screener = Screener(None, load_error=f"{type(exc).__name__}: {exc}")
        _shared["screener"] = screener
        return screener
