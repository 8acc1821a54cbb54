"""One owner for each turn, checked on the source (issue #13).

- the Rasa actions only answer: nothing they import, directly or through core, reaches the
  database (core.db, core.models, SQLAlchemy) or the red-flag screen;
- bot/ (the Rasa side) imports only core;
- inside core, the pure layer (triage, timeline, dates, the turn contract, answers and
  content rendering) imports no models, no database and no SQLAlchemy.

Imports are followed transitively through core's own modules (``from core.x import y``
and ``from core import x``), so a pure module cannot reach the database by way of another.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DATABASE = ("core.db", "core.models", "sqlalchemy", "alembic")
PURE = [
    "core.triage",
    "core.timeline",
    "core.dates",
    "core.turn",
    "core.answers",
    "core.content",
    "core.topics",
    "core.clock",
    "core.enums",
]


def module_path(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def direct_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name == "__init__.py":
        package = package.rsplit(".", 1)[0]
    else:
        package = package.rsplit(".", 1)[0] if "." in package else ""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            out.add(module)
            # "from core import x" imports the module core.x
            out.update(f"{module}.{a.name}" for a in node.names if module_path(f"{module}.{a.name}") is not None)
    return out


@cache
def closure(module: str) -> frozenset[str]:
    """Every module ``module`` imports, following the project's own modules (core, bot, actions)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        path = module_path(current)
        if path is None or current.split(".")[0] not in ("core", "actions", "bot"):
            continue
        todo.extend(direct_imports(path))
        # importing core.a.b imports the package core.a first
        parts = current.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(seen)


def reaches(module: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in closure(module) if any(m == f or m.startswith(f + ".") for f in forbidden))


def modules_of(package: str) -> list[str]:
    return [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in sorted((ROOT / package).rglob("*.py"))
    ]


@pytest.mark.parametrize("module", modules_of("actions"))
def test_actions_never_reach_the_database_or_the_screen(module: str) -> None:
    assert not reaches(module, DATABASE), f"{module} reaches {reaches(module, DATABASE)}"
    # the screen's verdict comes with the message (core.turn.ScreenFacts): no action runs a screen
    screening = {"core.screening", "core.triage.engine", "core.triage_model", "core.conversations", "core.outcomes"}
    tree = ast.parse(module_path(module).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert not (direct_imports(module_path(module)) & screening) and not ({"screen", "Screener"} & names)


@pytest.mark.parametrize("module", modules_of("bot"))
def test_bot_imports_only_core(module: str) -> None:
    own = {m.split(".")[0] for m in direct_imports(module_path(module))} & {"api", "actions", "scripts"}
    assert not own, f"{module} imports {own}"
    assert not reaches(module, DATABASE), f"{module} reaches {reaches(module, DATABASE)}"


@pytest.mark.parametrize("module", [m for m in PURE if module_path(m) is not None])
def test_the_pure_layer_of_core_has_no_database(module: str) -> None:
    for sub in [module, *(m for m in modules_of(module.replace(".", "/")) if (ROOT / module.replace(".", "/")).is_dir())]:
        assert not reaches(sub, DATABASE), f"{sub} reaches {reaches(sub, DATABASE)}"


def test_the_layer_check_can_fail() -> None:
    """The service (which owns the turn) does reach the database: the check sees through imports."""
    assert "core.models" in reaches("core.conversations", DATABASE)
    assert reaches("core.clinic", DATABASE)  # core.clinic -> core.models


@pytest.mark.parametrize("package", ["core", "api", "actions", "bot"])
def test_no_import_error_fallbacks_in_product_code(package: str) -> None:
    """Parts that are always present are imported plainly: no `except ImportError` fossils."""
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = [n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)]
                if {"ImportError", "ModuleNotFoundError"} & set(names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def clock_today_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "today"
        and isinstance(n.func.value, ast.Attribute)
        and n.func.value.attr == "clock"
    ]


@pytest.mark.parametrize("package", ["core", "api", "actions", "bot"])
def test_the_clinic_row_is_the_one_calendar(package: str) -> None:
    """Product code asks core.clinic.clinic_today (the clinic row's time zone), never clock.today()."""
    found = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / package).rglob("*.py")) for n in clock_today_calls(p)]
    assert not found, found


def test_the_calendar_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("today = self.clock.today()\nd = container.clock.today()\n", encoding="utf-8")
    assert clock_today_calls(sample) == [1, 2]


MAX_LINES = 500


@pytest.mark.parametrize("package", ["core", "api", "actions", "bot"])
def test_no_module_is_over_500_lines(package: str) -> None:
    """A module that outgrows 500 lines mixes areas: split it by concern (issue #13)."""
    long = [
        f"{p.relative_to(ROOT)} ({n} lines)"
        for p in sorted((ROOT / package).rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, long
