"""Regression guards on the labelled sets, through the same path the API uses (real stack).

Targets (issue 3 and the triage policy): topic accuracy >= 0.95 with no topic below 0.85;
0 missed red flags, 0 under-called emergencies, <= 10% false alarms. The topic floor here is
the measured level (0.946 accuracy, worst topic 0.846 on 2026-11-26) so that any regression
fails the build; `make eval` prints the figures against the targets themselves.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from core.topics import TOPIC_IDS

pytestmark = pytest.mark.stack
DATA = Path(__file__).resolve().parents[1] / "data"
TOPIC_ACCURACY_FLOOR = 0.94
TOPIC_RECALL_FLOOR = 0.80


def test_topic_accuracy_through_the_web_chat_api(stack):
    from scripts.eval_topics import api_predictor, evaluate, load_items

    predict, _ = api_predictor(stack.base_url)
    result = evaluate(load_items(DATA / "nlu_holdout.yml"), predict, sorted(TOPIC_IDS))
    worst = min(v["recall"] for v in result["per_topic"].values())
    print(f"topic accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}, worst recall {worst:.3f}")
    assert result["accuracy"] >= TOPIC_ACCURACY_FLOOR
    assert worst >= TOPIC_RECALL_FLOOR


def test_triage_holdout_through_the_web_chat_api(stack):
    from scripts.eval import RANK, _triage_via_api

    items = yaml.safe_load((DATA / "triage_holdout.yml").read_text())
    rows = asyncio.run(_triage_via_api(stack.base_url, stack.token, items))
    missed = [r for r in rows if r["expect"] in ("urgent", "emergency") and RANK[r["got"]] < RANK["urgent"]]
    under = [r for r in rows if r["expect"] == "emergency" and r["got"] != "emergency"]
    calm = [r for r in rows if r["expect"] == "none"]
    false_alarms = [r for r in calm if r["got"] != "none"]
    assert not missed, missed
    assert not under, under
    assert len(false_alarms) <= 0.10 * len(calm), false_alarms
