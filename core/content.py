"""What the patient reads, as data: ``content/<language>/<area>.yml``, loaded and checked once.

Each file is shaped like Rasa's ``responses``: one entry per message key, each entry a list of
variants. A variant has ``text`` (one message, or a list of messages sent one after another),
optional ``buttons`` (``{title, payload}``) and optional conditions:

* ``channel: sms | web``
* ``day: unknown | known | <n>``: the recovery day is not known / is known / is exactly ``n``
* ``days: [first, last]``: a recovery-day band, inclusive; ``null`` leaves a side open
* ``case: <name>``: a case the code picks (e.g. a band computed from :mod:`core.timeline`)

The first variant whose conditions all hold is used. Placeholders (``{clinic_name}``) are filled
from the turn (:data:`TURN_PLACEHOLDERS`) and from the recovery timeline: every day constant of
:mod:`core.timeline` is a placeholder named in lower case (``SUN_AVOID_UNTIL_DAY`` ->
``{sun_avoid_until_day}``), so a clinical timing fact is written once, in Python, never in prose.

Pure: reads files, no database, models or web framework. Errors in the files (unknown placeholder,
duplicate key, a key the code needs that is missing, a key English has that another language
covering the same area lacks) raise :class:`ContentError` when the files are loaded.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core import timeline as tl
from core.enums import CHANNELS as CHANNEL_NAMES

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
REFERENCE_LANGUAGE = "en"
CHANNELS = frozenset(CHANNEL_NAMES)

# Day facts of the recovery timeline, by placeholder name.
TIMELINE_PLACEHOLDERS: dict[str, int] = {
    name.lower(): value for name, value in vars(tl).items() if name.isupper() and isinstance(value, int)
}
# Facts derived from the timeline (still written once, in core/timeline.py).
TIMELINE_PLACEHOLDERS["redness_check_from_day"] = tl.REDNESS_EXPECTED_LAST_DAY + 1

# Values the code fills in from the turn (clinic details, the patient, the day, and pieces of
# text rendered from other entries, such as {lead} or {call}).
TURN_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "booking",
        "booking_url",
        "call",
        "call_us",
        "clinic",
        "clinic_name",
        "clinic_phone",
        "address",
        "hours",
        "concern",
        "count",  # the widget's own texts (widget_ui.yml), filled in the browser
        "day",
        "days_to_go",
        "first_name",
        "hello",
        "lead",
        "level",
        "name",  # widget_ui.yml
        "link",
        "meanwhile",
        "now",
        "options",
        "percent",  # widget_ui.yml
        "phone",
        "text",  # widget_ui.yml
        "today",
        "weeks",
        "weeks_after",
        "what",
        "watch",
        "why",  # widget_ui.yml
        "when",
    }
)
PLACEHOLDERS: frozenset[str] = TURN_PLACEHOLDERS | frozenset(TIMELINE_PLACEHOLDERS)
_VARIANT_FIELDS = frozenset({"text", "buttons", "channel", "day", "days", "case"})


class ContentError(ValueError):
    """The content files are not valid, or a message cannot be rendered."""


@dataclass(frozen=True)
class Message:
    """One message the patient reads (buttons only show on the web channel)."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Variant:
    texts: tuple[str, ...]
    buttons: tuple[tuple[str, str], ...] = ()
    channel: str | None = None
    day: str | int | None = None  # "unknown" | "known" | a day number
    days: tuple[int | None, int | None] | None = None
    case: str | None = None

    def matches(self, channel: str | None, day: int | None, case: str | None) -> bool:
        if self.channel is not None and self.channel != channel:
            return False
        if self.case is not None and self.case != case:
            return False
        if self.day == "unknown" and day is not None:
            return False
        if self.day == "known" and day is None:
            return False
        if isinstance(self.day, int) and day != self.day:
            return False
        if self.days is not None:
            first, last = self.days
            if day is None or (first is not None and day < first) or (last is not None and day > last):
                return False
        return True


Entries = dict[str, tuple[Variant, ...]]


# ------------------------------------------------------------------ loading
class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load, except that a key written twice in one mapping is an error (not last-wins)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ContentError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, spec, conv in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:  # an unmatched brace
        raise ContentError(f"bad braces in {text!r}: {exc}") from exc


