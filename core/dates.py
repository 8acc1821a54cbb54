"""Dates in patients' own words (framework-free; stdlib only).

Two questions come up in an aftercare chat:

* *When was your treatment?*  -> :func:`parse_treatment_date` reads a past date
  ("monday", "3 days ago", "nov 20", "yesterday", "the 20th") and never returns a
  date after ``today``.
* *Can I ... on Saturday?*      -> :func:`find_target_date` reads a date the patient
  asks about ("tomorrow", "tonight", "in 2 days", "this weekend", "saturday") and
  never returns a date before ``today``.

Conventions (chosen, and tested):

* A bare weekday in a treatment date ("I had it monday") is the most recent such
  day *on or before* today: said on a Monday, "monday" means today.
  "last monday" is the most recent Monday *before* today (7 days ago on a Monday).
* A bare weekday in a question ("can I work out saturday?") is the next such day
  *on or after* today; "next saturday" is strictly after today.
* "11/20" is month/day (US clinic); when the first number cannot be a month
  ("20/11") it is read as day/month.
* A month and day without a year ("nov 20") is the most recent one for a
  treatment date and the next one for a question. An explicit future treatment
  date ("2030-01-01") is refused (None), as is an impossible date ("feb 30").
* Vague phrases ("last week", "a few days ago", "recently") give None: the caller
  should ask again rather than guess a day of recovery.

:func:`extract_dates` splits one message that may carry both ("I had it monday,
can I work out saturday?").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from difflib import get_close_matches

__all__ = [
    "parse_treatment_date",
    "find_target_date",
    "extract_dates",
    "describe_target",
    "mentions_treatment_date",
    "asked_day_number",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ABBR = {
    "mon": 0, "mo": 0, "mondays": 0,
    "tue": 1, "tues": 1, "tu": 1, "tuesdays": 1,
    "wed": 2, "weds": 2, "wednesdays": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursdays": 3,
    "fri": 4, "fridays": 4,
    "sat": 5, "saturdays": 5,
    "sun": 6, "sundays": 6,
}  # fmt: skip
# abbreviations that are also ordinary words: only a weekday after "on/last/this/next"
_AMBIGUOUS_ABBR = {"sun", "sat", "mon", "wed", "tu", "mo"}

MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTH_ABBR = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "couple": 2,
    "a couple": 2, "a couple of": 2, "couple of": 2,
}  # fmt: skip

# Misspellings and texting shorthand, rewritten before parsing.
_REWRITES = (
    (r"\b(?:yesterday|yesturday|yesteday|yesterdy|yestarday|yesterady|yeaterday|yday|ystrdy|ysterday|yest)\b", "yesterday"),
    (r"\b(?:tomorrow|tommorow|tommorrow|tomorow|tomorro|tomoro|tmrw|tmr|tmrow|tmro|tmw|2morrow|2moro|2morow|tomm)\b", "tomorrow"),
    (r"\b(?:today|tday|tdy|2day|todya|toady)\b", "today"),
    (r"\b(?:tonight|tonite|2nite|2night|tonght)\b", "tonight"),
    (r"\b(?:weekend|wkend|wknd|week-end|weeknd)\b", "weekend"),
    (r"\b(?:days|dayz|dys)\b", "days"),
    (r"\b(?:day|dy)\b", "day"),
    (r"\b(?:weeks|wks|wk|weks|weeks?)\b", "weeks"),
    (r"\b(?:ago|agoo|agp)\b", "ago"),
    (r"\b(?:last|lst|past|previous)\b", "last"),
)

_NUM = r"(\d{1,2}|a couple of|a couple|couple of|couple|an|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty)"


@dataclass(frozen=True)
class _Hit:
    value: date
    start: int
    end: int


# ------------------------------------------------------------------ Spanish (issue #18)
# Spanish date phrases are rewritten to the English ones this module reads ("hace 3 días" -> "3 days
# ago", "el lunes pasado" -> "last monday", "20 de noviembre" -> "november 20"), so both languages
# follow the same conventions. The words are Spanish-only: none of them is an English word.
_ES_WEEKDAYS = {
    "lunes": "monday", "martes": "tuesday", "miercoles": "wednesday", "jueves": "thursday",
    "viernes": "friday", "sabado": "saturday", "domingo": "sunday",
}  # fmt: skip
_ES_MONTHS = {
    "enero": "january", "febrero": "february", "marzo": "march", "abril": "april", "mayo": "may",
    "junio": "june", "julio": "july", "agosto": "august", "septiembre": "september",
    "setiembre": "september", "octubre": "october", "noviembre": "november", "diciembre": "december",
    "ene": "jan", "abr": "apr", "ago": "aug", "dic": "dec",
}  # fmt: skip
_ES_NUMBERS = {
    "un par de": 2, "par de": 2, "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4,
    "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
    "trece": 13, "catorce": 14, "quince": 15, "veinte": 20, "treinta": 30,
}  # fmt: skip
_ES_MONTH_WORDS = "|".join(
    sorted(set(_ES_MONTHS) | {"feb", "mar", "may", "jun", "jul", "sep", "sept", "oct", "nov"}, key=len, reverse=True)
)
_ES_WD = "|".join(_ES_WEEKDAYS)
_ES_NUM = "|".join(sorted(_ES_NUMBERS, key=len, reverse=True))
_SPANISH = (
    (rf"\b({_ES_NUM})\s+(dias?|semanas?)\b", lambda m: f"{_ES_NUMBERS[m.group(1)]} {m.group(2)}"),
    (r"\bhace\s+(\d{1,2})\s+dias?\b", r"\1 days ago"),
    (r"\bhace\s+(\d{1,2})\s+semanas?\b", r"\1 weeks ago"),
    (r"\b(?:antier|anteayer|antes de ayer)\b", "2 days ago"),
    (r"\bpasado\s+manana\b", "in 2 days"),
    (r"\besta\s+manana\b", "today"),
    (r"\b(?:en|por|de)\s+la\s+manana\b", " "),
    (r"\b(?:manana|mnn|mana)\b", "tomorrow"),
    (r"\bayer\b", "yesterday"),
    (r"\bhoy\b", "today"),
    (r"\besta\s+noche\b", "tonight"),
    (r"\b(?:este|el)\s+(?:fin\s+de\s+semana|finde)\b", "this weekend"),
    (r"\ben\s+(\d{1,2})\s+dias?\b", r"in \1 days"),
    (r"\bla\s+semana\s+pasada\b", "last week"),
    (
        rf"\b(\d{{1,2}})\s+de\s+({_ES_MONTH_WORDS})\.?(?:\s+(?:de|del)\s+(\d{{4}}))?\b",
        lambda m: f"{_ES_MONTHS.get(m.group(2), m.group(2))} {m.group(1)} {m.group(3) or ''}",
    ),
    (rf"\b(?:el\s+)?({_ES_WD})\s+pasado\b", lambda m: f"last {_ES_WEEKDAYS[m.group(1)]}"),
    (
        rf"\b(?:el\s+)?(?:proximo|otro)\s+({_ES_WD})\b|\b(?:el\s+)?({_ES_WD})\s+que\s+viene\b",
        lambda m: f"next {_ES_WEEKDAYS[m.group(1) or m.group(2)]}",
    ),
    (rf"\b({_ES_WD})\b", lambda m: _ES_WEEKDAYS[m.group(1)]),
    (r"\b(?:estoy|voy|ando|vamos)\s+(?:en\s+)?(?:el\s+|mi\s+)?dia\s+(\d{1,3})\b", r"i'm on day \1"),
    (r"\b(?:hoy\s+es|es)\s+(?:mi|el)\s+dia\s+(\d{1,3})\b", r"today is day \1"),
    (r"\b(?:para\s+el|en\s+el|el)\s+dia\s+(\d{1,3})\b", r"on day \1"),
    (r"\bel\s+(\d{1,2})\b(?!\s*(?:days|weeks|dias|semanas))", r"the \1"),
    (r"\bme\s+(?:lo\s+|la\s+)?(?:hice|hicieron|realice|realizaron|aplicaron)\b", "had it"),
    (r"\bfue\b", "was"),
)


def _from_spanish(t: str) -> str:
    plain = unicodedata.normalize("NFKD", t)  # "mañana" -> "manana", "días" -> "dias"
    t = "".join(ch for ch in plain if not unicodedata.combining(ch))
    for pattern, repl in _SPANISH:
        t = re.sub(pattern, repl, t)
    return t


def _normalise(text: str) -> str:
    t = _from_spanish(" " + (text or "").lower().replace("’", "'") + " ")
    t = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", t)  # 20th -> 20
    t = re.sub(r"(\d)\s*(days?|weeks?|wks?)\b", r"\1 \2", t)  # 3days -> 3 days
    for pattern, repl in _REWRITES:
        t = re.sub(pattern, repl, t)
    t = _fix_word_typos(t)
    return t


def _fix_word_typos(t: str) -> str:
    """Correct misspelt weekday and month names ("wendsday", "thrusday", "novmber")."""
    full = WEEKDAYS + MONTHS

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if word in full or word in _WEEKDAY_ABBR or word in _MONTH_ABBR:
            return word
        if len(word) < 5:
            return word
        close = get_close_matches(word, full, n=1, cutoff=0.8)
        return close[0] if close else word

    return re.sub(r"[a-z]+", fix, t)


def _num(word: str) -> int | None:
    word = word.strip()
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _weekday_index(word: str) -> int | None:
    if word in WEEKDAYS:
        return WEEKDAYS.index(word)
    return _WEEKDAY_ABBR.get(word)


def _month_index(word: str) -> int | None:
    if word in MONTHS:
        return MONTHS.index(word) + 1
    return _MONTH_ABBR.get(word)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year(raw: str | None, default: int) -> int:
    if not raw:
        return default
    y = int(raw)
    return y + 2000 if y < 100 else y


_MAX_DAY = 400
# "I'm on day 6", "today is day 2", "day 3 here": the patient states their day of recovery.
_STATED_DAY = re.compile(
    r"(?:\b(?:i'?m|i am|am|we'?re|today'?s|today is|it'?s|its|it is|now|currently|this is)\s+(?:on\s+|at\s+)?day\s+(\d{1,3})\b"
    r"|^\s*day\s+(\d{1,3})\b(?!\s*(?:or|to|-|and)\b))"
)
# "can I wear makeup on day 5?": a day of recovery the patient asks about.
_ASKED_DAY = re.compile(r"\b(?:on|by|until|till|til|from|at|for)\s+day\s+(\d{1,3})\b")

_WD_NAMES = "|".join(list(WEEKDAYS) + sorted(_WEEKDAY_ABBR, key=len, reverse=True))
_MONTH_NAMES = "|".join(list(MONTHS) + sorted(_MONTH_ABBR, key=len, reverse=True))


# ----------------------------------------------------------------- absolute dates
def _absolute_dates(t: str, today: date, *, future: bool) -> list[_Hit]:
    """Calendar dates: ISO, numeric m/d, month names, "the 20th". Year inferred by direction."""
    hits: list[_Hit] = []

    def infer(month: int, day: int, year_raw: str | None) -> date | None:
        if year_raw:
            return _safe_date(_year(year_raw, today.year), month, day)
        for year in (today.year, today.year + 1) if future else (today.year, today.year - 1):
            d = _safe_date(year, month, day)
            if d is None:
                continue
            if (future and d >= today) or (not future and d <= today):
                return d
        return None

    for m in re.finditer(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", t):
        d = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            hits.append(_Hit(d, m.start(), m.end()))
    for m in re.finditer(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?(?![\d/])", t):
        a, b = int(m.group(1)), int(m.group(2))
        month, day = (a, b) if a <= 12 else (b, a)
        d = infer(month, day, m.group(3))
        if d:
            hits.append(_Hit(d, m.start(), m.end()))
    # "nov 20", "november 20 2026", "nov. 20"
    for m in re.finditer(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:\s*,?\s*(\d{{4}}))?\b(?!\s*(?:days|weeks|am|pm|:))", t):
        month = _month_index(m.group(1))
        if month:
            d = infer(month, int(m.group(2)), m.group(3))
            if d:
                hits.append(_Hit(d, m.start(), m.end()))
    # "20 nov", "20 of november"
    for m in re.finditer(rf"\b(\d{{1,2}})\s+(?:of\s+)?({_MONTH_NAMES})\b\.?(?:\s*,?\s*(\d{{4}}))?", t):
        month = _month_index(m.group(2))
        if month:
            d = infer(month, int(m.group(1)), m.group(3))
            if d:
                hits.append(_Hit(d, m.start(), m.end()))
    # "the 20th" (ordinal suffix already stripped): this month or the neighbouring one
    for m in re.finditer(r"\bthe\s+(\d{1,2})\b(?!\s*(?:days|weeks|/|:|am|pm))", t):
        n = int(m.group(1))
        if future:
            candidates = [_safe_date(today.year, today.month, n), _add_months(today, 1, n)]
            ok = [d for d in candidates if d and d >= today]
        else:
            candidates = [_safe_date(today.year, today.month, n), _add_months(today, -1, n)]
            ok = [d for d in candidates if d and d <= today]
        if ok:
            hits.append(_Hit(ok[0], m.start(), m.end()))
    return hits


def _add_months(today: date, delta: int, day: int) -> date | None:
    month = today.month + delta
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return _safe_date(year, month, day)


# ---------------------------------------------------------------- treatment date
def _past_hits(t: str, today: date) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in re.finditer(r"\b(?:the\s+)?day before yesterday\b", t):
        hits.append(_Hit(today - timedelta(days=2), m.start(), m.end()))
    for m in re.finditer(r"\byesterday\b", t):
        if not any(h.start <= m.start() < h.end for h in hits):
            hits.append(_Hit(today - timedelta(days=1), m.start(), m.end()))
    for m in re.finditer(r"\b(?:today|this morning|this afternoon|this evening|earlier today|just now|tonight)\b", t):
        hits.append(_Hit(today, m.start(), m.end()))
    for m in _STATED_DAY.finditer(t):
        n = int(m.group(1) or m.group(2))
        if n <= _MAX_DAY:
            hits.append(_Hit(today - timedelta(days=n), m.start(), m.end()))
    for m in re.finditer(rf"\b{_NUM}\s+(days|weeks)\s+(?:ago|back|out|post)\b", t):
        n = _num(m.group(1))
        if n is None:
            continue
        delta = n * (7 if m.group(2) == "weeks" else 1)
        hits.append(_Hit(today - timedelta(days=delta), m.start(), m.end()))
    for m in re.finditer(rf"\b(?:(last|this|on)\s+)?({_WD_NAMES})\b", t):
        word, qualifier = m.group(2), m.group(1)
        if word in _AMBIGUOUS_ABBR and not qualifier and t.strip() != word:
            continue
        idx = _weekday_index(word)
        if idx is None:
            continue
        back = (today.weekday() - idx) % 7
        if qualifier == "last" and back == 0:
            back = 7
        hits.append(_Hit(today - timedelta(days=back), m.start(), m.end()))
    hits.extend(_absolute_dates(t, today, future=False))
    return hits


def _first(hits: list[_Hit]) -> _Hit | None:
    return min(hits, key=lambda h: (h.start, -(h.end - h.start))) if hits else None


def _find_past(text: str, today: date) -> tuple[date | None, str]:
    t = _normalise(text)
    hits = [h for h in _past_hits(t, today) if h.value <= today]
    hit = _first(hits)
    if hit is None:
        return None, t
    return hit.value, t[: hit.start] + " " * (hit.end - hit.start) + t[hit.end :]


def parse_treatment_date(text: str, today: date) -> date | None:
    """The treatment date a patient states, or None (never a date after ``today``).

    A question about a day ("can I work out today?", "should I wear SPF on saturday")
    states no treatment date unless it also says so ("I had it monday, can I ...").
    """
    t = _normalise(text)
    if _QUESTION.search(t) and not (_PAST_ONLY.search(t) or _TREATMENT_CUES.search(t) or _STATED_DAY.search(t)):
        return None
    value, _ = _find_past(text, today)
    return value


# ------------------------------------------------------------------- target date
def _future_hits(t: str, today: date) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in re.finditer(r"\b(?:the\s+)?day after tomorrow\b", t):
        hits.append(_Hit(today + timedelta(days=2), m.start(), m.end()))
    for m in re.finditer(r"\btomorrow\b", t):
        if not any(h.start <= m.start() < h.end for h in hits):
            hits.append(_Hit(today + timedelta(days=1), m.start(), m.end()))
    for m in re.finditer(r"\b(?:today|tonight|this evening|this afternoon|later today|right now|now)\b", t):
        hits.append(_Hit(today, m.start(), m.end()))
    for m in re.finditer(rf"\bin\s+{_NUM}\s+(days|weeks)\b", t):
        n = _num(m.group(1))
        if n is not None:
            hits.append(_Hit(today + timedelta(days=n * (7 if m.group(2) == "weeks" else 1)), m.start(), m.end()))
    for m in re.finditer(rf"\b{_NUM}\s+(days|weeks)\s+from\s+(?:now|today)\b", t):
        n = _num(m.group(1))
        if n is not None:
            hits.append(_Hit(today + timedelta(days=n * (7 if m.group(2) == "weeks" else 1)), m.start(), m.end()))
    for m in re.finditer(r"\bnext\s+weeks?\b", t):
        hits.append(_Hit(today + timedelta(days=7), m.start(), m.end()))
    for m in re.finditer(r"\b(?:this|next|the|on the|over the)?\s*weekend\b", t):
        ahead = (5 - today.weekday()) % 7
        if today.weekday() == 6:  # Sunday: still this weekend
            ahead = 0
        if re.match(r"\s*next", m.group(0)) and today.weekday() >= 5:
            ahead = (5 - today.weekday()) % 7 or 7
        hits.append(_Hit(today + timedelta(days=ahead), m.start(), m.end()))
    for m in re.finditer(rf"\b(?:(next|this|on|by|until|till|til)\s+)?({_WD_NAMES})\b", t):
        word, qualifier = m.group(2), m.group(1)
        if word in _AMBIGUOUS_ABBR and not qualifier and t.strip() != word:
            continue
        idx = _weekday_index(word)
        if idx is None:
            continue
        ahead = (idx - today.weekday()) % 7
        if qualifier == "next" and ahead == 0:
            ahead = 7
        hits.append(_Hit(today + timedelta(days=ahead), m.start(), m.end()))
    hits.extend(_absolute_dates(t, today, future=True))
    return hits


def find_target_date(text: str, today: date) -> date | None:
    """The day a question is about ("can I work out saturday?"), or None. Never before ``today``."""
    t = _normalise(text)
    hits = [h for h in _future_hits(t, today) if h.value >= today]
    # "now"/"today" lose to a more specific day in the same message
    specific = [h for h in hits if h.value != today]
    hit = _first(specific) or _first(hits)
    return hit.value if hit else None


# ----------------------------------------------------------------- both at once
_TREATMENT_CUES = re.compile(r"\b(had|got|did|done|was|were|went|treated|performed|came in|microneedled|needled)\b")
_QUESTION = re.compile(
    r"\b(?:can|could|should|shall|may|will|would|is it|is that|are|am i|do i|does|how|what time|allowed|ok to|okay to)\b"
)
_PAST_ONLY = re.compile(rf"\b(?:ago|yesterday)\b|\blast\s+(?:{_WD_NAMES})\b|\b(?:days|weeks)\s+(?:back|out|post)\b")


def mentions_treatment_date(text: str) -> bool:
    """Does the message seem to state when the treatment was (not ask about a future day)?"""
    t = _normalise(text)
    return bool(_PAST_ONLY.search(t) or _TREATMENT_CUES.search(t) or _STATED_DAY.search(t))


def asked_day_number(text: str) -> int | None:
    """A day of recovery the patient asks about ("can I wear makeup on day 5?"), or None."""
    t = _normalise(text)
    if _STATED_DAY.search(t):
        t = _STATED_DAY.sub(" ", t)
    m = _ASKED_DAY.search(t)
    if m and int(m.group(1)) <= _MAX_DAY:
        return int(m.group(1))
    return None


def extract_dates(text: str, today: date) -> tuple[date | None, date | None]:
    """(treatment date the patient states, day the question is about) from one message.

    A date counts as the treatment date only with a past-tense cue ("had it monday",
    "3 days ago", "yesterday"); otherwise it is read as the day the patient asks about.
    """
    treated: date | None = None
    rest = text
    if mentions_treatment_date(text):
        treated, rest = _find_past(text, today)
        if treated is None:
            rest = text
    target = find_target_date(rest, today)
    return treated, target


_ES_WEEKDAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ES_MONTH_NAMES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip


def describe_target(target: date, today: date, language: str = "en") -> str:
    """How to name a day the patient asked about: "today", "tomorrow" (case names, never shown),
    else "Saturday", "Nov 30" (Spanish: "sábado", "30 de noviembre")."""
    delta = (target - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if language == "es":
        if 1 < delta < 7:
            return _ES_WEEKDAY_NAMES[target.weekday()]
        return f"{target.day} de {_ES_MONTH_NAMES[target.month - 1]}"
    if 1 < delta < 7:
        return WEEKDAYS[target.weekday()].capitalize()
    return f"{MONTHS[target.month - 1][:3].capitalize()} {target.day}"
