"""The password policy for staff accounts (NIST SP 800-63B 5.1.1.2, OWASP ASVS 4.0 V2.1).

- at least 12 characters, up to 128 (so pass phrases and password managers' output fit);
  every character counts, spaces and any Unicode included, nothing is trimmed;
- no composition rules (no "one digit, one symbol");
- refused when it is a common or breached password: the 30,000 most common passwords shipped
  in the ``zxcvbn`` package (nothing is fetched at run time), compared case-insensitively and
  also without a trailing run of digits or symbols ("Password1234!" is "password");
- refused when zxcvbn rates it guessable (score below 3 of 4), for instance a keyboard walk, a
  repeated word, a date, or the staff member's own name or email.

``problem()`` returns the reason in words a staff member can act on, or None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 3  # zxcvbn: 0 too guessable ... 4 very unguessable
_CHECKED_PREFIX = 72  # zxcvbn rates at most 72 characters (its matching is quadratic)

_TRAILING = re.compile(r"[\d\W_]+$")
_LEADING = re.compile(r"^[\d\W_]+")


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """In the common-password list, as typed, lower-cased, or stripped of leading and trailing digits and symbols."""
    low = password.lower()
    candidates = {low, low.replace(" ", ""), _TRAILING.sub("", low), _LEADING.sub("", _TRAILING.sub("", low))}
    common = _common()
    return any(c and c in common for c in candidates) or _is_one_repeated_common_word(low)


def _is_one_repeated_common_word(low: str) -> bool:
    """'monkeymonkeymonkey', 'qwerty qwerty 12'."""
    core = _TRAILING.sub("", low).replace(" ", "")
    for size in range(1, len(core) // 2 + 1):
        if len(core) % size == 0 and core[:size] * (len(core) // size) == core:
            return core[:size] in _common() or size <= 3
    return False


def _only_own_details(password: str, inputs: list[str]) -> bool:
    """'NurseJoy2026!' for Nurse Joy: nothing but their name or email parts, digits and symbols."""
    letters = re.sub(r"[\d\W_]+", "", password.lower())
    rest = letters
    for part in sorted(set(inputs), key=len, reverse=True):
        rest = rest.replace(part, "")
    return rest != letters and len(rest) < 4


def problem(password: str, *, user_inputs: Iterable[str] = ()) -> str | None:
    """Why ``password`` may not be used, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"the password must be at least {MIN_LENGTH} characters long (a few unrelated words make a good one)"
    if len(password) > MAX_LENGTH:
        return f"the password may be at most {MAX_LENGTH} characters long"
    if is_common(password):
        return (
            "this password is on the list of common or breached passwords; choose another (a few unrelated words make a good one)"
        )
    import zxcvbn

    inputs = [part for value in user_inputs for part in re.split(r"[@.\s_-]+", value.lower()) if len(part) >= 3]
    if _only_own_details(password, inputs):
        return "the password may not be made of your own name or email; add a few unrelated words"
    result = zxcvbn.zxcvbn(password[:_CHECKED_PREFIX], user_inputs=inputs)
    if result["score"] < MIN_SCORE:
        hint = result["feedback"].get("warning") or "it would be guessed quickly"
        return f"this password is too easy to guess ({hint.rstrip('.').lower()}); add a few unrelated words"
    return None
