#!/usr/bin/env python
"""Messages that ask two things (issue #15): does the reply answer both, and name the first?

Each item is ``{text, topics: [first, second] | [only], lang, style}``. Through the public web
chat API (a fresh anonymous session per message, so no treatment date is known), a message counts
as **answered** when every topic it asks is answered and ``topic`` names the first. A topic is
answered when the reply carries the opening of that topic's own answer, rendered here from
``core.answers`` in the item's language (the same text the assistant gives for that topic alone,
for any day; for clinic_info, the labels of the clinic's hours or address). An answer for a day
the patient named ("tomorrow you'll be on day 4: ...") is not recognised, so "every question
answered" is a lower bound; "topic right" is exact.

    .venv/bin/python scripts/eval_two_questions.py --url http://127.0.0.1:8000 \\
        --set scripts/dev_sets/two_questions_dev.yml
    # the frozen blind set: counts only (its messages are never printed)
    .venv/bin/python scripts/eval_two_questions.py --url ... --set tests/data/two_questions_blind.yml -q

Prints, by language and style: how many messages, ``topic`` right, every question answered.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

OPENING = 40  # characters of a topic's answer that identify it in a reply


@functools.cache
def answer_markers(topic: str, language: str) -> tuple[str, ...]:
    """What shows that ``topic`` was answered: the first characters of its answer alone, for no
    known day and for each day 0-45 (the default clinic, each concern for results_for_concern); for
    clinic_info also the labels of the clinic's own details, which a clinic with hours or an address
    set gives instead. An answer for a later day the patient named ("tomorrow you'll be on day 4")
    opens differently and is not recognised: the figure is a lower bound."""
    from core import answers, content

    mark = "\x00"
    found: set[str] = set()
    concerns = [None] + (
        ["acne_scars", "fine_lines", "hyperpigmentation", "pores", "stretch_marks"] if topic == "results_for_concern" else []
    )
    with content.speaking(language):
        for day in [None, *range(46)]:
            for concern in concerns:
                replies = answers.answer(topic, day, channel="web", concern=concern)
                if replies:
                    found.add(replies[0].text[:OPENING])
        if topic == "clinic_info":
            found |= {
                answers.say(key, **{field: mark}).split(mark)[0]
                for key, field in (("clinic_hours", "hours"), ("clinic_address", "address"))
            }
    return tuple(m for m in found if m.strip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--set", type=Path, default=REPO / "scripts" / "dev_sets" / "two_questions_dev.yml")
    ap.add_argument("-q", "--quiet", action="store_true", help="never print a message (frozen blind sets)")
    args = ap.parse_args(argv)
    run(args.url, args.set.resolve(), quiet=args.quiet)
    return 0


def run(url: str, path: Path, *, quiet: bool) -> float:
    """Print the report for the set at ``path``; returns the share of messages with every question answered."""
    from scripts.eval_topics import api_predictor

    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    predict, info = api_predictor(url)
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in items:
        topics, lang = list(item["topics"]), item.get("lang", "en")
        got = predict(item["text"])
        said = " ".join(r.get("text", "") for r in (info.get("last") or {}).get("replies") or [])
        first_right = got == topics[0]
        every = first_right and all(any(m in said for m in answer_markers(t, lang)) for t in topics)
        row = rows[(lang, item.get("style", ""))]
        row[0] += 1
        row[1] += first_right
        row[2] += every
        if not every and not quiet:
            print(f"  miss [{lang}/{item.get('style')}] {topics} got {got}: {item['text']}")
    name = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    print(f"\n== two questions in one message: {name} ({len(items)} messages)")
    print("lang style       n   topic right   every question answered")
    total = [0, 0, 0]
    for (lang, style), (n, first, every) in sorted(rows.items()):
        print(f"{lang:4s} {style:10s} {n:3d}   {first / n:.2f}          {every / n:.2f}")
        total = [total[0] + n, total[1] + first, total[2] + every]
    n = max(1, total[0])
    print(f"all             {total[0]:3d}   {total[1] / n:.3f}         {total[2] / n:.3f}")
    print(f"command: .venv/bin/python scripts/eval_two_questions.py --url URL --set {name}{' -q' if quiet else ''}")
    return total[2] / n


if __name__ == "__main__":
    raise SystemExit(main())
