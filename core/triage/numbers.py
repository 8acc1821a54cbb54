"""Numbers in a message: temperatures (a fever stated as a reading) and the recovery day
the patient states ("day 3", "2 days ago", "had it done yesterday"). Deterministic,
stdlib-only, no I/O.
"""

from __future__ import annotations

import re

from .context import Context, Mention
from .text import Doc, normalise

# ------------------------------------------------------------- temperature

_NUM = re.compile(r"^\d+(?:\.\d+)?$")


_MONEY = frozenset(
    {
        "cost",
        "costs",
        "price",
        "prices",
        "pay",
        "paid",
        "dollars",
        "usd",
        "bucks",
        "charge",
        "fee",
        "fees",
        "package",
        "packages",
        "total",
        "deposit",
        "per",
        "each",
        "$",
        "£",
        "€",
    }
)


def fever_numbers(ctx: Context) -> tuple[list[Mention], set[int]]:
    """Temperatures stated with a number: (fever mentions, sentences that state a normal temperature)."""
    out: list[Mention] = []
    low: set[int] = set()
    for tw in ctx.by_atom.get("TEMP_WORD", ()):
        if tw.negated:
            continue
        lo, hi = max(0, tw.first - 4), min(len(ctx.words), tw.last + 5)
        for i in range(lo, hi):
            w = ctx.words[i]
            if not _NUM.match(w) or ctx.sent_of[i] != tw.sent:
                continue
            v = float(w)
            if 100.4 <= v <= 110 or 38.0 <= v <= 43:
                out.append(Mention("FEVER", min(i, tw.first), max(i, tw.last), tw.sent, tw.clause))
            elif 90 <= v < 100.4 or 35 <= v < 38:
                low.add(tw.sent)
    for i, w in enumerate(ctx.words):
        if not _NUM.match(w):
            continue
        if any(k == ctx.sent_of[i] and x in _MONEY for x, k in zip(ctx.words, ctx.sent_of, strict=True)):
            continue  # "is it 100.50 a session": a price, not a temperature
        v = float(w)
        unit = ctx.words[i + 1] if i + 1 < len(ctx.words) else ""
        if (
            ("." in w and 100.4 <= v <= 106)
            or (unit in ("f", "degrees", "fahrenheit") and 100.4 <= v <= 110)
            or (unit in ("c", "degrees", "celsius", "centigrade") and 38.0 <= v <= 43)
        ):
            if not any(m.first <= i <= m.last for m in out):
                s = ctx.sent_of[i]
                has_unit = unit in ("f", "c", "degrees", "fahrenheit", "celsius", "centigrade")
                out.append(Mention("FEVER", i, i + 1 if has_unit else i, s, ctx.clause_of[i]))
    return out, low


# ---------------------------------------------------------------- day in text

_NUM_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "a": 1,
    "an": 1,
    "couple": 2,
    "few": 3,
}
_DAY_NUM = (
    r"(\d{1,3}|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|a|an|"
    r"couple|few)"
)
_TREAT = r"(?:treatment|session|appointment|procedure|microneedl\w*|needling|it done|had it|got it|did it|done|treated)"
_DAY_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    (
        re.compile(
            r"\bday (\d{1,3}|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
            r"fourteen)\b"
        ),
        1,
    ),
    (re.compile(rf"\b{_DAY_NUM} (?:of )?days? (?:ago|out|post|since|after|later|in)\b"), 1),
    (re.compile(rf"\b(?:been|it's been|its been) (?:about |like |almost |over )?{_DAY_NUM} (?:of )?days?\b"), 1),
    (re.compile(rf"\b{_DAY_NUM} (?:of )?weeks? (?:ago|out|post|since|after|later|in)\b"), 7),
    (re.compile(rf"\b(?:been|it's been|its been) (?:about |like |almost |over )?{_DAY_NUM} weeks?\b"), 7),
)


def _num(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUM_WORDS.get(word)


def infer_day(text: str | Doc) -> int | None:
    """A recovery day the patient states in the message ("day 3", "2 days ago", "had it done yesterday")."""
    doc = text if isinstance(text, Doc) else normalise(text)
    text = doc.text
    for rx, mult in _DAY_PATTERNS:
        m = rx.search(text)
        if m:
            n = _num(m.group(1))
            if n is not None and 0 <= n * mult <= 365:
                return n * mult
    for sent in re.split(r" [.!?;\n] ", text):
        if not re.search(rf"\b{_TREAT}\b", sent):
            continue
        if re.search(r"\bduring (?:the |my |a )?(?:treatment|session|procedure|appointment)\b", sent):
            return 0
        if re.search(
            r"\b(?:right after|straight after|just after|just had|just got|few hours ago|this morning|"
            r"this afternoon|earlier today|today|tonight|same day)\b",
            sent,
        ):
            return 0
        if re.search(r"\byesterday\b|\blast night\b", sent) and not re.search(r"\bsince yesterday\b", sent):
            return 1
        if re.search(r"\blast week\b", sent):
            return 7
    return None
