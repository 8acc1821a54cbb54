#!/usr/bin/env python
"""Topic accuracy of the assistant on a labelled set of patient messages.

Each item of the set is ``{text, topic}`` where ``topic`` is an id from
docs/spec/topics.yml. A prediction is the topic the assistant reports for
the message, or ``None`` (no topic: fallback, clarifying question, helper
intent such as affirm).

Two ways to get predictions:

``--via api --url http://127.0.0.1:8000`` (the official one)
    For every item: ``POST /api/v1/chat/sessions {}`` -> ``session_id``, then
    ``POST /api/v1/chat/sessions/{id}/messages {"text": ...}`` and read
    ``topic``. A fresh session per item, so no item sees another's context.

``--via rasa-model PATH`` (development)
    Loads a trained Rasa model (a .tar.gz or a folder of them, newest wins)
    in-process and parses each text; the topic is the predicted intent when it
    is a topic id, else ``None`` (``nlu_fallback``, ``affirm``, ...).

Prints per-topic precision / recall / F1, overall accuracy, macro-F1 and the
confusions of the worst topics. ``--min-accuracy`` and ``--min-topic`` (a
floor on every topic's recall, i.e. its own accuracy) make it exit 1 when the
set is below them.

Importable: ``evaluate(items, predict, topic_ids=...) -> dict``;
``rasa_model_predictor(path)`` and ``api_predictor(url)`` build ``predict``.

Example::

    RASA_TELEMETRY_ENABLED=false python scripts/eval_topics.py \
        --via rasa-model models/ --min-accuracy 0.95 --min-topic 0.85
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Iterable, Sequence

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_HOLDOUT = REPO / "tests" / "data" / "nlu_holdout.yml"
DEFAULT_TOPICS_CANDIDATES = (REPO / "docs" / "spec" / "topics.yml",)

Predict = Callable[[str], str | None]


# --------------------------------------------------------------------------- data
def load_topic_ids(path: Path | None = None) -> list[str]:
    """Topic ids of topics.yml (the second level: group -> topic id -> facts)."""
    candidates = [Path(path)] if path else list(DEFAULT_TOPICS_CANDIDATES)
    env = os.environ.get("AFTERCARE_TOPICS_FILE")
    if env and not path:
        candidates.insert(0, Path(env))
    for candidate in candidates:
        if candidate.is_file():
            data = yaml.safe_load(candidate.read_text(encoding="utf-8"))
            ids: list[str] = []
            for group in data.values():
                if isinstance(group, dict):
                    ids.extend(group.keys())
            return ids
    raise FileNotFoundError("topics.yml not found; pass --topics (tried: " + ", ".join(str(c) for c in candidates) + ")")


def load_items(path: Path = DEFAULT_HOLDOUT) -> list[dict]:
    """The labelled set: a YAML list of {text, topic}."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):  # tolerate {items: [...]}
        data = data.get("items") or data.get("examples") or []
    items = [{"text": str(d["text"]), "topic": d["topic"], **({"style": d["style"]} if d.get("style") else {})} for d in data]
    if not items:
        raise ValueError(f"no items in {path}")
    return items


