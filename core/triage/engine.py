"""The red-flag screen: text -> atoms -> findings -> level.

Runs on every inbound message before and independently of the NLU model.
Deterministic, stdlib-only, no I/O. The recovery-day windows come from
core.timeline (never redefined here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core import timeline as tl

from .lexicon import compiled_atoms, compiled_frames
from .model import Finding, Level, TriageResult
from .rules import RULES
from .text import SENTENCE_BREAK, Doc, normalise

# ---------------------------------------------------------------- structure

# words that end a clause (for co-occurrence and for negation scope)
_CONTRAST = frozenset(
    {"but", "however", "though", "although", "yet", "whereas", "except", "btw", "also", "plus", "apart", "besides", "otherwise"}
    | {"pero", "aunque", "tambien", "ademas", "sino", "excepto"}  # Spanish
)
_CLAUSE_PUNCT = frozenset({"-", "(", ")", ":"})
# extra words that end a negation's reach ("no pus, just redness"; "no fever and there's...")
_NEG_STOP = frozenset(
    {"just", "only", "still", "now", "then", "though", "instead", "rather", "except"}
    | {"solo", "nomas", "todavia", "aun", "ahora", "pero"}  # Spanish
)
_SUBJECT_START = frozenset(
    {
        "there",
        "there's",
        "it",
        "it's",
        "its",
        "i",
        "i'm",
        "i've",
        "my",
        "now",
        "the",
        "she",
        "he",
        "they",
        "this",
        "that",
        "also",
        "then",
        "still",
        "got",
        "have",
        "has",
        "feels",
        "looks",
        "is",
        "am",
        "are",
        "she's",
        "he's",
        "theres",
        "we",
        "our",
        "her",
        "his",
    }
)
_NEGATORS = frozenset(
    {
        "no",
        "not",
        "none",
        "without",
        "nothing",
        "zero",
        "nor",
        "neither",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "don't",
        "doesn't",
        "didn't",
        "haven't",
        "hasn't",
        "hadn't",
        "stopped",
        "never",
    }
    | {"sin", "ni", "tampoco", "nada", "cero", "ningun", "ninguna", "ningunos", "ningunas"}  # Spanish ("no" is shared)
)
# a negator followed by one of these is a hedge, not a negation ("not sure", "don't think", "no idea")
_HEDGE_AFTER = frozenset(
    {
        "sure",
        "certain",
        "positive",
        "confident",
        "100",
        "clear",
        "just",
        "only",
        "know",
        "think",
        "idea",
        "clue",
        "doubt",
        "matter",
        "understand",
        "remember",
        "care",
        "normal",
        "right",
        "like",
        "worried",
        "convinced",
        "entirely",
        "totally",
        "completely",
        "even",
        "quite",
        "really",
        "much",
        "that",
        "tell",
        "joking",
        "kidding",
        "usual",
    }
)
_SEE_VERBS = frozenset({"see", "find", "spot", "notice", "feel", "smell"})
_ANY = frozenset({"any", "anything", "no", "much"})
_RESOLVED = re.compile(
    r"^(?:(?:has|have|had|is|are|was|were|'s|now|totally|completely|all|pretty|much|finally|already|mostly|basically) )*"
    r"(?:gone(?! (?:down|up|darker|red|yellow|green|black|white|hard|crusty|brown|purple))|stopped|cleared|resolved|"
    r"disappeared|subsided|went away|gone away|healed|settled)\b"
    r"|^(?:is|are|'s|seems|seem|looks|look|feels|feel) (?:totally |completely |all |pretty |perfectly )?"
    r"(?:fine|ok|okay|good|great|normal now)\b"
)
_LIST_CONT = frozenset({"or", "nor"})
# "it stopped", "it's gone" in the next clause also resolve a mention ("some bleeding, but it stopped")
_RESOLVED_NEXT = re.compile(
    r"^(?:[a-z0-9']+ ){0,3}(?:but|and|though|although) (?:it|it's|its|that|this|they|which|now|the \w+)"
    r"(?: (?:has|have|had|is|was|now|finally|already|all))* (?:stopped|gone|cleared|went away|"
    r"healed|resolved|disappeared|settled)\b"
)
# hope / tag questions turn a negation back into a worry ("I hope it's not infected", "not pus right?")
_HEDGE_SENTENCE = re.compile(
    r"\b(?:hope|hoping|hopefully|surely|i wonder|wondering|pray|praying)\b|\bright \?|"
    r"\bis it \?|\bisn't it\b|\bam i right\b"
)

EMERGENCY_ATOMS = frozenset(
    {"BREATHING", "THROAT", "ANAPHYLAXIS", "FAINT", "CHEST_PAIN", "CHEST_TIGHT", "SELF_HARM", "SWELL_FAST"}
)
# atoms that mean "expected healing" when they fall in the right window
EXPECTED_ATOMS = frozenset(
    {"REDNESS", "SWELLING", "WARM", "HOT", "SUNBURN", "BURN", "TIGHT", "SENSITIVE", "FLAKING", "ITCH", "BREAKOUT", "PAIN", "NUMB"}
)
# existing skin concerns people ask the treatment to fix (results FAQ) rather than report as new
CONCERN_ATOMS = frozenset({"PIGMENT", "TEXTURE", "BREAKOUT"})
# structural atoms: they qualify others and never make a message a symptom report on their own
STRUCTURAL = frozenset(
    {
        "ALARM",
        "CHANGE_CUE",
        "IMPROVING",
        "SENSATION",
        "TOOL",
        "FAST",
        "LIPS",
        "FACE_AREA",
        "MILD",
        "BODY",
        "SKIN_CONTEXT",
        "PRODUCT",
        "TEMP_WORD",
        "SEVERE",
        "BLEED_MINOR",
        "PIGMENT_FAQ_NOUN",
        "TEXTURE_FAQ_NOUN",
        "EXTREME_PAIN",
        "AGONY",
    }
)
# a statement of self-harm always escalates, whatever negation surrounds it
NEVER_NEGATED = frozenset({"SELF_HARM"})

_SAMPLE_DAYS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 14, 21, 30, 60)
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


@dataclass
class Mention:
    atom: str
    first: int
    last: int
    sent: int
    clause: int
    negated: bool = False
    suppressed: bool = False  # inside a generic / candidacy / FAQ frame

    @property
    def active(self) -> bool:
        return not self.negated and not self.suppressed


class _Ctx:
    """Atoms of one message, with the helpers the rules use."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.words = doc.words
        self.sent_of: list[int] = []
        self.clause_of: list[int] = []
        sent = clause = 0
        for w in self.words:
            self.sent_of.append(sent)
            self.clause_of.append(clause)
            if w in SENTENCE_BREAK:
                sent += 1
                clause += 1
            elif w in _CONTRAST or w in _CLAUSE_PUNCT:
                clause += 1
        self.n_sent = sent + 1
        self.mentions: list[Mention] = []
        self._find_atoms()
        self._frames()
        self.by_atom: dict[str, list[Mention]] = {}
        for m in self.mentions:
            self.by_atom.setdefault(m.atom, []).append(m)

    # -- atoms
    def _find_atoms(self) -> None:
        text = self.doc.text
        if not self.words:
            return
        for name, rx in compiled_atoms().items():
            for m in rx.finditer(text):
                if m.end() <= m.start():
                    continue
                first = self.doc.token_at(m.start())
                last = self.doc.token_at(m.end() - 1)
                men = Mention(name, first, last, self.sent_of[first], self.clause_of[first])
                if name not in NEVER_NEGATED:
                    men.negated = self._negated(men)
                self.mentions.append(men)

    def _negated(self, men: Mention) -> bool:
        words = self.words
        seen = 0
        j = men.first - 1
        while j >= 0:
            w = words[j]
            if w in SENTENCE_BREAK or w in _CONTRAST or w in _CLAUSE_PUNCT or w in _NEG_STOP:
                break
            if w == "and" and j + 1 < len(words) and words[j + 1] in _SUBJECT_START:
                break
            if w == ",":
                tail = words[j + 1 : min(len(words), men.last + 5)]
                cont = [i for i, t in enumerate(tail) if t in _LIST_CONT]
                if not cont or any(tail[i + 1 : i + 2] in (["something"], ["anything"], ["whatever"], ["so"]) for i in cont):
                    break
            elif self._is_negator(j):
                return not self._hedged_sentence(men.sent)
            elif w in _HEDGE_AFTER and j > 0 and words[j - 1] in _NEGATORS:
                return False  # "not sure if it's pus": hedged, so the mention stands
            if w[0].isalnum():
                seen += 1
                if seen > 6:
                    break
            j -= 1
        # resolution after the mention: "the swelling is gone", "breathing is fine"
        after = []
        for w in words[men.last + 1 : men.last + 6]:
            if w in SENTENCE_BREAK or w in _CONTRAST or w == ",":
                break
            after.append(w)
        if after and _RESOLVED.match(" ".join(after)):
            return not self._hedged_sentence(men.sent)
        nxt = [w for w in words[men.last + 1 : men.last + 9] if w != ","]
        cut = next((i for i, w in enumerate(nxt) if w in SENTENCE_BREAK), len(nxt))
        return bool(_RESOLVED_NEXT.match(" ".join(nxt[:cut])))

    def _hedged_sentence(self, sent: int) -> bool:
        text = " ".join(w for w, k in zip(self.words, self.sent_of, strict=True) if k == sent)
        return bool(_HEDGE_SENTENCE.search(text))

    def _is_negator(self, j: int) -> bool:
        w = self.words[j]
        nxt = self.words[j + 1] if j + 1 < len(self.words) else ""
        if w in ("can't", "cannot", "couldn't"):
            after = self.words[j + 2] if j + 2 < len(self.words) else ""
            return nxt in _SEE_VERBS and after in _ANY
        if w == "free" or w == "clear":
            return nxt in ("of", "from")
        if w == "never":
            return False  # "never had a rash like this": the rash is there now
        if w not in _NEGATORS:
            return False
        if nxt in _HEDGE_AFTER:
            return False
        if w in ("no", "nothing") and nxt in ("idea", "clue", "doubt", "matter", "way", "change", "difference"):
            return False
        return True

    # -- frames
    def _sentence_text(self, s: int) -> str:
        return " ".join(w for w, k in zip(self.words, self.sent_of, strict=True) if k == s and w not in SENTENCE_BREAK)

    def _frames(self) -> None:
        fr = compiled_frames()
        self.generic: list[bool] = []
        self.candidacy: list[bool] = []
        self.candidacy_raw: list[bool] = []
        self.expect_q: list[bool] = []
        self.pain_faq: list[bool] = []
        self.concern_faq: list[bool] = []
        for s in range(self.n_sent):
            st = self._sentence_text(s)
            report = any(not re.search(r"\b(?:if|when|what if|in case)\s*$", st[: m.start()]) for m in fr["REPORT"].finditer(st))
            generic = bool(fr["GENERIC"].search(st))
            cand = bool(fr["CANDIDACY"].search(st))
            new = bool(fr["REPORT_NEW"].search(st))
            self.generic.append(generic and not report)
            self.candidacy.append(cand and not report)
            self.candidacy_raw.append(cand)
            self.expect_q.append(bool(fr["EXPECT_Q"].search(st)) and not report and " still " not in f" {st} ")
            self.pain_faq.append(bool(fr["PAIN_FAQ"].search(st)) and not report)
            # questions about existing concerns ("will it fade my dark spots", "i have melasma, will it make it worse")
            self.concern_faq.append((bool(fr["TREATMENT_TARGET"].search(st)) or generic or cand) and not new)
        faq_nouns = [(m.first, m.last) for m in self.mentions if m.atom in ("PIGMENT_FAQ_NOUN", "TEXTURE_FAQ_NOUN")]
        for m in self.mentions:
            if (m.atom in STRUCTURAL and m.atom != "ALARM") or m.atom in ("SELF_HARM", "ER_VISIT"):
                continue
            s = m.sent
            if m.atom in ("CHEST_PAIN", "PAIN", "WORSE", "SEVERE") and self.pain_faq[s]:
                m.suppressed = True
            elif m.atom in EMERGENCY_ATOMS:
                continue
            elif self.generic[s] or self.candidacy[s]:
                m.suppressed = True
            elif (m.atom in EXPECTED_ATOMS or m.atom == "UNPLACED") and (self.expect_q[s] or self.candidacy_raw[s]):
                m.suppressed = True
            elif m.atom in CONCERN_ATOMS and (self.concern_faq[s] or any(a <= m.first and m.last <= b for a, b in faq_nouns)):
                m.suppressed = True

    # -- queries
    def act(self, atom: str) -> list[Mention]:
        return [m for m in self.by_atom.get(atom, ()) if m.active]

    def any_(self, atom: str) -> bool:
        return any(m.active for m in self.by_atom.get(atom, ()))

    def any_raw(self, atom: str, clause: int) -> bool:
        return any(m.clause == clause for m in self.by_atom.get(atom, ()))

    def in_clause(self, atom: str, clause: int) -> bool:
        return any(m.active and m.clause == clause for m in self.by_atom.get(atom, ()))

    def in_sentence(self, atom: str, sent: int) -> bool:
        return any(m.active and m.sent == sent for m in self.by_atom.get(atom, ()))

    def overlaps(self, m: Mention, atom: str) -> bool:
        return any(o.first <= m.last and m.first <= o.last for o in self.by_atom.get(atom, ()))

    def quote(self, m: Mention) -> str:
        return self.doc.quote(m.first, m.last)


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


