#!/usr/bin/env python
"""Fast sweep of the classifier's weighting, C and norm floor by 5-fold cross-validation.

Rasa's own ``rasa test nlu --cross-validation`` takes minutes per setting; this script
re-implements the pipeline's features in scikit-learn (lexicon flags from the lookup tables,
word 1-2 grams and char_wb 2-5 grams over a whitespace/punctuation split, as in config.yml)
so a whole sweep takes a few minutes. It is an approximation for exploring: the chosen setting
is then trained and measured with Rasa itself (scripts/compare_pipelines.py, make eval).

For each ``MODE:C`` it prints the 5-fold cross-validation accuracy on data/nlu, the accuracy on
each labelled set given with ``--set`` (trained on all of data/nlu), and how many of the noise
fragments of scripts/compare_pipelines.py get a specific FAQ topic with confidence >= 0.25.
MODE is ``count`` (raw counts), ``tfidf`` (sublinear TF-IDF, L2-normalised) or ``floorF``
(TF-IDF divided by max(norm, F x median training norm)); the weighting itself is
bot/nlu/classifiers.py's own code, imported.

    .venv/bin/python scripts/sweep_weighting.py count:10 tfidf:10 floor0.7:10 \\
        --set tests/data/nlu_holdout.yml --set tests/data/nlu_blind.yml
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from compare_pipelines import CONVERSATION, NOISE  # noqa: E402

from bot.nlu.classifiers import row_norms, smoothed_idf, sublinear_tfidf, tfidf_rows  # noqa: E402

NOT_FAQ = CONVERSATION | {"affirm", "deny", "inform_treatment_date"}


def _plain(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"\[([^\]]*)\]\{[^}]*\}", r"\1", text)


def load_training(folder: Path) -> tuple[list[str], list[str], list[re.Pattern]]:
    texts, labels, lookups = [], [], []
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text())["nlu"]:
            examples = [_plain(x.strip()[2:]) for x in block.get("examples", "").splitlines() if x.strip().startswith("- ")]
            if "intent" in block:
                texts += examples
                labels += [block["intent"]] * len(examples)
            elif "lookup" in block:
                lookups.append(re.compile(r"(?i)\b(" + "|".join(re.escape(t) for t in examples) + r")\b"))
    return texts, labels, lookups


def words(text: str) -> list[str]:
    return re.sub(r"[^\w']+", " ", text.lower()).split()


class Features:
    def __init__(self, mode: str, lookups: list[re.Pattern]) -> None:
        self.mode, self.lookups = mode, lookups
        self.word = CountVectorizer(tokenizer=words, lowercase=False, ngram_range=(1, 2), token_pattern=None)
        self.char = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), preprocessor=lambda s: " ".join(words(s)))

    def fit(self, texts: list[str]) -> Features:
        blocks = [self.word.fit_transform(texts), self.char.fit_transform(texts)]
        self.idf = [smoothed_idf(b) for b in blocks]
        self.median = [float(np.median(row_norms(sublinear_tfidf(b, i)))) for b, i in zip(blocks, self.idf)]
        return self

    def transform(self, texts: list[str]) -> csr_matrix:
        flags = csr_matrix(np.array([[1.0 if p.search(t) else 0.0 for p in self.lookups] for t in texts]))
        out = [flags]
        for vec, idf, median in zip((self.word, self.char), self.idf, self.median):
            counts = vec.transform(texts).astype(float)
            if self.mode == "count":
                out.append(counts)
                continue
            floor = float(self.mode[5:]) * median if self.mode.startswith("floor") else 0.0
            out.append(tfidf_rows(counts, idf, 3.0, floor))
        return hstack(out).tocsr()


def fit(mode: str, c: float, texts: list[str], labels: list[str], lookups: list[re.Pattern]):
    features = Features(mode, lookups).fit(texts)
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(features.transform(texts), labels)
    return features, clf


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("settings", nargs="+", help="MODE:C, e.g. floor0.7:10")
    ap.add_argument("--set", action="append", type=Path, default=[], help="a labelled {text, topic} set")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args(argv)
    texts, labels, lookups = load_training(REPO / "data" / "nlu")
    sets = {p.name: yaml.safe_load(p.read_text()) for p in args.set}
    print(f"{len(texts)} training examples, {len(set(labels))} intents")
    for setting in args.settings:
        mode, c = setting.split(":")
        started = time.perf_counter()
        x, y = np.array(texts, dtype=object), np.array(labels)
        hits = 0
        for train, test in StratifiedKFold(args.folds, shuffle=True, random_state=0).split(x, y):
            features, clf = fit(mode, float(c), list(x[train]), list(y[train]), lookups)
            hits += int((clf.predict(features.transform(list(x[test]))) == y[test]).sum())
        features, clf = fit(mode, float(c), texts, labels, lookups)
        scores = []
        for name, items in sets.items():
            predicted = clf.predict(features.transform([i["text"] for i in items]))
            scores.append(f"{name} {np.mean([p == i['topic'] for p, i in zip(predicted, items)]):.3f}")
        proba = clf.predict_proba(features.transform(list(NOISE)))
        noisy = [t for t, p in zip(NOISE, proba) if p.max() >= 0.25 and clf.classes_[p.argmax()] not in NOT_FAQ]
        print(
            f"{setting:14s} cv{args.folds} {hits / len(texts):.3f}  "
            + "  ".join(scores)
            + f"  noise->FAQ {len(noisy)} {noisy}  ({time.perf_counter() - started:.0f}s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
