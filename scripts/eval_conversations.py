"""Multi-turn conversations through the public web chat API (issue #18: at least 30 in Spanish).

Each conversation of a set runs in one web chat session: a patient on file treated
``treated_days_ago`` days before the service's today (created through the integration API and
opened with their chat link), or an anonymous visitor (``null``). Every turn checks the reply's
topic (``topic``, or any of ``topic_any``), the escalation it opened or raised (``escalation``:
null | routine | urgent | emergency, or any of ``escalation_any``) and, for a set with a ``language``, that the replies are in
that language (core.language reads them). A conversation passes when every turn does.

    .venv/bin/python scripts/eval_conversations.py --url http://127.0.0.1:8000 --token TOKEN \\
        [--set tests/data/conversations_es.yml] [--language es] [--quiet]

``--quiet`` prints counts only (a frozen blind set's messages are never printed). Importable:
``run_conversations(base, token, items, language) -> list[dict]``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.clients import patient_headers  # noqa: E402

DEFAULT_SET = ROOT / "tests" / "data" / "conversations_es.yml"
_phones = iter(range(5550200, 5559999))


def _reply_language(texts: list[str]) -> str | None:
    from core.language import detected
    from core.triage.language import word_counts

    joined = " ".join(texts)
    found = detected(joined)
    if found is not None:
        return found
    es, en = word_counts(joined)
    return "es" if es > en else "en" if en > es else None


def run_conversations(base: str, token: str, items: list[dict], language: str | None) -> list[dict[str, Any]]:
    import httpx

    client = httpx.Client(base_url=base.rstrip("/"), timeout=60.0)
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    today = date.today()  # the stack runs on this machine's clock (faketime shifts both alike)
    results = []
    for n, conv in enumerate(items):
        headers = patient_headers()
        body: dict[str, Any] = {"language": language} if language else {}
        if conv.get("treated_days_ago") is not None:
            performed = (today - timedelta(days=int(conv["treated_days_ago"]))).isoformat()
            patient = client.post(
                "/api/v1/patients",
                json={
                    "first_name": f"Paciente{n}",
                    "phone": f"+1201{next(_phones):07d}",
                    "treatments": [{"procedure": "microneedling", "area": "face", "performed_on": performed}],
                },
                headers=auth,
            )
            patient.raise_for_status()
            body["chat_token"] = patient.json()["chat_token"]
        r = client.post("/api/v1/chat/sessions", json=body, headers=headers)
        r.raise_for_status()
        sid = r.json()["session_id"]
        turns = []
        for turn in conv["turns"]:
            r = client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": turn["say"]}, headers=headers)
            r.raise_for_status()
            got = r.json()
            want_topics = turn.get("topic_any") or [turn.get("topic")]
            level = (got.get("escalation") or {}).get("level")
            texts = [x.get("text", "") for x in got.get("replies", [])]
            spoken = _reply_language(texts) if language else None
            problems = []
            if got.get("topic") not in want_topics:
                problems.append(f"topic {got.get('topic')} (want {'/'.join(map(str, want_topics))})")
            want_levels = turn["escalation_any"] if "escalation_any" in turn else [turn.get("escalation")]
            if level not in want_levels:
                problems.append(f"escalation {level} (want {'/'.join(map(str, want_levels))})")
            if language and spoken not in (language, None):
                problems.append(f"replied in {spoken} (want {language})")
            turns.append({"say": turn["say"], "problems": problems, "replies": texts})
        results.append({"name": conv.get("name", f"#{n}"), "turns": turns, "ok": all(not t["problems"] for t in turns)})
    return results


def summary(results: list[dict], *, quiet: bool) -> str:
    passed = sum(r["ok"] for r in results)
    turns = [t for r in results for t in r["turns"]]
    bad = [t for t in turns if t["problems"]]
    kinds: dict[str, int] = {}
    for t in bad:
        for p in t["problems"]:
            key = p.split(" ", 1)[0]
            kinds[key] = kinds.get(key, 0) + 1
    lines = [
        f"conversations passed: {passed} of {len(results)}; turns right: {len(turns) - len(bad)} of {len(turns)}",
        "wrong turns by check: " + (", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"),
    ]
    if not quiet:
        for r in results:
            for t in r["turns"]:
                if t["problems"]:
                    lines.append(f"   {r['name']}: {t['say']!r}: {'; '.join(t['problems'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--set", type=Path, default=DEFAULT_SET)
    ap.add_argument("--language", default="es", help="the language every reply must be in ('' for no check)")
    ap.add_argument("--min-passed", type=int, default=None, help="exit 1 below this many passing conversations")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    items = yaml.safe_load(args.set.read_text(encoding="utf-8")) or []
    results = run_conversations(args.url, args.token, items, args.language or None)
    print(f"== conversations: {args.set.relative_to(ROOT) if args.set.is_relative_to(ROOT) else args.set}")
    print(summary(results, quiet=args.quiet))
    passed = sum(r["ok"] for r in results)
    return 0 if args.min_passed is None or passed >= args.min_passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
