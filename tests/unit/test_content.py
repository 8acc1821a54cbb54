"""core.content: the content folder loads and checks once, picks the variant for the turn, fills placeholders;
and the modules that speak to the patient keep their prose in it (no sentence written in Python)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core import content
from core import timeline as tl
from core.content import ContentError, load

ROOT = Path(__file__).resolve().parents[2]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


GOOD = """\
responses:
  hello:
    - text: Hello {first_name}!
"""


# ------------------------------------------------------------------ the project's own files
def test_the_content_folder_loads_and_every_language_covers_the_english_keys() -> None:
    c = load()
    assert {"answers", "triage", "conversation", "sms", "checkins", "webchat"} <= {a for _, a in c._files}
    assert c.languages("triage") == {"en", "es"}
    assert c.keys("triage", "es") == c.keys("triage", "en")
    # issue #18: every area a patient reads is in Spanish too, key for key
    for area in ("answers", "triage", "conversation", "sms", "checkins", "webchat", "topics", "widget_ui"):
        assert c.languages(area) == {"en", "es"}, area
        assert c.keys(area, "es") == c.keys(area, "en"), area


def test_the_content_folder_is_found_from_any_working_directory(tmp_path: Path) -> None:
    code = "from core import answers; print(answers.date_not_understood())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("Sorry, I couldn't work out that date.")


def test_timeline_facts_are_placeholders() -> None:
    assert content.TIMELINE_PLACEHOLDERS["sun_avoid_until_day"] == tl.SUN_AVOID_UNTIL_DAY
    assert content.TIMELINE_PLACEHOLDERS["redness_check_from_day"] == tl.REDNESS_EXPECTED_LAST_DAY + 1
    text = content.default().text("answers", "watch_flake")
    assert text == f"flaking past day {tl.FLAKING_EXPECTED_LAST_DAY}"


def test_one_wording_of_the_date_question() -> None:
    text = content.default().text("conversation", "ask_treatment_date")
    assert text.startswith("To tell whether that's expected, I need to know when your treatment was.")


# ------------------------------------------------------------------ errors at load time
@pytest.mark.parametrize(
    "files, message",
    [
        ({"en/a.yml": "responses:\n  x:\n    - text: Hi {nobody}\n"}, "unknown placeholder {nobody}"),
        ({"en/a.yml": "responses:\n  x:\n    - text: one\n  x:\n    - text: two\n"}, "duplicate key 'x'"),
        (
            {"en/a.yml": "responses:\n  x:\n    - text: one\n    - channel: sms\n      channel: web\n      text: b\n"},
            "duplicate key",
        ),
        ({"en/a.yml": GOOD, "es/a.yml": "responses:\n  other:\n    - text: Hola\n"}, "es/a.yml: missing key 'hello'"),
        ({"en/a.yml": GOOD, "es/a.yml": GOOD + "  extra:\n    - text: Hola\n"}, "key 'extra' is not in en/a.yml"),
        ({"en/a.yml": GOOD, "es/b.yml": GOOD}, "there is no en/b.yml"),
        ({"en/a.yml": "responses:\n  x:\n    - channel: fax\n      text: Hi\n"}, "channel must be one of"),
        ({"en/a.yml": "responses:\n  x:\n    - day: soon\n      text: Hi\n"}, "day must be"),
        ({"en/a.yml": "responses:\n  x:\n    - days: [1]\n      text: Hi\n"}, "days must be [first, last]"),
        ({"en/a.yml": "responses:\n  x:\n    - days: [1, soon]\n      text: Hi\n"}, "days bounds"),
        ({"en/a.yml": "responses:\n  x:\n    - txt: Hi\n"}, "unknown field 'txt'"),
        ({"en/a.yml": "responses:\n  x:\n    - channel: web\n"}, "missing 'text'"),
        ({"en/a.yml": "responses:\n  x: []\n"}, "non-empty list of variants"),
        ({"en/a.yml": "responses:\n  x:\n    - text: Hi {\n"}, "bad braces"),
        ({"en/a.yml": "responses:\n  x:\n    - text: Hi\n      buttons: [{title: Go}]\n"}, "'title' and 'payload'"),
        ({"en/a.yml": "x:\n  - text: Hi\n"}, "top-level 'responses'"),
    ],
)
def test_invalid_files_fail_at_load_time(tmp_path: Path, files: dict[str, str], message: str) -> None:
    with pytest.raises(ContentError) as err:
        load(write(tmp_path, files))
    assert message in str(err.value)


def test_a_key_the_code_needs_must_be_in_every_language(tmp_path: Path) -> None:
    root = write(tmp_path, {"en/a.yml": GOOD, "es/a.yml": "responses:\n  hello:\n    - text: Hola {first_name}\n"})
    assert load(root, required={"a": {"hello"}}).text("a", "hello", language="es", first_name="Ana") == "Hola Ana"
    with pytest.raises(ContentError, match="en/a.yml: missing key 'goodbye'"):
        load(root, required={"a": {"hello", "goodbye"}})
    with pytest.raises(ContentError, match="no en/b.yml"):
        load(root, required={"b": {"hello"}})


# ------------------------------------------------------------------ picking a variant
VARIANTS = """\
responses:
  tip:
    - day: unknown
      text: general
    - case: special
      text: special on day {day}
    - day: 0
      text: treatment day
    - days: [1, 2]
      text: early
    - days: [3, null]
      channel: web
      text: later on the web
      buttons:
        - title: More
          payload: /more
    - day: known
      text: later
  hi:
    - text:
        - first {first_name}
        - second, day {actives_from_day}
