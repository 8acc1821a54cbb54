"""Context of one message: where each atom is, and whether it counts.

Sentences and clauses (contrast words and clause punctuation end a clause), negation and
its scope ("no pus, just redness"), hedges that keep a mention ("not sure if it's pus"),
resolution ("the swelling is gone"), and the frames that suppress a mention (generic
questions, candidacy, FAQ about an existing concern). Deterministic, stdlib-only, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import compiled_atoms, compiled_frames
from .text import SENTENCE_BREAK, Doc

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


class Context:
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
        self.habitual: list[bool] = []
        self.future_q: list[bool] = []
        self.allergy_history: list[bool] = []
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
            # "will it darken my skin after microneedling": the future, even with "after the treatment" in it
            present = bool(re.search(r"\b(?:these|those|this|my new|the new)\b", st))
            self.future_q.append(bool(fr["FUTURE_Q"].search(st)) and not report and not present)
            if self.future_q[-1]:
                self.concern_faq[-1] = True
            now = bool(re.search(r"\b(?:right now|now|today|currently|since|after (?:the|my)|this morning|tonight)\b", st))
            # "i have a history of cold sores": a history, though "i have" usually reports something present
            lasting = bool(re.search(r"\b(?:history of|prone|susceptible|used to get)\b", st))
            self.habitual.append(bool(fr["HABITUAL"].search(st)) and not now and (lasting or not report))
            reacting = re.search(
                r"\b(?:reaction|reacting|reacted|having|broke out|breaking out|swell\w*|swollen|hives|rash\w*|itch\w*|"
                r"welts?|bumps?|tingl\w*|burn\w*|might|may be|maybe|could be|think|probably|must be)\b",
                st,
            )
            self.allergy_history.append(bool(fr["ALLERGY_HISTORY"].search(st)) and not now and not reacting)
        faq_nouns = [(m.first, m.last) for m in self.mentions if m.atom in ("PIGMENT_FAQ_NOUN", "TEXTURE_FAQ_NOUN")]
        cold_sores = [(m.first, m.last) for m in self.mentions if m.atom == "COLD_SORE"]

        def cold_sore_at(m: Mention) -> bool:
            return any(a <= m.last and m.first <= b for a, b in cold_sores)

        for m in self.mentions:
            if (m.atom in STRUCTURAL and m.atom != "ALARM") or m.atom in ("SELF_HARM", "ER_VISIT"):
                continue
            s = m.sent
            if m.atom in ("CHEST_PAIN", "PAIN", "WORSE", "SEVERE") and self.pain_faq[s]:
                m.suppressed = True
            elif m.atom == "WORSE" and self.future_q[s]:
                m.suppressed = True  # "will my eczema get worse from microneedling": a question about the future
            elif m.atom in EMERGENCY_ATOMS:
                continue
            elif self.generic[s] or self.candidacy[s]:
                m.suppressed = True
            elif (m.atom in EXPECTED_ATOMS or m.atom == "UNPLACED") and (self.expect_q[s] or self.candidacy_raw[s]):
                m.suppressed = True
            elif m.atom in CONCERN_ATOMS and (self.concern_faq[s] or any(a <= m.first and m.last <= b for a, b in faq_nouns)):
                m.suppressed = True
            elif m.atom in ("COLD_SORE", "BLISTER") and self.habitual[s] and (m.atom == "COLD_SORE" or cold_sore_at(m)):
                m.suppressed = True  # "i get fever blisters a few times a year": a history, not a blister now
            elif m.atom == "ALLERGIC" and self.allergy_history[s]:
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
