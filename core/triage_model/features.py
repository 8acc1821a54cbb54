"""Features of the learned red-flag screen besides the sentence embedding: hashed word and
character n-grams (they catch misspellings, shorthand and Spanish without accents) and the
day of recovery (some findings escalate only after a given day).

Stdlib + numpy; the same code builds the training matrix and featurises one live message.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import Counter

import numpy as np

N_HASH = 1 << 16
DAY_BUCKETS = ("unknown", "0", "1", "2", "3", "4-7", "8-14", "15+")

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalise(text: str) -> str:
    """Lower case, accents stripped (patients often type Spanish without them), spaces collapsed."""
    text = unicodedata.normalize("NFKD", (text or "").replace("\x00", " ").lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.split())


def _symbols(text: str) -> list[str]:
    """Emoji and other pictographs, each a token ("👁", "🤒")."""
    return [ch for ch in text if unicodedata.category(ch) == "So"]


def ngram_keys(text: str) -> Counter[str]:
    norm = normalise(text)
    words = _TOKEN.findall(norm)
    keys: Counter[str] = Counter()
    for w in words:
        keys["w:" + w] += 1
        padded = f" {w} "
        for n in (3, 4, 5):
            for i in range(max(len(padded) - n + 1, 1)):
                keys["c:" + padded[i : i + n]] += 1
    for a, b in zip(words, words[1:]):
        keys[f"b:{a} {b}"] += 1
    for s in _symbols(norm):
        keys["s:" + s] += 1
    return keys


def ngram_vector(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Sparse hashed n-grams: (indices, values), sublinear tf, L2-normalised."""
    acc: dict[int, float] = {}
    for key, tf in ngram_keys(text).items():
        idx = zlib.crc32(key.encode("utf-8")) % N_HASH
        acc[idx] = acc.get(idx, 0.0) + 1.0 + math.log(tf)
    if not acc:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    idx = np.fromiter(acc.keys(), dtype=np.int64, count=len(acc))
    val = np.fromiter(acc.values(), dtype=np.float32, count=len(acc))
    val /= float(np.linalg.norm(val)) or 1.0
    return idx, val


def day_bucket(day: int | None) -> int:
    if day is None:
        return 0
    if day <= 3:
        return 1 + max(day, 0)
    if day <= 7:
        return 5
    if day <= 14:
        return 6
    return 7
