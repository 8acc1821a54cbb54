#!/usr/bin/env python
"""Measure the red-flag screen on labelled sets (docs/triage-policy.md, "Targets").

    python scripts/eval_triage.py                      # the hold-out and the blind sets, lexicon + model
    python scripts/eval_triage.py --lexicon-only       # the deterministic layer alone
    python scripts/eval_triage.py --set my_set.yml -v  # one set, list every disagreement

Each set is a YAML list of {text, day (int or null), expect: none|routine|urgent|emergency}.
Prints, per set: count, missed red flags (urgent/emergency expected, lower given) with
each miss, emergencies under-called, false-alarm rate on expected-none messages and
routine accuracy. Exits 1 when any target is missed: 0 missed red flags, 0 under-called
emergencies, at most 10% false alarms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.triage import Level  # noqa: E402
from core.triage import screen as lexicon_screen  # noqa: E402

DATA = ROOT / "tests" / "data"
# triage_set.yml is also training data of the learned model: its figure there is not a measurement
DEFAULT_SETS = (DATA / "triage_set.yml", DATA / "triage_holdout.yml", DATA / "triage_blind_en.yml", DATA / "triage_blind_es.yml")
_screen = lexicon_screen


def use_model(enabled: bool) -> str:
    """Screen with the product's screener (lexicon + learned model) or the lexicon alone."""
    global _screen
    if not enabled:
        _screen = lexicon_screen
        return "lexicon alone"
    from core.screening import load_screener

    screener = load_screener(True)
    _screen = screener.screen
    return "lexicon + learned model" if screener.model is not None else f"lexicon alone ({screener.status})"


def screen(text: str, day: int | None):
    return _screen(text, day)


MAX_FALSE_ALARM_RATE = 0.10


def load_set(path: str | Path) -> list[dict[str, Any]]:
    import yaml  # only the evaluation needs PyYAML; the screen itself is stdlib-only

    with open(path, encoding="utf-8") as fh:
        items = yaml.safe_load(fh) or []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "text" not in item or item.get("expect") not in {lv.value for lv in Level}:
            raise ValueError(f"{path}: item {i} is not {{text, day, expect}}: {item!r}")
    return items


def evaluate(path: str | Path) -> dict[str, Any]:
    """Run the screen over one labelled set and return its figures."""
    items = load_set(path)
    missed: list[dict[str, Any]] = []
    under_emergency: list[dict[str, Any]] = []
    false_alarms: list[dict[str, Any]] = []
    routine_wrong: list[dict[str, Any]] = []
    n_none = n_routine = n_red = n_emergency = 0
    groups: dict[str, dict[str, int]] = {}
    started = time.perf_counter()
    for item in items:
        expect = Level(item["expect"])
        result = screen(item["text"], item.get("day"))
        got = result.level
        row = {
            "text": item["text"],
            "day": item.get("day"),
            "expect": expect.value,
            "got": got.value,
            "findings": [f"{f.code}:{f.matched}" for f in result.findings],
        }
        if expect.rank >= Level.URGENT.rank:
            n_red += 1
            if got.rank < expect.rank and got.rank < Level.URGENT.rank:
                missed.append(row)
        if expect is Level.EMERGENCY:
            n_emergency += 1
            if got is not Level.EMERGENCY:
                under_emergency.append(row)
        if expect is Level.NONE:
            n_none += 1
            if got is not Level.NONE:
                false_alarms.append(row)
        if expect is Level.ROUTINE:
            n_routine += 1
            if got is not Level.ROUTINE:
                routine_wrong.append(row)
        for key in (f"lang={item.get('lang', 'en')}", f"style={item.get('style') or '-'}"):
            g = groups.setdefault(key, {"n": 0, "red": 0, "missed": 0, "emg": 0, "under": 0, "none": 0, "fa": 0})
            g["n"] += 1
            if expect.rank >= Level.URGENT.rank:
                g["red"] += 1
                g["missed"] += int(got.rank < Level.URGENT.rank)
            if expect is Level.EMERGENCY:
                g["emg"] += 1
                g["under"] += int(got is not Level.EMERGENCY)
            if expect is Level.NONE:
                g["none"] += 1
                g["fa"] += int(got is not Level.NONE)
    elapsed = time.perf_counter() - started
    fa_rate = len(false_alarms) / n_none if n_none else 0.0
    return {
        "path": str(path),
        "count": len(items),
        "red_flags": n_red,
        "emergencies": n_emergency,
        "none": n_none,
        "routine": n_routine,
        "missed_red_flags": missed,
        "under_called_emergencies": under_emergency,
        "false_alarms": false_alarms,
        "false_alarm_rate": fa_rate,
        "routine_wrong": routine_wrong,
        "routine_accuracy": (n_routine - len(routine_wrong)) / n_routine if n_routine else 1.0,
        "ms_per_message": 1000 * elapsed / max(len(items), 1),
        "passed": not missed and not under_emergency and fa_rate <= MAX_FALSE_ALARM_RATE,
        "groups": groups,
    }


