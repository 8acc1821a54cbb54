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
