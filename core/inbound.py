"""What every inbound text goes through before anything reads or stores it."""

from __future__ import annotations

import re

# C0 control characters (NUL first of all: PostgreSQL refuses it in text) except tab and newlines
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str | None) -> str:
    """The text with control characters replaced by a space (NUL and friends), nothing else changed."""
    return _CONTROL.sub(" ", text or "")
