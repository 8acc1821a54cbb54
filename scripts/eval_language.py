"""How well core.language tells English from Spanish, per message, on labelled sets.

For each message: the language it is detected as (``core.language.detected``, with the learned
red-flag model's language head as in the product), or "kept" when it is not clear enough to change
a conversation's language. A wrong detection would switch a conversation to the other language.

    .venv/bin/python scripts/eval_language.py [--no-model]

Sets: development first (the NLU training examples: data/nlu/spanish.yml and three English files),
then tests/data/triage_blind_es.yml (items labelled lang: es|en), the English topic sets
(tests/data/nlu_holdout.yml, nlu_blind.yml) and tests/data/nlu_blind_es.yml. Wrong examples are
printed for the development sets only, never a blind set's text.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SETS = [
    # development sets: the NLU training examples (the language rules were never fitted on them)
    ("data/nlu/spanish.yml", "es"),
    ("data/nlu/spanish_more.yml", "es"),
    ("data/nlu/recovery.yml", "en"),
    ("data/nlu/preparation.yml", "en"),
    ("data/nlu/results.yml", "en"),
    ("tests/data/triage_blind_es.yml", None),
    ("tests/data/nlu_holdout.yml", "en"),
    ("tests/data/nlu_blind.yml", "en"),
    ("tests/data/nlu_blind_es.yml", "es"),
]


def _items(data) -> list[dict]:
    """A labelled list as it is, or the examples of a Rasa NLU file."""
    if isinstance(data, list):
        return data
    out = []
    for block in data.get("nlu", []):
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- ") and block.get("intent"):
                out.append({"text": re.sub(r"\[([^\]]+)\][({][^)}]*[)}]", r"\1", line[2:])})
    return out


def main() -> int:
    from core.language import detected

    parser = argparse.ArgumentParser()
    parser.add_argument("--no-model", action="store_true", help="word counts only (as when the model is not loaded)")
    args = parser.parse_args()
    model = None
    if not args.no_model:
        from core.screening import load_screener

        model = load_screener()
    print(f"command: .venv/bin/python scripts/eval_language.py{' --no-model' if args.no_model else ''}")
    total = Counter()
    for rel, lang in SETS:
        path = REPO / rel
        if not path.exists():
            continue
        items = _items(yaml.safe_load(path.read_text(encoding="utf-8")) or [])
        counts = Counter()
        wrong_examples: list[str] = []
        for item in items:
            truth = item.get("lang", lang)
            if truth not in ("en", "es"):
                continue
            model_language = model.screen(item["text"], None).language if model is not None else None
            got = detected(item["text"], model_language)
            verdict = "kept" if got is None else ("right" if got == truth else "wrong")
            counts[(truth, verdict)] += 1
            total[(truth, verdict)] += 1
            if verdict == "wrong" and len(wrong_examples) < 5 and "blind" not in rel:
                wrong_examples.append(item["text"][:80])  # never a frozen blind set's text
        for truth in ("en", "es"):
            n = sum(v for (t, _), v in counts.items() if t == truth)
            if n:
                print(
                    f"{rel} [{truth}] n={n}: right {counts[(truth, 'right')]}, kept {counts[(truth, 'kept')]}, "
                    f"wrong {counts[(truth, 'wrong')]}"
                )
        for w in wrong_examples:
            print(f"    wrong: {w}")
    for truth in ("en", "es"):
        n = sum(v for (t, _), v in total.items() if t == truth)
        if n:
            print(
                f"ALL [{truth}] n={n}: right {total[(truth, 'right')]}, kept {total[(truth, 'kept')]}, wrong {total[(truth, 'wrong')]}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
