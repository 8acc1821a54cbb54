"""Regression guards on the labelled sets, through the same path the API uses (real stack).

Targets (issue 3 and the triage policy): topic accuracy >= 0.95 with no topic below 0.85;
0 missed red flags, 0 under-called emergencies, <= 10% false alarms.

Topics are checked on four sets (scripts/eval.py TOPIC_FLOORS, at their measured levels so that
a regression fails the build): the held-out set (469 messages, 13-14 per topic), the first blind
set (360 messages), the 649-question blind set written from topics.yml alone and the 740-question
blind Spanish set (the blind sets' messages are never printed).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from core.topics import TOPIC_IDS
from scripts.eval import CONVERSATION_SET, CONVERSATIONS_MIN_PASSED, TOPIC_FLOORS  # make eval uses the same floors

pytestmark = pytest.mark.stack
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("name", sorted(TOPIC_FLOORS))
def test_topic_accuracy_through_the_web_chat_api(stack, name):
    from scripts.eval_topics import api_predictor, evaluate, load_items

    accuracy_floor, recall_floor = TOPIC_FLOORS[name]
    predict, _ = api_predictor(stack.base_url)
    result = evaluate(load_items(DATA / name), predict, sorted(TOPIC_IDS))
    # topics the set labels (a topic only predicted, with no message of its own, has no recall)
    recalls = {topic: v["recall"] for topic, v in result["per_topic"].items() if v["support"]}
    print(
        f"{name}: topic accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}, "
        f"worst recall {min(recalls.values()):.3f}"
    )
    assert result["accuracy"] >= accuracy_floor
    assert {t: r for t, r in recalls.items() if r < recall_floor} == {}


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


def test_spanish_multi_turn_conversations_through_the_web_chat_api(stack):
    """Issue #18: at least 30 of the 36 blind Spanish conversations right in every turn (topic,
    escalation, replies in Spanish), each in one web chat session (counts only: a frozen blind set)."""
    from scripts.eval_conversations import run_conversations, summary

    items = yaml.safe_load((DATA / CONVERSATION_SET).read_text(encoding="utf-8"))
    results = run_conversations(stack.base_url, stack.token, items, "es")
    print(summary(results, quiet=True))
    assert sum(r["ok"] for r in results) >= CONVERSATIONS_MIN_PASSED
