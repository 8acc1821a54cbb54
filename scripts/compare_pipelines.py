#!/usr/bin/env python
"""Train candidate NLU pipelines and compare them on the held-out set.

For each pipeline: ``rasa train nlu`` (wall-clock seconds), then, in a fresh
process, ``Agent.load`` (seconds) and one parse per held-out message
(p50 / p95 latency), scored with ``evaluate`` of scripts/eval_topics.py (accuracy,
macro-F1, worst topic). The candidate configs carry no FallbackClassifier;
its effect is replayed exactly from each parse's intent ranking (the
classifier falls back when the top confidence is below ``threshold`` or the
top two are closer than ``ambiguity_threshold``), so one training per
pipeline gives the whole threshold sweep. A small list of noise messages
(gibberish, fragments) shows what each setting does with text that has no
answerable topic.

Writes a markdown report (``--out``, default: stdout only) and the raw
numbers as JSON beside it (same name, ``.json``).

    RASA_TELEMETRY_ENABLED=false python scripts/compare_pipelines.py \
        --only a,b,c,e,f,g --workdir /tmp/nlu_compare --out /tmp/nlu_compare.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import eval_topics  # noqa: E402

HEADER = """recipe: default.v1
language: en
assistant_id: aftercare
pipeline:
"""

_LEXICONS = """  - name: RegexFeaturizer
    case_sensitive: false
    use_word_boundaries: true
"""
_WORDS_1_2 = """  - name: CountVectorsFeaturizer
    min_ngram: 1
    max_ngram: 2
"""
_CHARS_2_5 = """  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 2
    max_ngram: 5
"""
_REGEX_ENTITIES = """  - name: RegexEntityExtractor
    case_sensitive: false
    use_lookup_tables: true
    use_regexes: false
    use_word_boundaries: true
  - name: EntitySynonymMapper
"""
_LOGREG = """  - name: LogisticRegressionClassifier
    max_iter: 1000
"""

_TUNED = """  - name: bot.nlu.classifiers.TunedLogisticRegressionClassifier
    max_iter: 1000
    C: 10
    weighting: {weighting}
    block_scale: 3.0
"""

PIPELINES: dict[str, tuple[str, str]] = {
    "a": (
        "DIET (Rasa default)",
        """  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
  - name: EntitySynonymMapper
""",
    ),
    "b": (
        "LogReg: words + char_wb 2-5",
        """  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
