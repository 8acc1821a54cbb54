"""The API process's logs (api/logs.py): one JSON object per line with the replica's name, or the
same fields as text; and what a turn logs never carries the patient's words or number."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import pytest

from api.logs import dict_config, json_formatter, text_formatter
from core.db import session_scope
from core.models import Conversation
from tests.fakes import FakeAssistant
from tests.unit.test_conversation_service import make_service


def record(msg: str, *args, level: int = logging.WARNING, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("aftercare.sms", level, __file__, 1, msg, args, exc_info)


def test_json_lines_carry_time_level_logger_event_and_replica():
    line = json_formatter("node-2:8002").format(record("resuming %d unanswered inbound SMS", 3))
    data = json.loads(line)
    assert data["event"] == "resuming 3 unanswered inbound SMS"
    assert data["level"] == "warning" and data["logger"] == "aftercare.sms"
    assert data["replica"] == "node-2:8002"
    assert data["ts"].endswith("Z") and "\n" not in line


def test_an_exception_stays_on_its_json_line():
    line = json_formatter("r1").format(record("turn failed", exc=True))
    data = json.loads(line)
    assert "RuntimeError: boom" in data["exception"] and "\n" not in line


def test_text_has_the_same_fields():
    line = text_formatter("r1").format(record("outbox row %s sent", "abc"))
    assert "outbox row abc sent" in line and "aftercare.sms" in line and "r1" in line and "warning" in line


def test_the_config_routes_uvicorn_through_one_handler_and_refuses_an_unknown_format():
    cfg = dict_config(log_format="json", level="debug", replica="r1")
    assert cfg["root"]["level"] == "DEBUG"
    assert cfg["formatters"]["main"]["()"] == "api.logs.json_formatter"
    assert all(cfg["loggers"][n]["propagate"] and not cfg["loggers"][n]["handlers"] for n in cfg["loggers"])
    json.dumps(cfg)  # uvicorn's --log-config reads it as a JSON file
    with pytest.raises(ValueError):
        dict_config(log_format="xml", level="INFO", replica="r1")


def test_a_turn_logs_no_words_and_no_number_of_the_patient(session_factory, fixed_clock, tmp_path, caplog):
    assistant = FakeAssistant()
    assistant.down = True  # the failure path logs the most
    service = make_service(session_factory, fixed_clock, tmp_path, assistant, 1.0)
    with session_scope(session_factory) as s:
        conv = Conversation(channel="web")
        s.add(conv)
        s.flush()
        msg, _ = service.receive(
            s, conversation=conv, text="my chin has zorblax crust, call me at 201-555-0142, also can I wear makeup"
        )
        mid = msg.id
    caplog.set_level(logging.DEBUG)
    asyncio.run(service.process(mid))
    assert caplog.records, "the failure was not logged at all"
    logged = caplog.text.lower()
    for secret in ("zorblax", "555-0142", "5550142", "makeup", "chin"):
        assert secret not in logged
