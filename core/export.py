"""Exports for the clinic's records: escalations as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

EXPORT_COLUMNS = (
    "id",
    "level",
    "status",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "patient",
    "channel",
    "recovery_day",
    "reason",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A spreadsheet cannot run it: a cell starting with = + - @ (or a tab/CR) gets a leading quote (OWASP)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def escalations_csv(session: Session, *, status: str | None = None) -> str:
    """The escalations as CSV for the clinic's records (no message text: reasons and levels only)."""
    from core.escalations import list_escalations

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for e in list_escalations(session, status=status or None, limit=10_000):
        who = " ".join(x for x in ((e.patient.first_name, e.patient.last_name) if e.patient else ()) if x) or "not on file"
        row = (
            e.id,
            e.level,
            e.status,
            e.created_at.isoformat() if e.created_at else "",
            e.acknowledged_at.isoformat() if e.acknowledged_at else "",
            e.resolved_at.isoformat() if e.resolved_at else "",
            who,
            e.conversation.channel if e.conversation else "",
            "" if e.recovery_day is None else e.recovery_day,
            e.reason,
        )
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()
