"""The dependency direction api -> core <- actions, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", files("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_no_framework_and_no_adapter(path: Path) -> None:
    forbidden = {"fastapi", "starlette", "rasa", "rasa_sdk", "twilio", "api", "actions", "bot", "uvicorn", "sanic"}
    assert not (imported_modules(path) & forbidden), f"{path} imports {imported_modules(path) & forbidden}"


@pytest.mark.parametrize("path", files("api"), ids=lambda p: str(p.relative_to(ROOT)))
def test_api_does_not_import_actions_or_rasa(path: Path) -> None:
    forbidden = {"actions", "rasa", "rasa_sdk", "bot"}
    assert not (imported_modules(path) & forbidden)


@pytest.mark.parametrize("path", files("actions"), ids=lambda p: str(p.relative_to(ROOT)))
def test_actions_do_not_import_api(path: Path) -> None:
    assert "api" not in imported_modules(path)


def test_nothing_created_at_import_time() -> None:
    """Importing the app module builds nothing: the app exists only once create_app() runs."""
    import importlib

    module = importlib.import_module("api.app")
    assert not any(type(v).__name__ == "FastAPI" for v in vars(module).values())
    tree = ast.parse((ROOT / "actions").joinpath("__init__.py").read_text()) if (ROOT / "actions/__init__.py").exists() else None
    if tree is not None:
        calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
        assert not calls, "actions/__init__.py must not run code at import time"


# ------------------------------------------------------------------ one clock
_WALL_CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("time", "time")}


def wall_clock_calls(path: Path) -> list[str]:
    """Calls such as datetime.now(), datetime.utcnow(), date.today(), time.time() in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
            if (owner_name, node.func.attr) in _WALL_CLOCK_CALLS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {owner_name}.{node.func.attr}()")
    return found


PRODUCT_FILES = [p for pkg in ("core", "api", "actions", "bot") for p in files(pkg)]


@pytest.mark.parametrize("path", PRODUCT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_product_code_reads_time_only_from_the_clock(path: Path) -> None:
    """Every stamp and comparison takes its time from the injected Clock (core/clock.py is the one
    place that reads the wall clock). Monotonic timers (time.monotonic) for timeouts are fine."""
    if path == ROOT / "core" / "clock.py":
        return
    assert wall_clock_calls(path) == []


def test_the_wall_clock_check_can_fail(tmp_path: Path) -> None:
    sample = ROOT / "core" / "_sample_for_test.py"
    sample.write_text("from datetime import datetime, timezone\nx = datetime.now(timezone.utc)\n", encoding="utf-8")
    try:
        assert wall_clock_calls(sample) == ["core/_sample_for_test.py:2 datetime.now()"]
    finally:
        sample.unlink()


# ------------------------------------------------------------------ scripts/ are developer tools
# The product (and the fixtures every test relies on) never imports scripts/: the database bootstrap
# is core/bootstrap.py, the supervisor api/supervisor.py, the operator commands api/cli.py. A script
# may import the package, never the reverse (tests of the developer tools themselves may import them).
NO_SCRIPTS_FILES = [*PRODUCT_FILES, ROOT / "tests" / "conftest.py"]


@pytest.mark.parametrize("path", NO_SCRIPTS_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_product_code_does_not_import_scripts(path: Path) -> None:
    assert "scripts" not in imported_modules(path)


def test_the_scripts_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from scripts.eval import RANK\n    return RANK\n", encoding="utf-8")
    assert "scripts" in imported_modules(sample)


# ------------------------------------------------------------- explicit wiring (issue 13, seam 5)
def extras_uses(path: Path) -> list[str]:
    """Every ``<something>.extras`` in one file (the old string-keyed plugin dict)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "extras"
    ]


@pytest.mark.parametrize("path", files("api"), ids=lambda p: str(p.relative_to(ROOT)))
def test_api_has_no_extras_dict(path: Path) -> None:
    """Each part of the API process is a named, typed field of api.container.Container."""
    assert extras_uses(path) == []


def guarded_imports(path: Path) -> list[str]:
    """Imports inside a try block (an optional part switched on by whether it imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{inner.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Try)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Import | ast.ImportFrom)
        or (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "__import__")
    ]


def test_the_composition_root_imports_every_part_plainly() -> None:
    """api/app.py imports its routers and parts directly: a missing module is an error, not a missing feature."""
    assert guarded_imports(ROOT / "api" / "app.py") == []


def test_the_wiring_checks_can_fail(tmp_path: Path) -> None:
    sample = ROOT / "api" / "_sample_for_test.py"
    sample.write_text(
        "try:\n    from api.routes import widget\nexcept ModuleNotFoundError:\n    widget = None\n"
        "def f(c):\n    return c.extras.get('x')\n",
        encoding="utf-8",
    )
    try:
        assert guarded_imports(sample) == ["api/_sample_for_test.py:2"]
        assert extras_uses(sample) == ["api/_sample_for_test.py:6"]
    finally:
        sample.unlink()


@pytest.mark.parametrize("path", files("api"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_api_module_over_500_lines(path: Path) -> None:
    """One module per area (the staff inbox was one 1,078-line file of nine areas)."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500