def _check_text(where: str, text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ContentError(f"{where}: text must be a non-empty string")
    unknown = sorted(_placeholders(text) - PLACEHOLDERS)
    if unknown:
        raise ContentError(f"{where}: unknown placeholder {{{unknown[0]}}}")
    return text


def _bound(where: str, value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ContentError(f"{where}: days bounds must be whole numbers or null, got {value!r}")


def _variant(where: str, raw: Any) -> Variant:
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: a variant must be a mapping with 'text'")
    extra = set(raw) - _VARIANT_FIELDS
    if extra:
        raise ContentError(f"{where}: unknown field {sorted(extra)[0]!r}")
    if "text" not in raw:
        raise ContentError(f"{where}: missing 'text'")
    texts = raw["text"] if isinstance(raw["text"], list) else [raw["text"]]
    if not texts:
        raise ContentError(f"{where}: text must not be empty")
    channel = raw.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise ContentError(f"{where}: channel must be one of {sorted(CHANNELS)}, got {channel!r}")
    day = raw.get("day")
    if day is not None and day not in ("unknown", "known") and not (isinstance(day, int) and not isinstance(day, bool)):
        raise ContentError(f"{where}: day must be 'unknown', 'known' or a day number, got {day!r}")
    days = raw.get("days")
    if days is not None:
        if not isinstance(days, list) or len(days) != 2:
            raise ContentError(f"{where}: days must be [first, last]")
        days = (_bound(where, days[0]), _bound(where, days[1]))
    buttons = []
    for b in raw.get("buttons") or []:
        if not isinstance(b, dict) or set(b) != {"title", "payload"}:
            raise ContentError(f"{where}: a button needs exactly 'title' and 'payload'")
        buttons.append((_check_text(where, b["title"]), str(b["payload"])))
    case = raw.get("case")
    return Variant(
        texts=tuple(_check_text(where, t) for t in texts),
        buttons=tuple(buttons),
        channel=channel,
        day=day,
        days=days,
        case=None if case is None else str(case),
    )


def _load_file(path: Path) -> Entries:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from exc
    except ContentError as exc:
        raise ContentError(f"{path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("responses"), dict):
        raise ContentError(f"{path}: expected a top-level 'responses' mapping")
    entries: Entries = {}
    for key, variants in data["responses"].items():
        where = f"{path.parent.name}/{path.name}: {key}"
        if not isinstance(variants, list) or not variants:
            raise ContentError(f"{where}: an entry is a non-empty list of variants")
        entries[str(key)] = tuple(_variant(where, v) for v in variants)
    return entries


# ------------------------------------------------------------------ the catalogue
class Content:
    """All loaded entries, by (language, area)."""

    def __init__(self, files: Mapping[tuple[str, str], Entries]) -> None:
        self._files = dict(files)

    def languages(self, area: str) -> frozenset[str]:
        """The languages that cover ``area`` (have a file for it)."""
        return frozenset(lang for lang, a in self._files if a == area)

    def keys(self, area: str, language: str = REFERENCE_LANGUAGE) -> frozenset[str]:
        return frozenset(self._files.get((language, area), {}))

    def _entry(self, area: str, key: str, language: str) -> tuple[Variant, ...]:
        entries = self._files.get((language, area)) or self._files.get((REFERENCE_LANGUAGE, area))
        if entries is None:
            raise ContentError(f"no content area {area!r}")
        if key not in entries:
            raise ContentError(f"no entry {key!r} in {language}/{area}.yml")
        return entries[key]

    def variant(
        self, area: str, key: str, *, language: str = REFERENCE_LANGUAGE, channel: str | None = None,
        day: int | None = None, case: str | None = None,
    ) -> Variant:  # fmt: skip
        """The first variant of ``key`` whose conditions hold for this turn."""
        for v in self._entry(area, key, language):
            if v.matches(channel, day, case):
                return v
        raise ContentError(f"{language}/{area}.yml: no variant of {key!r} for channel={channel} day={day} case={case}")

    def render(
        self, area: str, key: str, *, language: str = REFERENCE_LANGUAGE, channel: str | None = None,
        day: int | None = None, case: str | None = None, **values: Any,
    ) -> list[Message]:  # fmt: skip
        """The messages of ``key`` for this turn, placeholders filled (``day`` is also ``{day}``)."""
        v = self.variant(area, key, language=language, channel=channel, day=day, case=case)
        fill = {**TIMELINE_PLACEHOLDERS, "day": day, **values}
        try:
            messages = [Message(t.format(**fill)) for t in v.texts]
        except KeyError as exc:
            raise ContentError(f"{language}/{area}.yml: {key!r} needs a value for {{{exc.args[0]}}}") from exc
        if v.buttons:
            messages[-1] = Message(messages[-1].text, [{"title": t, "payload": p} for t, p in v.buttons])
        return messages

    def text(self, area: str, key: str, **kw: Any) -> str:
        """The text of a one-message entry."""
        messages = self.render(area, key, **kw)
        if len(messages) != 1:
            raise ContentError(f"{area}: {key!r} has {len(messages)} messages, expected one")
        return messages[0].text

    def template(self, area: str, key: str, *, language: str = REFERENCE_LANGUAGE, **conditions: Any) -> str:
        """The unfilled text of a one-message entry (e.g. a default body staff can edit later)."""
        v = self.variant(area, key, language=language, **conditions)
        if len(v.texts) != 1:
            raise ContentError(f"{area}: {key!r} has {len(v.texts)} messages, expected one")
        return v.texts[0]

    def require(self, area: str, keys: Iterable[str]) -> None:
        """Fail unless every language covering ``area`` has every one of ``keys``."""
        languages = self.languages(area)
        if REFERENCE_LANGUAGE not in languages:
            raise ContentError(f"no {REFERENCE_LANGUAGE}/{area}.yml")
        for lang in sorted(languages):
            missing = sorted(set(keys) - self.keys(area, lang))
            if missing:
                raise ContentError(f"{lang}/{area}.yml: missing key {missing[0]!r}")


def load(root: Path = CONTENT_DIR, *, required: Mapping[str, Iterable[str]] | None = None) -> Content:
    """Read and check every ``<root>/<language>/<area>.yml``."""
    files: dict[tuple[str, str], Entries] = {}
    for path in sorted(root.glob("*/*.yml")):
        files[(path.parent.name, path.stem)] = _load_file(path)
    content = Content(files)
    for (lang, area), entries in files.items():
        if lang == REFERENCE_LANGUAGE:
            continue
        reference = content.keys(area)
        if not reference:
            raise ContentError(f"{lang}/{area}.yml: there is no {REFERENCE_LANGUAGE}/{area}.yml to translate")
        missing = sorted(reference - set(entries))
        if missing:
            raise ContentError(f"{lang}/{area}.yml: missing key {missing[0]!r} (present in {REFERENCE_LANGUAGE})")
        unknown = sorted(set(entries) - reference)
        if unknown:
            raise ContentError(f"{lang}/{area}.yml: key {unknown[0]!r} is not in {REFERENCE_LANGUAGE}/{area}.yml")
    for area, keys in (required or {}).items():
        content.require(area, keys)
    return content


@functools.cache
def default() -> Content:
    """The project's content folder, loaded and checked once per process."""
    return load(CONTENT_DIR)


_SPEAKING: ContextVar[str] = ContextVar("aftercare_speaking", default=REFERENCE_LANGUAGE)


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Render every :class:`Area` text inside the block in ``language`` (the turn's language), unless a
    call names one. Per thread and per asyncio task, so concurrent turns do not mix."""
    token = _SPEAKING.set(language or REFERENCE_LANGUAGE)
    try:
        yield
    finally:
        _SPEAKING.reset(token)


def current_language() -> str:
    return _SPEAKING.get()


class Area:
    """The entries of one area, for the module that speaks them: ``say = Area("answers", KEYS)``.
    Texts come in the language of the enclosing :func:`speaking` block (English outside one).

    The keys the module needs are checked when the module is imported (a missing entry fails
    at start-up, not in the middle of a conversation).
    """

    def __init__(self, area: str, keys: Iterable[str] = ()) -> None:
        self.area = area
        default().require(area, keys)

    def __call__(self, key: str, **kw: Any) -> str:
        kw.setdefault("language", _SPEAKING.get())
        return default().text(self.area, key, **kw)

    def messages(self, key: str, **kw: Any) -> list[Message]:
        kw.setdefault("language", _SPEAKING.get())
        return default().render(self.area, key, **kw)

    def languages(self) -> frozenset[str]:
        return default().languages(self.area)
