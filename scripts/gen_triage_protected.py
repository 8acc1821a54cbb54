# ruff: noqa
"""Development-time generator of core/triage/protected.py: real English words that the triage
screen's typo repair must never "correct" into a symptom word (e.g. "ever" must not become "fever").

Needs two word lists that the product itself does not: `pip install wordfreq english-words`
(into a scratch venv). Run: python scripts/gen_triage_protected.py > core/triage/protected.py
and review the diff. Not run by make or CI.
"""

import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
from wordfreq import top_n_list
from core.triage.text import _damerau_at_most, _DOUBLES, fuzzy, _REPEATS
from core.triage.vocab import SPELLING_TARGETS, VARIANTS, SHORTHAND

targets = set(SPELLING_TARGETS)
words = top_n_list("en", 150000)
from english_words import get_english_words_set

DICT = get_english_words_set(["web2", "gcide"], lower=True)
TOP20 = set(top_n_list("en", 20000))
dropped = []
KEEP = {
    "allergan",
    "nauseam",
    "acing",
    "britches",
    "scurried",
    "trendier",
    "rednecks",
    "bluray",
    "freakout",
    "crostini",
    "passwd",
    "severn",
    "subtidal",
    "virion",
    "demining",
    "gurning",
    "kitching",
}


def in_dict(w):
    if w in DICT:
        return True
    for suf, add in (
        ("s", ""),
        ("es", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("er", ""),
        ("er", "e"),
        ("est", ""),
        ("ly", ""),
        ("ers", ""),
        ("ings", ""),
    ):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            base = w[: -len(suf)] + add
            if base in DICT:
                return True
            if len(base) > 3 and base[-1] == base[-2] and base[:-1] in DICT:  # "stopped" -> "stop"
                return True
    return False


prot = set()
for w in words:
    if not w.isalpha() or len(w) < 4 or w in targets or w in VARIANTS or w in SHORTHAND:
        continue
    ww = _REPEATS.sub(r"\1\1", w)
    if ww in VARIANTS or ww in SHORTHAND:
        continue
    if fuzzy(ww) != ww and (in_dict(w) or w in TOP20 or w in KEEP):
        prot.add(w)
    elif fuzzy(ww) != ww:
        dropped.append(w)
print("DROPPED", dropped, file=sys.stderr)
print(len(prot), file=sys.stderr)
print(sorted(prot), file=sys.stderr)
lines = [
    '"""Real English words that sit one or two typos from a screen word (generated, do not edit by hand).',
    "",
    "The fuzzy matcher in text.py repairs unknown words towards vocab.SPELLING_TARGETS. So that it never",
    '"repairs" a real word ("never" -> "fever", "feeling" -> "peeling"), every word of the 150,000 most',
    "frequent English words (wordfreq 3.1) that the matcher would change, and that an English dictionary",
    "(english-words: web2 + gcide, with inflections) or the top 20,000 confirms is a word, is listed here.",
    "TYPOS lists keyboard slips of short symptom words (pus, rash, hives...) that are not English words.",
    "Regenerate after changing SPELLING_TARGETS (the generator only needs those two PyPI packages at",
    "development time; the screen itself stays stdlib-only). A symptom spelling belongs in vocab.VARIANTS.",
    '"""',
    "",
    "PROTECTED: frozenset[str] = frozenset(",
    '    """',
]
buf = ""
for w in sorted(prot):
    if len(buf) + len(w) + 1 > 100:
        lines.append("    " + buf.rstrip())
        buf = ""
    buf += w + " "
if buf:
    lines.append("    " + buf.rstrip())
lines += ['    """.split()', ")", ""]
open("/work/main/core/triage/protected.py", "w").write("\n".join(lines))

# ---- typo table for short critical words (too short for safe edit-distance repair)
common = set(top_n_list("en", 150000))
SHORT = {
    "pus": "pus",
    "rash": "rash",
    "pain": "pain",
    "hives": "hives",
    "fever": "fever",
    "chills": "chills",
    "welts": "welts",
    "ooze": "ooze",
    "faint": "faint",
    "crust": "crust",
    "scab": "scab",
    "itchy": "itchy",
    "throat": "throat",
    "tongue": "tongue",
    "blood": "blood",
}
kb = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def neigh(c):
    for r in kb:
        if c in r:
            i = r.index(c)
            return [r[j] for j in (i - 1, i + 1) if 0 <= j < len(r)]
    return []


def edits(w):
    out = set()
    for i in range(len(w)):
        out.add(w[:i] + w[i + 1 :])
        out.add(w[:i] + w[i] + w[i:])
        for n in neigh(w[i]):
            out.add(w[:i] + n + w[i + 1 :])
        if i < len(w) - 1:
            out.add(w[:i] + w[i + 1] + w[i] + w[i + 2 :])
    return out


typos = {}
for w, canon in SHORT.items():
    for t in sorted(edits(w)):
        if t == w or len(t) < 3 or t in common or t in targets or t in VARIANTS or t in SHORTHAND:
            continue
        if any(t in edits(o) and o != w for o in SHORT):  # ambiguous between two short words
            continue
        typos[t] = canon
print(len(typos), sorted(typos.items())[:80], file=sys.stderr)
with open("/work/main/core/triage/protected.py", "a") as fh:
    fh.write("\n# Keyboard slips of short symptom words that are not English words themselves (generated).\n")
    fh.write("TYPOS: dict[str, str] = {\n")
    items = sorted(typos.items())
    line = "   "
    for k, v in items:
        piece = f' "{k}": "{v}",'
        if len(line) + len(piece) > 110:
            fh.write(line + "\n")
            line = "   "
        line += piece
    fh.write(line + "\n}\n")
