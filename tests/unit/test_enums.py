"""Each vocabulary (levels, channels, statuses, authors, roles) is defined once, in core/enums.py.

A tuple, list or set of two or more members of one vocabulary written anywhere else in the
product is a second definition that can drift; derive it from core.enums instead. (Mappings
from a vocabulary to something else, e.g. display labels, are not checked; a literal that only
looks like one, e.g. Twilio's receipt statuses, says "not our vocabulary" in a comment.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.enums import Author, Channel, EscalationStatus, Level, OutboxStatus, Role

ROOT = Path(__file__).resolve().parents[2]
VOCABULARIES = {
    "levels": {m.value for m in Level},
    "channels": {m.value for m in Channel},
    "escalation statuses": {m.value for m in EscalationStatus},
    "outbox statuses": {m.value for m in OutboxStatus},
    "authors": {m.value for m in Author},
    "roles": {m.value for m in Role},
}


def second_definitions(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            continue
        items = node.elts
        if any("not our vocabulary" in line for line in lines[max(node.lineno - 2, 0) : node.end_lineno]):
            continue
        words = {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)}
        for name, vocabulary in VOCABULARIES.items():
            if len(words & vocabulary) >= 2:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} ({name}: {sorted(words & vocabulary)})")
    return found


PRODUCT = sorted(p for pkg in ("core", "api", "actions", "bot") for p in (ROOT / pkg).rglob("*.py") if p.name != "enums.py")


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_vocabulary_is_defined_once(path: Path) -> None:
    found = second_definitions(path)
    assert not found, "derive these from core.enums: " + "; ".join(found)


def test_the_vocabulary_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text('LEVELS = ("urgent", "emergency")\nOK = ("sms",)\n', encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(second_definitions(sample)) == 1
    finally:
        ROOT = saved


def test_members_equal_the_stored_strings() -> None:
    assert Channel.SMS == "sms" and Level.URGENT == "urgent" and Level.URGENT.rank == 2
    assert [lv.value for lv in sorted(Level, key=lambda lv: lv.rank)] == ["none", "routine", "urgent", "emergency"]