# --------------------------------------------------------------------- predictors
def rasa_model_predictor(model_path: str | Path, topic_ids: Iterable[str]):
    """Load a Rasa model in-process. Returns (predict, info) where
    ``predict(text) -> topic|None`` and ``info`` holds ``load_seconds`` and the
    last raw parse in ``info['last']`` (intent, confidence, ranking)."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    import asyncio
    import logging

    logging.getLogger("rasa").setLevel(logging.ERROR)
    from rasa.core.agent import Agent
    from rasa.model import get_local_model
    from rasa.utils.log_utils import configure_structlog

    # Rasa's structured log prints every parsed text at debug level: a frozen blind set must stay
    # unread by whoever tunes on the other sets, so only warnings and errors get through
    configure_structlog(logging.WARNING)

    topics = set(topic_ids)
    started = time.perf_counter()
    model_file = get_local_model(str(model_path))
    agent = Agent.load(model_file)
    info: dict = {"load_seconds": time.perf_counter() - started, "model": model_file}
    loop = asyncio.new_event_loop()

    def predict(text: str) -> str | None:
        parsed = loop.run_until_complete(agent.parse_message(text))
        intent = (parsed.get("intent") or {}).get("name")
        info["last"] = parsed
        return intent if intent in topics else None

    return predict, info


def api_predictor(url: str, timeout: float = 30.0, token: str | None = None):
    """Predict through the public web chat API, a fresh session per message."""
    import httpx

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from scripts.clients import patient_headers

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers=headers)
    info: dict = {"load_seconds": None}

    def predict(text: str) -> str | None:
        r = client.post("/api/v1/chat/sessions", json={}, headers=patient_headers())
        r.raise_for_status()
        session_id = r.json()["session_id"]
        r = client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": text})
        r.raise_for_status()
        body = r.json()
        info["last"] = body
        return body.get("topic")

    return predict, info


# ---------------------------------------------------------------------- evaluation
def evaluate(
    items: Sequence[dict],
    predict: Predict,
    topic_ids: Iterable[str] | None = None,
    *,
    predictions: Sequence[str | None] | None = None,
) -> dict:
    """Score ``predict`` (or precomputed ``predictions``) on ``items``.

    Returns a dict with ``accuracy``, ``macro_f1``, ``n``, ``per_topic``
    ({topic: {precision, recall, f1, support}}), ``worst_topic``,
    ``confusions`` ({gold: Counter(predicted)} of the errors), ``errors``
    (list of {text, topic, predicted}) and ``latency_ms`` (p50/p95/mean of
    predict calls, when ``predict`` was called).
    """
    latencies: list[float] = []
    if predictions is None:
        predictions = []
        for item in items:
            t0 = time.perf_counter()
            predictions.append(predict(item["text"]))
            latencies.append((time.perf_counter() - t0) * 1000)
    golds = [it["topic"] for it in items]
    labels = sorted(set(golds) | set(topic_ids or []))

    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    support: Counter = Counter(golds)
    confusions: dict = defaultdict(Counter)
    errors = []
    for item, gold, pred in zip(items, golds, predictions):
        if pred == gold:
            tp[gold] += 1
        else:
            fn[gold] += 1
            if pred is not None:
                fp[pred] += 1
            confusions[gold][pred] += 1
            errors.append({"text": item["text"], "topic": gold, "predicted": pred})

    per_topic = {}
    for label in labels:
        if support[label] == 0 and fp[label] == 0:
            continue
        p = tp[label] / (tp[label] + fp[label]) if (tp[label] + fp[label]) else 0.0
        r = tp[label] / support[label] if support[label] else 0.0
        f = 2 * p * r / (p + r) if (p + r) else 0.0
        per_topic[label] = {"precision": p, "recall": r, "f1": f, "support": support[label]}

    scored = {k: v for k, v in per_topic.items() if v["support"]}
    accuracy = sum(tp.values()) / len(items)
    macro_f1 = statistics.mean(v["f1"] for v in scored.values()) if scored else 0.0
    worst = min(scored, key=lambda k: (scored[k]["recall"], scored[k]["f1"])) if scored else None
    by_style: dict = defaultdict(lambda: [0, 0])
    for item, gold, pred in zip(items, golds, predictions):
        if item.get("style"):
            by_style[item["style"]][0] += pred == gold
            by_style[item["style"]][1] += 1
    result = {
        "by_style": {k: {"right": v[0], "n": v[1]} for k, v in sorted(by_style.items())},
        "n": len(items),
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "per_topic": per_topic,
        "worst_topic": worst,
        "worst_topic_recall": scored[worst]["recall"] if worst else None,
        "confusions": {k: dict(v) for k, v in confusions.items()},
        "errors": errors,
        "predictions": list(predictions),
    }
    if latencies:
        ordered = sorted(latencies)
        result["latency_ms"] = {
            "p50": statistics.median(ordered),
            "p95": ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))],
            "mean": statistics.mean(ordered),
        }
    return result


def format_report(result: dict, worst_n: int = 6, *, show_texts: bool = True) -> str:
    lines = [f"{'topic':<24} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}"]
    for topic, m in sorted(result["per_topic"].items()):
        lines.append(f"{topic:<24} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:4d}")
    lines.append("")
    lines.append(
        f"accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  "
        f"n={result['n']}  worst {result['worst_topic']} "
        f"(recall {result['worst_topic_recall']:.3f})"
    )
    if result.get("by_style"):
        lines.append(
            "by style: "
            + ", ".join(f"{k} {v['right']}/{v['n']} ({v['right'] / v['n']:.3f})" for k, v in result["by_style"].items())
        )
    if "latency_ms" in result:
        lat = result["latency_ms"]
        lines.append(f"latency ms p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}")
    scored = {k: v for k, v in result["per_topic"].items() if v["support"]}
    worst = sorted(scored, key=lambda k: (scored[k]["recall"], scored[k]["f1"]))[:worst_n]
    lines.append("")
    lines.append("confusions of the worst topics (gold -> predicted x count):")
    for topic in worst:
        conf = result["confusions"].get(topic)
        if not conf:
            continue
        pretty = ", ".join(f"{p} x{c}" for p, c in sorted(conf.items(), key=lambda kv: -kv[1]))
        lines.append(f"  {topic}: {pretty}")
        for err in result["errors"] if show_texts else []:
            if err["topic"] == topic:
                lines.append(f"      {err['text']!r} -> {err['predicted']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--via", choices=["api", "rasa-model"], required=True)
    ap.add_argument("model", nargs="?", help="model path (with --via rasa-model)")
    ap.add_argument("--model", dest="model_opt", help="model path (alternative spelling)")
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--token", default=None, help="optional bearer token for the API")
    ap.add_argument("--holdout", type=Path, default=DEFAULT_HOLDOUT)
    ap.add_argument("--topics", type=Path, default=None, help="path to topics.yml")
    ap.add_argument("--min-accuracy", type=float, default=None)
    ap.add_argument("--min-topic", type=float, default=None, help="floor on every topic's recall")
    ap.add_argument("--json", type=Path, default=None, help="also write the result here")
    ap.add_argument("-q", "--quiet", action="store_true", help="never print a message (for frozen blind sets)")
    args = ap.parse_args(argv)

    topic_ids = load_topic_ids(args.topics)
    items = load_items(args.holdout)
    unknown = sorted({it["topic"] for it in items} - set(topic_ids))
    if unknown:
        print(f"holdout uses topics not in topics.yml: {unknown}", file=sys.stderr)
        return 2

    if args.via == "rasa-model":
        model = args.model or args.model_opt
        if not model:
            ap.error("--via rasa-model needs a model path")
        predict, info = rasa_model_predictor(model, topic_ids)
        print(f"loaded {info['model']} in {info['load_seconds']:.1f}s")
    else:
        predict, info = api_predictor(args.url, token=args.token)

    result = evaluate(items, predict, topic_ids)
    print(format_report(result, show_texts=not args.quiet))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")

    failed = []
    if args.min_accuracy is not None and result["accuracy"] < args.min_accuracy:
        failed.append(f"accuracy {result['accuracy']:.4f} < {args.min_accuracy}")
    if args.min_topic is not None:
        low = {k: v["recall"] for k, v in result["per_topic"].items() if v["support"] and v["recall"] < args.min_topic}
        if low:
            failed.append("topics below {}: {}".format(args.min_topic, ", ".join(f"{k} {v:.3f}" for k, v in sorted(low.items()))))
    if failed:
        print("FAIL: " + "; ".join(failed))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