def _row(r: dict[str, Any]) -> str:
    return f"    [{r['expect']} -> {r['got']}] day={r['day']} {r['text']!r} {r['findings']}"


def report(fig: dict[str, Any], verbose: bool = False, quiet: bool = False) -> str:
    lines = [
        f"== {fig['path']}",
        f"  messages: {fig['count']}  (red flags {fig['red_flags']}, emergencies {fig['emergencies']}, "
        f"none {fig['none']}, routine {fig['routine']}; {fig['ms_per_message']:.2f} ms/message)",
        f"  missed red flags: {len(fig['missed_red_flags'])}",
    ]
    lines += [] if quiet else [_row(r) for r in fig["missed_red_flags"]]
    lines.append(f"  emergencies under-called: {len(fig['under_called_emergencies'])}")
    lines += [] if quiet else [_row(r) for r in fig["under_called_emergencies"]]
    lines.append(
        f"  false alarms on expected-none: {len(fig['false_alarms'])}/{fig['none']} "
        f"= {100 * fig['false_alarm_rate']:.1f}% (target <= {100 * MAX_FALSE_ALARM_RATE:.0f}%)"
    )
    if verbose or (fig["false_alarm_rate"] > MAX_FALSE_ALARM_RATE and not quiet):
        lines += [_row(r) for r in fig["false_alarms"]]
    lines.append(
        f"  routine accuracy: {fig['routine'] - len(fig['routine_wrong'])}/{fig['routine']} "
        f"= {100 * fig['routine_accuracy']:.1f}%"
    )
    if verbose:
        lines += [_row(r) for r in fig["routine_wrong"]]
    groups = fig.get("groups") or {}
    if len([k for k in groups if k.startswith("lang=")]) > 1 or any(k != "style=-" for k in groups if k.startswith("style=")):
        lines.append("  by language and style: missed red flags / under-called emergencies / false alarms")
        for key in sorted(groups):
            g = groups[key]
            lines.append(
                f"    {key:<22} n={g['n']:<4} missed {g['missed']}/{g['red']}  under {g['under']}/{g['emg']}  "
                f"false alarms {g['fa']}/{g['none']}"
            )
    lines.append(f"  targets: {'PASS' if fig['passed'] else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--set",
        dest="sets",
        action="append",
        metavar="PATH",
        help="labelled YAML set (repeatable); default: tests/data/triage_set.yml and triage_holdout.yml",
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="also list false alarms and routine misses")
    ap.add_argument("--lexicon-only", action="store_true", help="screen with the deterministic layer alone")
    ap.add_argument("-q", "--quiet", action="store_true", help="do not list each miss")
    args = ap.parse_args(argv)
    print(f"screen: {use_model(not args.lexicon_only)}")
    ok = True
    for path in args.sets or [str(p) for p in DEFAULT_SETS]:
        fig = evaluate(path)
        print(report(fig, args.verbose, args.quiet))
        ok = ok and fig["passed"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
