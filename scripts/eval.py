"""Evaluate the assistant through the same path the API uses (real stack, real HTTP).

- topics: tests/data/nlu_holdout.yml and tests/data/nlu_blind.yml (written without seeing the
  training data or the other set), one fresh anonymous web chat session per message;
  per-topic precision/recall and overall accuracy (scripts/eval_topics.py does the scoring);
- triage: tests/data/triage_set.yml, triage_holdout.yml and the frozen blind sets (their messages are
  never printed) through the web chat API, each message
  from a patient whose treatment was `day` days ago (or anonymous when day is null);
  missed red flags, under-called emergencies and the false-alarm rate.

Usage: .venv/bin/python scripts/eval.py [--url http://127.0.0.1:8000 --token T] [--only topics|triage]
Without --url it starts its own stack on a free port. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.clients import patient_headers  # noqa: E402

RANK = {"none": 0, "routine": 1, "urgent": 2, "emergency": 3}

# Topic sets under tests/data -> (accuracy floor, floor on every topic's recall): regression guards
# at the measured level, not the targets (issue #15: 0.98 and no topic below 0.90 on the held-out
# and first blind sets, 0.97 on the 649-question blind set; not met, docs/nlu-pipeline.md).
# Measured 2026-11-29 through this script: held-out 0.979 (worst topic 11 of 13), first blind 0.997,
# new blind 0.921 (worst topic 14 of 18). make eval and tests/integration/test_eval.py read this.
# Spanish (issue #18): the frozen blind Spanish set, 740 questions, measured through this path
# 0.927 on 2026-12-07 (worst topic 0.75; the NLU alone 0.964), 0.941 on 2026-12-08 after 1,760 more
# Spanish examples (worst topic 0.75), guarded at 0.90 / 0.65.
TOPIC_FLOORS = {
    "nlu_holdout.yml": (0.95, 0.84),
    "nlu_blind.yml": (0.95, 0.80),
    "nlu_blind600.yml": (0.90, 0.70),
    "nlu_blind_es.yml": (0.90, 0.65),
}
# Frozen blind sets: their messages are never printed (reading them would be tuning on them).
QUIET_SETS = {"nlu_blind600.yml", "nlu_blind_es.yml"}
# Questions the clinic's guide does not answer (topic null): the share answered with a topic anyway
# (an answer to another question, or a hand-off that names the wrong request) must stay at most this.
OUT_OF_GUIDE_SET = "nlu_out_of_guide_blind.yml"
# messages that ask two things, frozen blind (written from topics.yml alone): counts only
TWO_QUESTIONS_SET = "two_questions_blind.yml"
OUT_OF_GUIDE_MAX_WRONG = 0.05
# topics that are an honest reply to a question the assistant cannot answer
HONEST_TOPICS = {None, "talk_to_staff"}  # not our vocabulary: eval bookkeeping


# Multi-turn conversations in Spanish (issue #18), one web chat session each: every turn's topic,
# escalation and reply language. A frozen blind set: counts only.
CONVERSATION_SET = "conversations_es.yml"
CONVERSATIONS_MIN_PASSED = 30
# English multi-turn conversations (issue #15: at least 100, all passing): a frozen blind set written
# from the spec and the guide alone on 2026-12-08; reported, not gated yet (77 of 100 passed at first)
CONVERSATION_SET_EN = "conversations_en.yml"


def score_conversations(base: str, token: str) -> bool:
    from scripts.eval_conversations import run_conversations, summary

    items = yaml.safe_load((ROOT / "tests" / "data" / CONVERSATION_SET).read_text(encoding="utf-8"))
    results = run_conversations(base, token, items, "es")
    print(f"\n== conversations: tests/data/{CONVERSATION_SET} (at least {CONVERSATIONS_MIN_PASSED} must pass)")
    print(summary(results, quiet=True))
    en = ROOT / "tests" / "data" / CONVERSATION_SET_EN
    if en.exists():
        english = run_conversations(base, token, yaml.safe_load(en.read_text(encoding="utf-8")), "en")
        print(f"\n== conversations: tests/data/{CONVERSATION_SET_EN} (reported; target: all pass)")
        print(summary(english, quiet=True))
    return sum(r["ok"] for r in results) >= CONVERSATIONS_MIN_PASSED


def score_out_of_guide(base: str) -> bool:
    """Out-of-guide questions: how many got a topic (a guess) instead of "no guidance, passed on"."""
    from collections import Counter

    from scripts.eval_topics import api_predictor

    items = yaml.safe_load((ROOT / "tests" / "data" / OUT_OF_GUIDE_SET).read_text(encoding="utf-8"))
    predict, _ = api_predictor(base)
    got = [predict(it["text"]) for it in items]
    wrong = [(it, g) for it, g in zip(items, got) if g not in HONEST_TOPICS]
    rate = len(wrong) / len(items)
    print(f"\n== out-of-guide questions: tests/data/{OUT_OF_GUIDE_SET} ({len(items)} messages, expected topic null)")
    print(f"answered with a topic anyway: {len(wrong)} of {len(items)} ({rate:.1%}); target at most {OUT_OF_GUIDE_MAX_WRONG:.0%}")
    print("  by topic given:", dict(Counter(g for _, g in wrong).most_common()))
    print("  by family:", dict(Counter(it.get("family") for it, _ in wrong).most_common()))
    return rate <= OUT_OF_GUIDE_MAX_WRONG


def score_two_questions(base: str) -> None:
    """Messages that ask two things (issue #15): reported, not gated (no target agreed yet)."""
    from scripts.eval_two_questions import run

    run(base, ROOT / "scripts" / "dev_sets" / "two_questions_dev.yml", quiet=True)
    blind = ROOT / "tests" / "data" / TWO_QUESTIONS_SET
    if blind.exists():
        run(base, blind, quiet=True)


async def _triage_via_api(base: str, token: str, items: list[dict], concurrency: int = 4) -> list[dict]:
    from core.clock import SystemClock

    today = SystemClock("America/New_York").today()
    out: list[dict] = [{} for _ in items]
    sem = asyncio.Semaphore(concurrency)
    stamp = int(time.time()) % 100000
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:

        async def one(i: int, item: dict) -> None:
            async with sem:
                body: dict = {}
                if item.get("day") is not None:
                    # a whole US number (11 digits): the area code varies per run, the rest per message
                    phone = f"+1{201 + stamp % 700:03d}{200 + i // 10000:03d}{i % 10000:04d}"
                    r = await c.post(
                        "/api/v1/patients",
                        json={
                            "first_name": "Eval",
                            "phone": phone,
                            "treatments": [
                                {
                                    "procedure": "microneedling",
                                    "area": "face",
                                    "performed_on": (today - timedelta(days=int(item["day"]))).isoformat(),
                                }
                            ],
                        },
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    r.raise_for_status()
                    body = {"chat_token": r.json()["chat_token"]}
                sid = (await c.post("/api/v1/chat/sessions", json=body, headers=patient_headers(i))).json()["session_id"]
                r = await c.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": item["text"]})
                r.raise_for_status()
                esc = r.json()["escalation"]
                out[i] = {**item, "got": esc["level"] if esc else "none", "topic": r.json()["topic"]}

        await asyncio.gather(*(one(i, it) for i, it in enumerate(items)))
    return out


def score_triage(name: str, rows: list[dict]) -> bool:
    # a blind set's messages are never printed: reading them would be tuning on them
    show = "blind" not in name
    red = [r for r in rows if r["expect"] in ("urgent", "emergency")]
    missed = [r for r in red if RANK[r["got"]] < RANK["urgent"]]
    emerg = [r for r in rows if r["expect"] == "emergency"]
    under = [r for r in emerg if r["got"] != "emergency"]
    calm = [r for r in rows if r["expect"] == "none"]
    false_alarms = [r for r in calm if r["got"] != "none"]
    rate = len(false_alarms) / len(calm) if calm else 0.0
    print(f"\n== triage via API: {name} ({len(rows)} messages)")
    print(f"missed red flags: {len(missed)} of {len(red)}")
    for r in missed if show else []:
        print(f"   MISSED  day={r.get('day')} expect={r['expect']} got={r['got']}: {r['text']}")
    print(f"emergencies answered below emergency: {len(under)} of {len(emerg)}")
    for r in under if show else []:
        print(f"   UNDER   day={r.get('day')} got={r['got']}: {r['text']}")
    print(f"false alarms on expected-healing/FAQ messages: {len(false_alarms)} of {len(calm)} ({rate:.1%})")
    for r in false_alarms if show else []:
        print(f"   FALSE   day={r.get('day')} got={r['got']} topic={r.get('topic')}: {r['text']}")
    return not missed and not under and rate <= 0.10


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--token")
    ap.add_argument("--only", choices=["topics", "triage", "conversations"])
    args = ap.parse_args()
    stack = None
    base, token = args.url, args.token
    if not base:
        from api.supervisor import Stack
        from core.bootstrap import prepare
        from tests.conftest import free_port

        data_dir = Path(tempfile.mkdtemp(prefix="aftercare-eval-"))
        port = free_port()
        env = {
            "AFTERCARE_ENV": "development",
            "AFTERCARE_PORT": str(port),
            "AFTERCARE_DATA_DIR": str(data_dir),
            "AFTERCARE_DATABASE_URL": f"sqlite:///{data_dir / 'eval.db'}",
            "AFTERCARE_API_TOKEN": "eval-token-0123456789abcdef",
        }
        prepare(env)
        stack = Stack(port=port, env=env, quiet=True, log_file=data_dir / "stack.log")
        stack.start(wait=True, timeout=300)
        base, token = f"http://127.0.0.1:{port}", env["AFTERCARE_API_TOKEN"]
    ok = True
    try:
        if args.only in (None, "topics"):
            from scripts.eval_topics import main as topics_main

            for name, (accuracy_floor, topic_floor) in TOPIC_FLOORS.items():
                print(f"\n== topics: tests/data/{name}")
                rc = topics_main(
                    [
                        "--via",
                        "api",
                        "--url",
                        base,
                        "--holdout",
                        str(ROOT / "tests" / "data" / name),
                        "--min-accuracy",
                        str(accuracy_floor),
                        "--min-topic",
                        str(topic_floor),
                        *(["--quiet"] if name in QUIET_SETS else []),
                    ]
                )
                ok = ok and rc == 0
            ok = score_out_of_guide(base) and ok
            score_two_questions(base)
        if args.only in (None, "conversations"):
            ok = score_conversations(base, token or "") and ok
        if args.only in (None, "triage"):
            for name in ("triage_set.yml", "triage_holdout.yml", "triage_blind_en.yml", "triage_blind_es.yml"):
                path = ROOT / "tests" / "data" / name
                if not path.exists():
                    continue
                items = yaml.safe_load(path.read_text())
                items = items.get("items", items) if isinstance(items, dict) else items
                rows = asyncio.run(_triage_via_api(base, token or "", items))
                ok = score_triage(name, rows) and ok
    finally:
        if stack is not None:
            stack.stop()
    print("\nEVAL", "PASSED" if ok else "FAILED", "- command: make eval (= .venv/bin/python scripts/eval.py)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
