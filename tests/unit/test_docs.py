"""The docs name files that exist: every path-looking reference in README.md and docs/ is in the repo.

A clone of the project has only the repository: the specification it needs lives in docs/
(docs/triage-policy.md, docs/spec/topics.yml, docs/api.md); the clinic's aftercare guide is the
clinic's text and is cited by name, never by a path outside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

# folders of the repository (and `shared/`, `spec/`, which are not: a reference to them must fail)
_TOP = (
    "core",
    "api",
    "actions",
    "bot",
    "scripts",
    "docs",
    "tests",
    "data",
    "migrations",
    "triage-data",
    "content",
    "shared",
    "spec",
)
# not preceded by a word character, `/`, `.` or `-`: leaves URL paths (/api/v1/...) and sub-paths alone
PATH_REF = re.compile(r"(?<![\w/.-])(?:\.\./)?(?:" + "|".join(re.escape(t) for t in _TOP) + r")/[\w./-]*[\w/]")
# markdown link targets: [text](target)
LINK = re.compile(r"\]\(([^)\s]+)\)")
# made at run time or by make, never in a clone
GENERATED = ("var/", "models/", "results/", "test-artifacts/", ".venv/")


def references(text: str) -> list[tuple[int, str, bool]]:
    """(line, reference, relative to the document?) for each path-looking reference in ``text``."""
    found: list[tuple[int, str, bool]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in PATH_REF.finditer(LINK.sub("]()", line)):  # link targets are relative to the document
            found.append((number, match.group(0), False))
        for match in LINK.finditer(line):
            target = match.group(1).split("#", 1)[0]
            if target and not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                found.append((number, target, True))
    return [(n, ref, rel) for n, ref, rel in found if not any(g in ref for g in "*{}") and "..." not in ref]


def missing(doc: Path) -> list[str]:
    problems = []
    for number, ref, relative in references(doc.read_text(encoding="utf-8")):
        if ref.startswith(GENERATED):
            continue
        target = (doc.parent if relative else ROOT) / ref
        inside = target.resolve().is_relative_to(ROOT)
        if not inside or not target.exists():
            problems.append(f"{doc.relative_to(ROOT)}:{number} {ref}")
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_the_docs_name_exists(doc: Path) -> None:
    assert missing(doc) == []


def test_the_docs_check_can_fail(tmp_path: Path) -> None:
    sample = ROOT / "docs" / "_sample_for_test.md"
    sample.write_text(
        "See `core/triage.py`, docs/clinical-sources.md and ../shared/spec/topics.yml;\n"
        "[policy](triage-policy.md), [gone](nowhere.md), `core/timeline.py`, POST /api/v1/chat/sessions, "
        "`var/aftercare.db`, [site](https://example.org/x.md), [the spec](spec/topics.yml)\n",
        encoding="utf-8",
    )
    try:
        assert missing(sample) == [
            "docs/_sample_for_test.md:1 core/triage.py",
            "docs/_sample_for_test.md:1 docs/clinical-sources.md",
            "docs/_sample_for_test.md:1 ../shared/spec/topics.yml",
            "docs/_sample_for_test.md:2 nowhere.md",
        ]
    finally:
        sample.unlink()