"""
        + _CHARS_2_5
        + _LOGREG
        + _REGEX_ENTITIES,
    ),
    "c": (
        "LogReg: word 1-2 grams + char_wb 2-5",
        "  - name: WhitespaceTokenizer\n" + _WORDS_1_2 + _CHARS_2_5 + _LOGREG + _REGEX_ENTITIES,
    ),
    "e": (
        "LogReg + lexicons: RegexFeaturizer + word 1-2 grams + char_wb 2-5",
        "  - name: WhitespaceTokenizer\n" + _LEXICONS + _WORDS_1_2 + _CHARS_2_5 + _LOGREG + _REGEX_ENTITIES,
    ),
    "f": (
        "LogReg + lexicons, word 1-3 grams + char_wb 1-5",
        "  - name: WhitespaceTokenizer\n"
        + _LEXICONS
        + _WORDS_1_2.replace("max_ngram: 2", "max_ngram: 3")
        + _CHARS_2_5.replace("min_ngram: 2", "min_ngram: 1")
        + _LOGREG
        + _REGEX_ENTITIES,
    ),
    "g": (
        "LogReg (liblinear, one-vs-rest) + lexicons, word 1-2 grams + char_wb 2-5",
        "  - name: WhitespaceTokenizer\n"
        + _LEXICONS
        + _WORDS_1_2
        + _CHARS_2_5
        + _LOGREG
        + "    solver: liblinear\n"
        + _REGEX_ENTITIES,
    ),
    "h": (
        "LogReg C=10 + lexicons, word 1-2 grams + char_wb 2-5 (raw counts)",
        "  - name: WhitespaceTokenizer\n"
        + _LEXICONS
        + _WORDS_1_2
        + _CHARS_2_5
        + _TUNED.format(weighting="count")
        + _REGEX_ENTITIES,
    ),
    "i": (
        "LogReg C=10 + lexicons, word 1-2 grams + char_wb 2-5, TF-IDF weighted, norm floor 0.7",
        "  - name: WhitespaceTokenizer\n"
        + _LEXICONS
        + _WORDS_1_2
        + _CHARS_2_5
        + _TUNED.format(weighting="tfidf")
        + "    norm_floor: 0.7\n"
        + _REGEX_ENTITIES,
    ),
}
# (i) plus the sentence encoder's meaning (bot/nlu/featurizers.py) at three weights beside the counts.
for _key, _scale in (("j", 1.5), ("k", 3.0), ("l", 5.0)):
    PIPELINES[_key] = (
        f"(i) + sentence encoder (multilingual-e5-small), scale {_scale}",
        PIPELINES["i"][1].replace(
            "  - name: bot.nlu.classifiers.",
            f"  - name: bot.nlu.featurizers.SentenceEncoderFeaturizer\n    scale: {_scale}\n  - name: bot.nlu.classifiers.",
            1,
        ),
    )

# Messages with no answerable topic (gibberish, fragments without context).
# A good fallback setting sends these to nlu_fallback or to a conversation
# intent rather than to a specific FAQ topic ("noise -> FAQ" in the sweep).
NOISE = (
    "asdfgh",
    "hmm",
    "???",
    "idk",
    "lol",
    "wait what",
    "umm",
    "qwerty uiop",
    "blah blah",
    "123",
    "test",
    "the thing",
    "and then",
    "so yeah",
    "huh",
    "ok so about that",
    "whatever",
    "...",
    "what",
    "it",
    "no idea honestly",
    "jkjkjk",
    "brb",
    "hmm not sure",
    "random",
    "purple monkey dishwasher",
    "can you",
    "i was wondering",
    "is it",
    "tell me",
)

CONVERSATION = {"greet", "goodbye", "thanks", "bot_challenge", "out_of_scope"}

THRESHOLDS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6)
AMBIGUITIES = (0.0, 0.05, 0.1)


def config_text(key: str) -> str:
    return HEADER + PIPELINES[key][1] + "policies: []\n"


def rasa_bin() -> str:
    candidate = Path(sys.executable).with_name("rasa")
    return str(candidate) if candidate.exists() else "rasa"


def train(key: str, workdir: Path) -> tuple[Path, float]:
    cfg = workdir / f"config_{key}.yml"
    cfg.write_text(config_text(key), encoding="utf-8")
    out = workdir / f"models_{key}"
    cmd = [
        rasa_bin(),
        "train",
        "nlu",
        "--config",
        str(cfg),
        "--nlu",
        str(REPO / "data" / "nlu"),
        "--domain",
        str(REPO / "bot" / "domain"),
        "--out",
        str(out),
        "--fixed-model-name",
        key,
    ]
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    (workdir / f"train_{key}.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"training {key} failed, see {workdir}/train_{key}.log")
    return out / f"{key}.tar.gz", seconds


def measure_in_subprocess(model: Path, holdout: Path, result_file: Path, second: Path | None = None) -> dict:
    """Load + parse in a fresh interpreter, so load time is not flattered."""
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    cmd = [sys.executable, __file__, "--_measure", str(model), "--holdout", str(holdout), "--_result", str(result_file)]
    if second is not None:
        cmd += ["--second-set", str(second)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(result_file.read_text(encoding="utf-8"))


def _ranking(parsed: dict) -> list:
    return [(r["name"], float(r["confidence"])) for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]


def _measure(model: str, holdout: Path, result_file: Path, second: Path | None = None) -> None:
    """Child process: load the model, parse every held-out text, dump raw parses."""
    import asyncio
    import logging
    import statistics

    logging.getLogger("rasa").setLevel(logging.ERROR)
    from rasa.core.agent import Agent

    started = time.perf_counter()
    agent = Agent.load(model)
    load_seconds = time.perf_counter() - started
    items = eval_topics.load_items(holdout)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(agent.parse_message("warm up"))
    parses, latencies = [], []
    for item in items:
        t0 = time.perf_counter()
        parsed = loop.run_until_complete(agent.parse_message(item["text"]))
        latencies.append((time.perf_counter() - t0) * 1000)
        parses.append(
            {
                "ranking": _ranking(parsed),
                "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in parsed.get("entities", [])],
            }
        )
    noise = [{"ranking": _ranking(loop.run_until_complete(agent.parse_message(t)))} for t in NOISE]
    second_parses = [
        {"ranking": _ranking(loop.run_until_complete(agent.parse_message(item["text"])))}
        for item in (eval_topics.load_items(second) if second is not None else [])
    ]
    ordered = sorted(latencies)
    result_file.write_text(
        json.dumps(
            {
                "load_seconds": load_seconds,
                "latency_ms": {
                    "p50": statistics.median(ordered),
                    "p95": ordered[int(round(0.95 * (len(ordered) - 1)))],
                },
                "parses": parses,
                "noise": noise,
                "second_parses": second_parses,
            }
        ),
        encoding="utf-8",
    )


def replay_fallback(parses: list, topic_ids: set, threshold: float, ambiguity: float) -> list:
    """Topic per parse as the FallbackClassifier would leave it."""
    out = []
    for p in parses:
        ranking = p["ranking"]
        if not ranking:
            out.append(None)
            continue
        name, conf = ranking[0]
        second = ranking[1][1] if len(ranking) > 1 else 0.0
        if conf < threshold or (conf - second) < ambiguity:
            out.append(None)
        else:
            out.append(name if name in topic_ids else None)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--only",
        default="a,b,c,e,f,g",
        help="comma list of pipeline keys: " + "; ".join(f"{k}={v[0]}" for k, v in PIPELINES.items()),
    )
    ap.add_argument("--holdout", type=Path, default=eval_topics.DEFAULT_HOLDOUT)
    ap.add_argument(
        "--second-set", type=Path, default=None, help="a second labelled set scored too (e.g. tests/data/nlu_blind.yml)"
    )
    ap.add_argument("--topics", type=Path, default=None)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None, help="markdown report path")
    ap.add_argument("--reuse", action="store_true", help="reuse models already in --workdir")
    ap.add_argument("--_measure", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_result", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._measure:
        _measure(args._measure, args.holdout, args._result, args.second_set)
        return 0

    topic_ids = eval_topics.load_topic_ids(args.topics)
    faq_ids = set(topic_ids) - CONVERSATION
    items = eval_topics.load_items(args.holdout)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nlu_compare_"))
    workdir.mkdir(parents=True, exist_ok=True)
    keys = [k.strip() for k in args.only.split(",") if k.strip()]

    rows, sweeps, raw = [], {}, {}
    for key in keys:
        model = workdir / f"models_{key}" / f"{key}.tar.gz"
        if args.reuse and model.exists():
            train_seconds = json.loads((workdir / f"train_{key}.json").read_text())["seconds"]
        else:
            print(f"[{key}] training {PIPELINES[key][0]} ...", flush=True)
            model, train_seconds = train(key, workdir)
            (workdir / f"train_{key}.json").write_text(json.dumps({"seconds": train_seconds}))
        print(f"[{key}] trained in {train_seconds:.0f}s; measuring ...", flush=True)
        measured = measure_in_subprocess(model, args.holdout, workdir / f"measure_{key}.json", args.second_set)
        if args.second_set is not None:
            second_items = eval_topics.load_items(args.second_set)
            second_preds = replay_fallback(measured["second_parses"], set(topic_ids), 0.0, 0.0)
            measured["second"] = eval_topics.evaluate(second_items, None, topic_ids, predictions=second_preds)
        preds = replay_fallback(measured["parses"], set(topic_ids), 0.0, 0.0)
        res = eval_topics.evaluate(items, None, topic_ids, predictions=preds)
        sweep = {}
        for thr in THRESHOLDS:
            for amb in AMBIGUITIES:
                p = replay_fallback(measured["parses"], set(topic_ids), thr, amb)
                r = eval_topics.evaluate(items, None, topic_ids, predictions=p)
                n = replay_fallback(measured["noise"], faq_ids, thr, amb)
                sweep[(thr, amb)] = (r["accuracy"], sum(x is None for x in p), sum(x is not None for x in n))
        sweeps[key] = sweep
        raw[key] = {
            "name": PIPELINES[key][0],
            "train_seconds": train_seconds,
            "load_seconds": measured["load_seconds"],
            "latency_ms": measured["latency_ms"],
            "accuracy": res["accuracy"],
            "macro_f1": res["macro_f1"],
            "worst_topic": res["worst_topic"],
            "worst_topic_recall": res["worst_topic_recall"],
            "sweep": {f"{t}/{a}": v for (t, a), v in sweep.items()},
            "errors": res["errors"],
        }
        rows.append((key, PIPELINES[key][0], res, train_seconds, measured))
        print(
            f"[{key}] accuracy {res['accuracy']:.4f} macro-F1 {res['macro_f1']:.4f} "
            f"worst {res['worst_topic']} {res['worst_topic_recall']:.2f}",
            flush=True,
        )

    try:
        shown = args.holdout.resolve().relative_to(REPO)
    except ValueError:
        shown = args.holdout
    lines = [
        f"Held-out set: `{shown}` ({len(items)} messages, "
        f"{len(set(i['topic'] for i in items))} topics). Date: {dt.date.today().isoformat()}. "
        f"Machine: {os.cpu_count()} cores. Accuracy in this table is before any fallback threshold.",
        "",
        "| pipeline | held-out accuracy | macro-F1 | worst topic (recall) | `rasa train nlu` s "
        "| model load s | parse p50 ms | parse p95 ms |" + (" second-set accuracy (worst topic) |" if args.second_set else ""),
        "| --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if args.second_set else ""),
    ]
    for key, name, res, train_seconds, measured in rows:
        lines.append(
            f"| ({key}) {name} | {res['accuracy']:.3f} | {res['macro_f1']:.3f} | "
            f"{res['worst_topic']} ({res['worst_topic_recall']:.3f}) | {train_seconds:.0f} | "
            f"{measured['load_seconds']:.1f} | {measured['latency_ms']['p50']:.1f} | "
            f"{measured['latency_ms']['p95']:.1f} |"
            + (
                f" {measured['second']['accuracy']:.3f} ({measured['second']['worst_topic']} "
                f"{measured['second']['worst_topic_recall']:.3f}) |"
                if "second" in measured
                else ""
            )
        )
    lines += [
        "",
        "Fallback sweep by `threshold` / `ambiguity_threshold`: held-out accuracy "
        "(held-out messages left without a topic) / noise messages answered with a "
        f"specific FAQ topic (of {len(NOISE)}; lower is better).",
        "",
    ]
    for key in keys:
        lines.append(f"({key}) {PIPELINES[key][0]}")
        lines.append("")
        lines.append("| threshold | " + " | ".join(f"ambiguity {a}" for a in AMBIGUITIES) + " |")
        lines.append("| --- |" + " --- |" * len(AMBIGUITIES))
        for thr in THRESHOLDS:
            cells = [
                f"{sweeps[key][(thr, a)][0]:.3f} ({sweeps[key][(thr, a)][1]}) / {sweeps[key][(thr, a)][2]}" for a in AMBIGUITIES
            ]
            lines.append(f"| {thr} | " + " | ".join(cells) + " |")
        lines.append("")
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
