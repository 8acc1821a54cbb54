"""SMS text: :func:`format_sms` turns an assistant reply into plain SMS text (no markdown, GSM-7
friendly punctuation), split at sentence boundaries into parts of at most ``MAX_CHARS`` characters
and ``MAX_SEGMENTS`` segments."""

from __future__ import annotations

import html
import re
from typing import Any, Callable

MAX_CHARS = 320  # per outgoing message
MAX_SEGMENTS = 3  # per outgoing message (3 x 153 GSM-7 characters, or 3 x 67 UCS-2)

# ------------------------------------------------------------------ formatting
# GSM 03.38 basic character set and its extension table (extension characters cost two septets)
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
# typographic characters an assistant likes to write, mapped to GSM-7 so a message is not
# sent as UCS-2 (70 characters per segment instead of 160) for one curly quote
GSM_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": " - ",
    "\u2015": " - ",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    "\u25cf": "-",
    "\u25aa": "-",
    "\u00a0": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\ufeff": "",
    "\u00ad": "",
    "\u2122": "(TM)",
    "\u00ae": "(R)",
    "\u00a9": "(C)",
    "\u00b0": " degrees",
}
# Spanish vowels with an acute accent are not GSM-7 (é, ñ, ü, ¿ and ¡ are): one of them would send
# the whole message as UCS-2, 67 characters a segment. Unaccented, a Spanish SMS costs the segments
# of an English one and reads as SMS Spanish usually does.
GSM_LETTERS = {
    "\u00e1": "a",
    "\u00ed": "i",
    "\u00f3": "o",
    "\u00fa": "u",
    "\u00c1": "A",
    "\u00cd": "I",
    "\u00d3": "O",
    "\u00da": "U",
}


def gsm_friendly(text: str, *, letters: bool = True) -> str:
    """Replace typographic punctuation and (``letters``) Spanish á í ó ú with GSM-7 equivalents
    (emoji and other scripts stay). Text kept for people to read and edit keeps its letters."""
    table = {**GSM_REPLACEMENTS, **GSM_LETTERS} if letters else GSM_REPLACEMENTS
    return "".join(table.get(ch, ch) for ch in text)


def is_gsm(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def encoding_of(text: str) -> str:
    return "GSM-7" if is_gsm(text) else "UCS-2"


def segment_count(text: str) -> int:
    """How many SMS segments ``text`` costs (GSM-7: 160, or 153 per part; UCS-2: 70, or 67 per part)."""
    if not text:
        return 1
    if is_gsm(text):
        units = sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)  # UTF-16 code units (emoji are two)
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


def fits(text: str, max_chars: int = MAX_CHARS, max_segments: int = MAX_SEGMENTS) -> bool:
    return len(text) <= max_chars and segment_count(text) <= max_segments


_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^```.*$", re.M), ""),  # code fences
    (re.compile(r"!\[([^\]]*)\]\(([^)\s]+)[^)]*\)"), r"\2"),  # images -> their URL
    (re.compile(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)"), r"\1 (\2)"),  # links -> "text (url)"
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"<br\s*/?>", re.I), "\n"),
    (re.compile(r"</?(?:p|div|li|ul|ol)\b[^>]*>", re.I), "\n"),
    (re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*\b[^>]*>"), ""),  # any other HTML tag
    (re.compile(r"^\s{0,3}#{1,6}\s+", re.M), ""),  # headings
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),  # block quotes
    (re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^(\s*)[*+\u2022]\s+", re.M), r"\1- "),  # bullets -> "- "
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.S), r"\1"),  # bold
    (re.compile(r"__(?=\S)(.+?)(?<=\S)__", re.S), r"\1"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # italics
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # inline code
]


def plain_text(text: str) -> str:
    """Markdown/HTML to plain SMS text; whitespace tidied; GSM-7 friendly punctuation."""
    out = html.unescape(text or "").replace("\r\n", "\n").replace("\r", "\n")
    for pattern, repl in _MD_RULES:
        out = pattern.sub(repl, out)
    out = gsm_friendly(out)
    out = re.sub(r"[ ]{2,}", " ", out)
    out = re.sub(r"[ ]+\n", "\n", out)
    out = re.sub(r"\n[ ]+(?!- )", "\n", out)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*(\s+)|\n+")


def _units(text: str) -> list[tuple[str, str]]:
    """Split into (sentence, separator-after) pairs; separators are kept to rejoin naturally."""
    units: list[tuple[str, str]] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        ws_start = m.start(1) if m.group(1) is not None else m.start()
        piece, ws = text[pos:ws_start], text[ws_start : m.end()]
        sep = "\n\n" if ws.count("\n") > 1 else ("\n" if "\n" in ws else " ")
        if piece.strip():
            units.append((piece.strip(), sep))
        pos = m.end()
    tail = text[pos:]
    if tail.strip():
        units.append((tail.strip(), ""))
    return units


def _split_long(sentence: str, ok: Callable[[str], bool], max_chars: int) -> list[str]:
    """A sentence that does not fit on its own: split between words (and inside a very long word)."""
    chunks: list[str] = []
    cur = ""
    for word in sentence.split(" "):
        candidate = f"{cur} {word}" if cur else word
        if ok(candidate):
            cur = candidate
            continue
        if cur:
            chunks.append(cur)
        cur = ""
        while word and not ok(word):
            cut = min(len(word), max_chars)
            while cut > 1 and not ok(word[:cut]):
                cut -= 1
            chunks.append(word[:cut])
            word = word[cut:]
        cur = word
    if cur:
        chunks.append(cur)
    return chunks


def split_sms(text: str, *, max_chars: int = MAX_CHARS, max_segments: int = MAX_SEGMENTS) -> list[str]:
    """Split at sentence boundaries into parts that each fit; a part never ends mid-word if avoidable."""
    text = text.strip()
    if not text:
        return []

    def ok(s: str) -> bool:
        return fits(s, max_chars, max_segments)

    if ok(text):
        return [text]
    parts: list[str] = []
    cur = ""
    cur_sep = ""
    for sentence, sep in _units(text):
        candidate = f"{cur}{cur_sep}{sentence}" if cur else sentence
        if ok(candidate):
            cur, cur_sep = candidate, sep
            continue
        if cur:
            parts.append(cur.strip())
        if ok(sentence):
            cur, cur_sep = sentence, sep
        else:
            pieces = _split_long(sentence, ok, max_chars)
            parts.extend(p.strip() for p in pieces[:-1])
            cur, cur_sep = pieces[-1], sep
    if cur.strip():
        parts.append(cur.strip())
    return [p for p in parts if p]


def format_sms(text: str, buttons: list[dict[str, Any]] | None = None, *, max_chars: int = MAX_CHARS) -> list[str]:
    """An assistant reply as SMS parts: plain text, quick-reply buttons as a "Reply ..." line, split to fit.

    Idempotent on its own output: formatting a part again gives that part back.
    """
    body = plain_text(text)
    titles = [plain_text(str(b.get("title", ""))) for b in (buttons or []) if isinstance(b, dict) and b.get("title")]
    titles = [t for t in titles if t]
    if titles:
        body = f"{body}\nReply: {' / '.join(titles)}" if body else f"Reply: {' / '.join(titles)}"
    return split_sms(body, max_chars=max_chars)