def _fever_numbers(ctx: _Ctx) -> tuple[list[Mention], set[int]]:
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


# ------------------------------------------------------------------- rules

_Hit = tuple[str, Level, Mention]
E, U, R = Level.EMERGENCY, Level.URGENT, Level.ROUTINE  # short names keep the rule table below readable


def _rules(ctx: _Ctx, day: int) -> tuple[list[_Hit], list[tuple[str, Mention]]]:
    """Findings and expected-healing mentions of one message on a known recovery day."""
    hits: list[_Hit] = []
    expected: list[tuple[str, Mention]] = []

    def hit(code: str, level: Level, m: Mention) -> None:
        hits.append((code, level, m))

    def ok(code: str, m: Mention) -> None:
        expected.append((code, m))

    # --- emergency, any day
    for m in ctx.act("BREATHING"):
        hit("emergency.breathing", E, m)
    for m in ctx.act("THROAT"):
        hit("emergency.throat", E, m)
    for m in ctx.act("ANAPHYLAXIS"):
        hit("emergency.anaphylaxis", E, m)
    for m in ctx.act("FAINT"):
        hit("emergency.fainting", E, m)
    for m in ctx.act("CHEST_PAIN"):
        hit("emergency.chest_pain", E, m)
    for m in ctx.act("CHEST_TIGHT"):
        if not ctx.in_clause("SKIN_CONTEXT", m.clause):
            hit("emergency.chest_pain", E, m)
    for m in ctx.by_atom.get("SELF_HARM", ()):
        hit("emergency.self_harm", E, m)
    hives_anywhere = ctx.any_("HIVES") or ctx.any_("ITCHY_WIDE") or ctx.any_("ALLERGIC")
    for m in ctx.act("SWELL_FAST"):
        hit("emergency.allergic_swelling", E, m)
    for m in ctx.act("SWELLING"):
        face = ctx.in_clause("FACE_AREA", m.clause)
        fast = ctx.in_clause("FAST", m.clause)
        mild = ctx.in_clause("MILD", m.clause)
        if face and (fast or (hives_anywhere and not mild) or ctx.in_clause("ALLERGIC", m.clause)):
            hit("emergency.allergic_swelling", E, m)
        elif ctx.in_clause("LIPS", m.clause) and not mild:
            hit("allergy.lip_swelling", U, m)
    for m in ctx.act("ER_VISIT"):
        hit("care.emergency_services", U, m)

    # --- signs of infection, any day
    for m in ctx.act("PUS"):
        hit("infection.pus", U, m)
    for m in ctx.act("CRUST"):
        hit("infection.crust", U, m)
    for m in ctx.act("YELLOW"):
        if (
            not ctx.any_raw("PIGMENT", m.clause)
            or ctx.in_clause("CRUST", m.clause)
            or ctx.in_clause("SCAB", m.clause)
            or ctx.in_clause("OOZE", m.clause)
        ):
            hit("infection.crust", U, m)
    for m in ctx.act("OOZE"):
        if ctx.in_clause("YELLOW", m.clause) or ctx.in_clause("PUS", m.clause):
            hit("infection.pus", U, m)
        elif day > tl.OOZING_EXPECTED_LAST_DAY:
            hit("infection.oozing", U, m)
        else:
            ok("clear_fluid", m)
    for m in ctx.act("STREAK"):
        hit("infection.streaks", U, m)
    for m in ctx.act("RED_LINES"):
        moving = ctx.in_clause("SPREAD", m.clause) or ctx.in_clause("STREAK", m.clause)
        if ctx.in_clause("TOOL", m.clause) and not moving:
            hit("texture", R, m)
        else:
            hit("infection.streaks", U, m)
    for m in ctx.act("HOT_TOUCH"):
        hit("infection.spreading", U, m)
    for m in ctx.act("SPREAD"):
        if ctx.in_clause("PRODUCT", m.clause) and not ctx.in_clause("REDNESS", m.clause):
            continue
        grows = ctx.words[m.first].startswith("grow")
        if grows and not any(ctx.in_clause(a, m.clause) for a in ("REDNESS", "SWELLING", "RASH", "HIVES", "BODY")):
            continue
        if ctx.in_clause("RASH", m.clause) or ctx.in_clause("HIVES", m.clause):
            hit("allergy.hives_rash", U, m)
        elif ctx.in_clause("SWELLING", m.clause) and not ctx.in_clause("REDNESS", m.clause):
            hit("worsening", U, m)
        else:
            hit("infection.spreading", U, m)
    fever_nums, normal_temp = _fever_numbers(ctx)
    for m in ctx.act("FEVER"):
        said = " ".join(ctx.words[m.first : m.last + 1])
        if m.sent in normal_temp and "temp" in said and not fever_nums:
            continue  # "I have a temperature of 99": a normal reading
        hit("infection.fever", U, m)
    for m in fever_nums:
        hit("infection.fever", U, m)
    for m in ctx.act("SYSTEMIC") + ctx.act("GLANDS"):
        hit("systemic.unwell", U, m)
    for m in ctx.act("OTHER_BODY"):
        hit("unplaced", R, m)
    alarm_alone = not any(m.active and m.atom not in STRUCTURAL and m.atom != "UNPLACED" for m in ctx.mentions)
    for m in ctx.act("ALARM"):
        if alarm_alone:
            hit("unplaced", R, m)
    for m in ctx.act("SMELL"):
        if ctx.in_clause("PRODUCT", m.clause) and not ctx.in_clause("BODY", m.clause):
            continue
        hit("infection.smell", U, m)
    for m in ctx.act("INFECTION"):
        hit("infection.suspected", U, m)

    # --- cold sores, allergy
    for m in ctx.act("COLD_SORE") + ctx.act("BLISTER"):
        hit("cold_sore", U, m)
    for m in ctx.act("HIVES") + ctx.act("RASH") + ctx.act("ITCHY_WIDE") + ctx.act("ALLERGIC"):
        hit("allergy.hives_rash", U, m)

    # --- eyes
    for m in ctx.act("EYE_PAIN") + ctx.act("VISION"):
        hit("eye", U, m)

    # --- bleeding
    persist = ctx.act("BLEED_PERSIST")
    for m in persist:
        hit("bleeding.persistent", U, m)
    for m in ctx.act("BLEED_WEAK"):
        if day >= 1 or not ctx.in_clause("BLEED_MINOR", m.clause):
            hit("bleeding.persistent", U, m)
    for m in ctx.act("BLEED"):
        if any(p.first <= m.last and m.first <= p.last for p in persist):
            continue
        if day <= tl.PINPOINT_BLEEDING_LAST_DAY:
            ok("pinpoint_bleeding", m)
        elif ctx.in_clause("BLEED_MINOR", m.clause):
            hit("bleeding.minor_late", R, m)
        else:
            hit("bleeding.late", U, m)

    # --- pain
    for m in ctx.act("PAIN") + ctx.act("BURN"):
        severe = ctx.in_clause("SEVERE", m.clause)
        worse = ctx.in_clause("WORSE", m.clause)
        if m.atom == "BURN" and not (severe or worse):
            if day <= tl.REDNESS_EXPECTED_LAST_DAY:
                ok("warmth", m)
            else:
                hit("warmth.persistent", R, m)
            continue
        if ctx.in_clause("EXTREME_PAIN", m.clause) or ctx.in_clause("AGONY", m.clause):
            hit("pain.severe", U, m)
        elif severe or worse:
            hit("pain.severe", U if day > tl.PAIN_WORSENING_ALLOWED_LAST_DAY else R, m)
        elif day <= tl.REDNESS_EXPECTED_LAST_DAY:
            ok("sensitivity", m)
        else:
            hit("sensitivity.persistent", R, m)
    for m in ctx.act("AGONY"):
        if not ctx.in_clause("PAIN", m.clause) and not ctx.in_clause("ITCH", m.clause):
            hit("pain.severe", U, m)

    # --- worsening
    anchors_rs = ("REDNESS", "SWELLING", "HOT", "WARM", "SUNBURN", "RASH", "HIVES", "SPREAD")
    anchors_other = ("ITCH", "BREAKOUT", "FLAKING", "PIGMENT", "TEXTURE", "TIGHT", "SENSITIVE", "NUMB")
    for m in ctx.act("WORSE"):
        if ctx.in_clause("PAIN", m.clause) or ctx.in_clause("BURN", m.clause):
            continue  # handled as pain
        if any(ctx.any_raw(a, m.clause) and not ctx.in_clause(a, m.clause) for a in CONCERN_ATOMS) and not any(
            ctx.in_clause(a, m.clause) for a in anchors_rs
        ):
            continue  # "I have melasma, will it make it worse": a question about an existing concern
        own = " ".join(ctx.words[m.first : m.last + 1])
        if any(ctx.in_clause(a, m.clause) for a in anchors_rs) or re.search(r"red|pink|puff|swell|swoll|inflam", own):
            if day > tl.WORSENING_ALLOWED_LAST_DAY:
                hit("worsening", U, m)
            elif ctx.in_clause("SWELLING", m.clause) or re.search(r"puff|swell|swoll", own):
                ok("swelling", m)
            else:
                ok("redness", m)
        elif any(ctx.in_clause(a, m.clause) for a in anchors_other):
            hit("worsening.other", R, m)
        elif day > tl.PAIN_WORSENING_ALLOWED_LAST_DAY:
            hit("worsening.unspecified", U, m)
        else:
            hit("worsening.unspecified", R, m)
    for m in ctx.act("CHANGE_CUE"):
        if ctx.in_clause("WORSE", m.clause) or ctx.in_clause("IMPROVING", m.clause):
            continue
        if any(ctx.in_clause(a, m.clause) for a in ("REDNESS", "SWELLING", "RASH")):
            hit("worsening", U if day > tl.WORSENING_ALLOWED_LAST_DAY else R, m)
    for m in ctx.act("SWELL_SEVERE"):
        hit("swelling.severe", U, m)

    # --- expected healing, by day
    def windowed(atom: str, exp: str, last_day: int, code: str) -> None:
        for m in ctx.act(atom):
            if day <= last_day:
                ok(exp, m)
            else:
                hit(code, R, m)

    windowed("REDNESS", "redness", tl.REDNESS_EXPECTED_LAST_DAY, "redness.persistent")
    windowed("SWELLING", "swelling", tl.SWELLING_EXPECTED_LAST_DAY, "swelling.persistent")
    for atom in ("WARM", "HOT"):
        windowed(atom, "warmth", tl.REDNESS_EXPECTED_LAST_DAY, "warmth.persistent")
    windowed("SUNBURN", "sunburn", tl.REDNESS_EXPECTED_LAST_DAY, "warmth.persistent")
    windowed("TIGHT", "tightness", tl.FLAKING_EXPECTED_LAST_DAY, "tightness.persistent")
    windowed("SENSITIVE", "sensitivity", tl.REDNESS_EXPECTED_LAST_DAY, "sensitivity.persistent")
    windowed("FLAKING", "flaking", tl.FLAKING_EXPECTED_LAST_DAY, "flaking.persistent")
    for m in ctx.act("ITCH"):
        if ctx.in_clause("SEVERE", m.clause) or day > tl.ITCH_EXPECTED_LAST_DAY:
            hit("itch.persistent", R, m)
        else:
            ok("itch", m)
    windowed("BREAKOUT", "breakouts", tl.BREAKOUTS_EXPECTED_LAST_DAY, "breakouts.persistent")
    windowed("NUMB", "numbness", 0, "numbness")

    # --- routine: colour, texture, the unplaceable
    for m in ctx.act("PIGMENT"):
        hit("pigment", R, m)
    for m in ctx.act("TEXTURE"):
        if ctx.overlaps(m, "RED_LINES"):
            continue
        hit("texture", R, m)
    for m in ctx.act("SCAB"):
        if not ctx.in_clause("YELLOW", m.clause) and not ctx.in_clause("CRUST", m.clause):
            hit("unplaced", R, m)
    for m in ctx.act("WOUND"):
        if not ctx.overlaps(m, "COLD_SORE"):
            hit("wound", R, m)
    symptomatic = {a for a in ctx.by_atom if a not in STRUCTURAL and a != "UNPLACED"}
    for m in ctx.act("UNPLACED"):
        others = any(ctx.in_clause(a, m.clause) for a in symptomatic)
        anchored = ctx.in_clause("BODY", m.clause) or ctx.in_clause("SENSATION", m.clause)
        if anchored and not others:
            hit("unplaced", R, m)
    return hits, expected


