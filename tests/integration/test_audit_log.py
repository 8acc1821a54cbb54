"""The audit log is append-only in the database and hash-chained (issue #16, item 7)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core import audit
from core.db import make_engine, make_session_factory, session_scope
from tests.fakes import test_clock


@pytest.fixture
def factory(db_url):
    engine = make_engine(db_url)
    yield make_session_factory(engine, test_clock())
    engine.dispose()


def write_three(factory) -> None:
    with session_scope(factory) as s:
        audit.record(
            s, actor_id="u1", actor_label="Nurse Joy", action="escalation.view", object_type="escalation", object_id="e1"
        )
        audit.record(s, actor_id="u1", actor_label="Nurse Joy", action="escalation.acknowledge", object_id="e1")
    with session_scope(factory) as s:
        audit.record(s, actor_id=None, actor_label="system", action="checkin.sent", object_id="p1")


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"])
def test_plain_sql_cannot_change_or_delete_an_entry(factory, statement):
    write_three(factory)
    with pytest.raises(Exception, match="append-only"):
        with session_scope(factory) as s:
            s.execute(text(statement))
    with session_scope(factory) as s:
        assert s.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 3


def test_the_hash_chain_is_intact_and_shows_an_inserted_forgery(factory):
    write_three(factory)
    with session_scope(factory) as s:
        assert audit.verify_chain(s) == []
        # INSERT is allowed (that is how entries are added): a forged entry does not chain
        s.execute(
            text(
                "INSERT INTO audit_log (at, actor_label, action, object_type, object_id, detail, prev_hash, entry_hash) "
                "VALUES (:at, 'intruder', 'escalation.resolve', '', 'e1', '', 'x', 'y')"
            ),
            {"at": test_clock().now()},
        )
    with session_scope(factory) as s:
        broken = audit.verify_chain(s)
        assert len(broken) == 1
    # and entries written after it chain again from the forged one's hash, so only it is flagged
    with session_scope(factory) as s:
        audit.record(s, actor_id=None, actor_label="system", action="checkin.sent", object_id="p2")
    with session_scope(factory) as s:
        assert audit.verify_chain(s) == broken


def test_the_cli_reports_the_chain(factory, db_url, monkeypatch, capsys):
    from api import cli

    write_three(factory)
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", db_url)
    monkeypatch.setenv("AFTERCARE_ENV", "test")
    assert cli.main(["verify-audit"]) == 0 and "intact" in capsys.readouterr().out
