#!/usr/bin/env python
"""Latency and memory of the red-flag screen, lexicon alone and with the learned model.

    .venv/bin/python scripts/bench_screen.py [--json out.json]

Screens every message of the hold-out set (tests/data/triage_holdout.yml: short SMS to long
run-on messages) three times, one at a time, as the API does; prints p50/p95 per message and
the process's extra resident memory once the model is loaded and warm. Run in a process of its
own so the memory figure is the screen's alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))], 2)


def measure(screen, items: list[dict], rounds: int = 3) -> dict:
    times = []
    for _ in range(rounds):
        for it in items:
            t = time.perf_counter()
            screen(it["text"], it.get("day"))
            times.append((time.perf_counter() - t) * 1000)
    return {"messages": len(times), "p50_ms": pct(times, 50), "p95_ms": pct(times, 95), "max_ms": round(max(times), 1)}


def main() -> int:
    import yaml

    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    items = yaml.safe_load((ROOT / "tests" / "data" / "triage_holdout.yml").read_text(encoding="utf-8"))
    from core.triage import screen

    before = rss_mb()
    out = {"lexicon": measure(screen, items)}
    from core.screening import load_screener

    started = time.perf_counter()
    screener = load_screener(True)
    out["model_load_s"] = round(time.perf_counter() - started, 2)
    if screener.model is None:
        print(f"learned model not loaded: {screener.status}", file=sys.stderr)
        return 1
    out["lexicon_and_model"] = measure(screener.screen, items)
    out["threads"] = int(__import__("os").environ.get("OMP_NUM_THREADS", "0"))
    out["extra_memory_mb"] = round(rss_mb() - before, 1)
    out["mean_chars"] = round(sum(len(i["text"]) for i in items) / len(items))
    print(json.dumps(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
