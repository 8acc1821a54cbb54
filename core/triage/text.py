"""Text normalisation for the screen: tokens, spelling repair, sentences and clauses.

Everything here is deterministic and stdlib-only. The screen works on a
*canonical* string: one lower-case word or punctuation mark per token, joined by
single spaces, with shorthand expanded and misspellings repaired. Every
canonical word remembers the span of the patient's own text it came from, so a
finding can quote what the patient actually wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .vocab import SHORTHAND, SPELLING_TARGETS, VARIANTS

_QUOTES = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00b0": " degrees ",
    }
)
_TOKEN_RE = re.compile(r"\d+\.\d+|[a-z0-9]+(?:'[a-z]+)*|\n|[^\sa-z0-9]")
_INWORD_HYPHEN = re.compile(r"(?<=[a-z])[-_](?=[a-z])")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_DOUBLES = re.compile(r"([a-z])\1")

SENTENCE_BREAK = frozenset({".", "!", "?", ";", ":", "\n"})
# punctuation kept as tokens (they bound sentences, clauses and negation scope)
# contractions kept whole ("it's" is one token, "cheek's" becomes "cheek 's")
_KEEP_S = frozenset(
    {
        "it",
        "there",
        "that",
        "what",
        "he",
        "she",
        "who",
        "where",
        "here",
        "let",
        "how",
        "when",
        "why",
        "this",
        "everything",
        "something",
        "nothing",
        "one",
        "today",
        "everyone",
        "someone",
    }
)
_KEPT_PUNCT = frozenset({".", "!", "?", ";", "\n", ",", ":", "(", ")", "-", "/", "+", "&", "=", "$", "£", "€"})


@dataclass(frozen=True)
class Doc:
    """A message in canonical form."""

    raw: str  # the patient's text as given
    words: tuple[str, ...]  # canonical tokens
    spans: tuple[tuple[int, int], ...]  # for each canonical token, its span in ``raw``
    text: str  # " ".join(words) with a leading and trailing space
    starts: tuple[int, ...]  # offset of each token in ``text``

    def token_at(self, offset: int) -> int:
        """Index of the token that starts at or contains ``offset`` of ``text``."""
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def quote(self, first: int, last: int) -> str:
        """The patient's own text for canonical tokens ``first..last`` (inclusive)."""
        return self.raw[self.spans[first][0] : self.spans[last][1]].strip()


def _damerau_at_most(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between a and b, or limit+1 when it exceeds limit."""
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        best = cur[0]
        for j in range(1, lb + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[lb]


@lru_cache(maxsize=1)
def _targets() -> tuple[frozenset[str], dict[str, str], dict[str, list[str]]]:
    targets = frozenset(SPELLING_TARGETS)
    collapsed = {_DOUBLES.sub(r"\1", t): t for t in targets}
    by_first: dict[str, list[str]] = {}
    for t in sorted(targets):
        by_first.setdefault(t[0], []).append(t)
    return targets, collapsed, by_first


@lru_cache(maxsize=4096)
def correct(word: str) -> str:
    """Canonical form of one lower-case word: shorthand, known variants, then fuzzy repair."""
    from .protected import PROTECTED  # generated: real English words near the targets

    if word in SPANISH_KEEP:
        return word
    if word in SHORTHAND:
        return SHORTHAND[word]
    w = _REPEATS.sub(r"\1\1", word)
    if w in SHORTHAND:
        return SHORTHAND[w]
    if w in VARIANTS:
        return VARIANTS[w]
    if w in PROTECTED or w in SPANISH_KEEP:
        return w
    return fuzzy(w)


# Spanish words the English repair would turn into a symptom ("puse" is "I put", not "pus")
SPANISH_KEEP = frozenset({"puse", "puso", "pues", "pusimos", "pusieron", "relacion", "reaccione"})


def fuzzy(w: str) -> str:
    """Edit-distance repair of one word towards the screen's vocabulary (no protected-word check)."""
    from .protected import TYPOS

    targets, collapsed, by_first = _targets()
    if w in targets or len(w) < 4 or not w.isalpha():
        return w
    single = _DOUBLES.sub(r"\1", w)
    if single in VARIANTS:
        return VARIANTS[single]
    if single in collapsed:
        return collapsed[single]
    # "bleedin", "oozin": a dropped final g
    if w.endswith("in") and w + "g" in targets:
        return w + "g"
    limit = 1 if len(w) < 8 else 2
    if w in TYPOS:
        return TYPOS[w]
    found: list[tuple[int, int, str]] = []
    for t in by_first.get(w[0], ()):
        if abs(len(t) - len(w)) > limit or len(t) < 5:
            continue
        d = _damerau_at_most(w, t, limit)
        if d <= limit:
            found.append((d, abs(len(t) - len(w)), t))
    if not found and len(w) >= 6:
        # a slip on the first letter ("wollen", "nfected", "lbisters"): one edit, long words only
        for t in targets:
            if len(t) >= 6 and t[0] != w[0] and abs(len(t) - len(w)) <= 1 and _damerau_at_most(w, t, 1) <= 1:
                found.append((1, abs(len(t) - len(w)), t))
    if not found:
        return w
    found.sort()
    best_d = found[0][0]
    tied = [t for d, _, t in found if d == best_d]
    # several equally close targets: only safe when they are forms of one word
    if len({t[:5] for t in tied}) > 1:
        return w
    return tied[0]


# accented Latin letters to their base letter, one character for one (spans stay aligned): Spanish
# messages come with and without accents ("daño" / "dano"), and a lone "ñ" must not split a word
_ACCENTS = str.maketrans("áéíóúüñàèìòùâêîôûäëïöçÁÉÍÓÚÜÑ", "aeiouunaeiouaeiouaeioc" + "aeiouun")


def normalise(text: str) -> Doc:
    """Tokenise and canonicalise a patient's message."""
    raw = text if isinstance(text, str) else str(text)
    low = unicodedata.normalize("NFKC", raw).translate(_QUOTES).lower().translate(_ACCENTS)
    if len(low) != len(raw):  # NFKC changed the length: keep spans on the normalised text
        raw = low
    low = _INWORD_HYPHEN.sub(" ", low)
    low = low.replace("w/o", "wo ").replace("w/", "w  ")
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _TOKEN_RE.finditer(low):
        tok = m.group(0)
        span = (m.start(), m.end())
        if not tok[0].isalnum():
            if tok in _KEPT_PUNCT:
                words.append(tok)
                spans.append(span)
            continue
        tok = tok.strip("'")
        if not tok:
            continue
        tail = ""
        if tok.endswith("'s") and tok[:-2] not in _KEEP_S:
            tok, tail = tok[:-2], "'s"  # "breathing's gone funny", "cheek's red"
        for part in correct(tok).split():
            words.append(part)
            spans.append(span)
        if tail:
            words.append(tail)
            spans.append(span)
    text_ = " " + " ".join(words) + " "
    starts: list[int] = []
    pos = 1
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    return Doc(raw=raw, words=tuple(words), spans=tuple(spans), text=text_, starts=tuple(starts))
