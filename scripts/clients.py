"""Evaluation and benchmark traffic plays many patients, each behind the clinic's reverse proxy:
the test process is that proxy (on loopback, a trusted proxy by default) and names a different
client in X-Forwarded-For for each simulated patient, so the per-client limits of the web chat
(api/limits.py) see many patients, as in real use, not one client opening thousands of sessions."""

from __future__ import annotations

import itertools

_counter = itertools.count(1)


def patient_headers(i: int | None = None) -> dict[str, str]:
    """Headers of the i-th simulated patient (a new one each call when ``i`` is None)."""
    n = next(_counter) if i is None else i
    return {"X-Forwarded-For": f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"}