# ------------------------------------------------------------------ screen


def _findings(ctx: _Ctx, hits: list[_Hit], day_note: str, plain: set[tuple[str, int]] | None = None) -> list[Finding]:
    """Escalating findings, most severe first; ``plain`` lists hits that need no day note."""
    out: list[Finding] = []
    seen: set[tuple[str, int, int]] = set()
    for code, level, m in sorted(hits, key=lambda h: (-h[1].rank, h[2].first)):
        if level is Level.NONE:
            continue
        key = (code, m.first, m.last)
        if key in seen:
            continue
        seen.add(key)
        note = "" if plain is not None and (code, m.first) in plain else day_note
        out.append(Finding(code=code, level=level, matched=ctx.quote(m), rule=RULES[code] + note))
    return out


def _expected_codes(exp: list[tuple[str, Mention]]) -> list[str]:
    out: list[str] = []
    for code, _ in sorted(exp, key=lambda e: e[1].first):
        if code not in out:
            out.append(code)
    return out


def screen(text: str, day: int | None) -> TriageResult:
    """Screen one inbound message for red flags (see docs/triage-policy.md).

    ``day`` is days since the most recent treatment (0 = treatment day), or None
    when unknown; a day the patient states in the text is used when it is None.
    """
    doc = normalise(text or "")
    ctx = _Ctx(doc)
    used = day if day is not None else infer_day(doc)
    is_symptom = any(m.active and m.atom not in STRUCTURAL for m in ctx.mentions)
    self_harm = bool(ctx.by_atom.get("SELF_HARM"))

    if used is not None:
        hits, exp = _rules(ctx, max(used, 0))
        findings = _findings(ctx, hits, "" if day is not None else f" (day {used} from the message)")
        level = Level.max(*(f.level for f in findings))
        return TriageResult(
            level=level,
            findings=findings,
            expected=_expected_codes(exp),
            is_symptom=is_symptom,
            needs_day=False,
            self_harm=self_harm,
            day_used=used,
        )

    # Day unknown: evaluate every representative day. Urgent and emergency never wait
    # for the day; none/routine outcomes that depend on it ask for the day first.
    per_day = {d: _rules(ctx, d) for d in _SAMPLE_DAYS}
    levels = {d: Level.max(*(h[1] for h in per_day[d][0])) for d in _SAMPLE_DAYS}
    top = Level.max(*levels.values())
    low = min(levels.values(), key=lambda lv: lv.rank)
    exp_codes = _expected_codes([e for d in _SAMPLE_DAYS for e in per_day[d][1]])
    if top.rank >= Level.URGENT.rank:
        d_top = min(d for d in _SAMPLE_DAYS if levels[d] is top)
        hits = [h for h in per_day[d_top][0] if h[1].rank >= Level.URGENT.rank]
        always = {(h[0], h[2].first) for h in per_day[0][0] if h[1] is top}
        findings = _findings(ctx, hits, " (day unknown: treated as the worse case)", always)
        return TriageResult(
            level=top,
            findings=findings,
            expected=exp_codes,
            is_symptom=is_symptom,
            needs_day=False,
            self_harm=self_harm,
            day_used=None,
        )
    d_low = min(d for d in _SAMPLE_DAYS if levels[d] is low)
    findings = _findings(ctx, per_day[d_low][0], "")
    return TriageResult(
        level=low,
        findings=findings,
        expected=exp_codes,
        is_symptom=is_symptom,
        needs_day=top is not low,
        self_harm=self_harm,
        day_used=None,
    )