"""


@pytest.fixture
def sample(tmp_path: Path) -> content.Content:
    return load(write(tmp_path, {"en/a.yml": VARIANTS, "es/a.yml": VARIANTS.replace("general", "general (es)")}))


@pytest.mark.parametrize(
    "day, channel, case, expected",
    [
        (None, "sms", None, "general"),
        (None, "web", "special", "general"),  # the first variant whose conditions hold wins
        (0, "sms", None, "treatment day"),
        (0, "sms", "special", "special on day 0"),
        (1, "sms", None, "early"),
        (2, "web", None, "early"),
        (3, "sms", None, "later"),
        (40, "web", None, "later on the web"),
        (-1, "sms", None, "later"),
    ],
)
def test_variant_by_day_channel_and_case(sample: content.Content, day, channel, case, expected) -> None:
    assert sample.text("a", "tip", day=day, channel=channel, case=case) == expected


def test_buttons_and_several_messages(sample: content.Content) -> None:
    [web] = sample.render("a", "tip", day=9, channel="web")
    assert web.buttons == [{"title": "More", "payload": "/more"}]
    assert sample.render("a", "tip", day=9, channel="sms")[0].buttons == []
    first, second = sample.render("a", "hi", first_name="Ana")
    assert (first.text, second.text) == ("first Ana", f"second, day {tl.ACTIVES_FROM_DAY}")
    with pytest.raises(ContentError, match="2 messages"):
        sample.text("a", "hi", first_name="Ana")


def test_language_falls_back_to_english_without_a_file(sample: content.Content) -> None:
    assert sample.text("a", "tip", language="es") == "general (es)"
    assert sample.text("a", "tip", language="fr") == "general"


def test_render_errors(tmp_path: Path, sample: content.Content) -> None:
    with pytest.raises(ContentError, match="no entry 'nope'"):
        sample.text("a", "nope")
    with pytest.raises(ContentError, match="no content area"):
        sample.text("zzz", "tip")
    with pytest.raises(ContentError, match=r"needs a value for \{first_name\}"):
        sample.render("a", "hi")
    only_web = load(write(tmp_path / "w", {"en/a.yml": "responses:\n  x:\n    - channel: web\n      text: Hi\n"}))
    with pytest.raises(ContentError, match="no variant of 'x'"):
        only_web.text("a", "x", channel="sms")


def test_template_is_the_unfilled_text(sample: content.Content) -> None:
    assert sample.template("a", "tip", day=0) == "treatment day"
    assert sample.template("a", "tip", day=5, case="special") == "special on day {day}"


# ------------------------------------------------------------------ no prose in Python
# Modules whose patient-facing words must all come from content/. Add a module here once its
# text has moved (core/conversations.py, core/sms.py, actions/actions.py, ... are staged in content/).
PROSE_FREE = ["core/answers.py", "core/triage/replies.py"]
# Staff-facing literals these modules may keep (escalation reasons the inbox shows), by module.
STAFF_FACING = {"core/answers.py": {"patient asked to talk to staff"}}


def sentence_literals(path: Path, min_words: int = 4) -> list[str]:
    """String constants (f-string parts too) of ``min_words``+ words, docstrings aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = set()  # and the parts of f-strings, checked as a whole below
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            docstrings.update(id(v) for v in node.values)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if len(node.value.split()) >= min_words:
                found.append(f"{name}:{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.JoinedStr):
            words = " ".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values)
            if len(words.split()) >= min_words:
                found.append(f"{name}:{node.lineno}: f-string {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("module", PROSE_FREE)
def test_no_sentence_is_written_in_python(module: str) -> None:
    allowed = STAFF_FACING.get(module, set())
    found = [f for f in sentence_literals(ROOT / module) if not any(repr(a) in f for a in allowed)]
    assert not found, "patient-facing text belongs in content/ (docs/content.md):\n" + "\n".join(found)


def test_the_prose_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Doc string of many words is fine."""\nname = "x"\nX = f"Hi {name}, how are you today?"\n', encoding="utf-8"
    )
    assert [f.split(": ", 1)[0] for f in sentence_literals(sample)] == ["sample.py:3"]
    sample.write_text('X = "Please call us at once."\nY = "a short one"\n', encoding="utf-8")
    assert len(sentence_literals(sample)) == 1


def test_the_renderer_is_pure() -> None:
    """core/content.py reads files, the timeline and the vocabularies only: no database, models, web or Rasa."""
    tree = ast.parse((ROOT / "core" / "content.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {
        "__future__",
        "contextlib",  # speaking(): the turn's language, per thread and task
        "contextvars",
        "functools",
        "string",
        "collections.abc",
        "dataclasses",
        "pathlib",
        "typing",
        "yaml",
        "core",
        "core.enums",  # pure: the channel names
    }
    from_core = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "core" for a in n.names}
    assert from_core == {"timeline"}


# ------------------------------------------------------------- replies are never built from literals
# Where a sentence reaches a patient: a reply object, an action's utterance, an SMS reply helper.
REPLY_CALLS = {"Reply", "AssistantReply", "utter_message", "_reply", "patient_reply_text"}
REPLY_KEYWORDS = {"text", "texts", "body"}


def literal_replies(path: Path) -> list[str]:
    """Calls that build a patient's reply from a string literal (or a list of them)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in REPLY_CALLS:
            continue
        args = [*node.args, *(k.value for k in node.keywords if k.arg in REPLY_KEYWORDS)]
        for arg in args:
            items = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
            for item in items:
                if isinstance(item, ast.JoinedStr) or (isinstance(item, ast.Constant) and isinstance(item.value, str)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


PRODUCT_MODULES = sorted(p for pkg in ("core", "api", "actions", "bot") for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", PRODUCT_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reply_is_built_from_a_string_literal(path: Path) -> None:
    found = literal_replies(path)
    assert not found, "a patient's reply is written in content/ (docs/content.md), not in code: " + ", ".join(found)


def test_the_reply_literal_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('Reply("Hi there")\nd.utter_message(text=f"Day {n}")\nx._reply(s, c, m, ["Thanks!"])\n', encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(literal_replies(sample)) == 3
    finally:
        ROOT = saved
