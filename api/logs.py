"""How the API process logs: one line per event, as text or as JSON (issue #19).

Several replicas feed one log pipeline (Loki, CloudWatch, journald...), which wants one JSON
object per line with the replica that wrote it. ``AFTERCARE_LOG_FORMAT=json`` (the default
outside development) gives exactly that through structlog's stdlib formatter (already a
dependency of Rasa): ``{"ts", "level", "logger", "event", "replica", "exception"?}``; ``text``
gives the same fields for a person reading a terminal. ``AFTERCARE_LOG_LEVEL`` sets the level.

The supervisor passes this configuration to uvicorn (``--log-config``), so it covers the
server's own loggers, the access log (whose paths api/access_log.py strips of capabilities) and
every ``aftercare.*`` logger of the product. What the product logs never includes a patient's
words, name or number: ids, counts, levels and exception types only (tests/unit/test_logs.py
checks a turn's log).
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

FORMATS = ("json", "text")


def _replica_adder(replica: str):
    def add(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("replica", replica)
        return event

    return add


def _chain(replica: str) -> list:
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        _replica_adder(replica),
    ]


def json_formatter(replica: str = "") -> logging.Formatter:
    """dictConfig factory: one JSON object per line."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_chain(replica),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(sort_keys=False),
        ],
    )


def text_formatter(replica: str = "") -> logging.Formatter:
    """dictConfig factory: the same fields, for a terminal."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_chain(replica),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.dev.ConsoleRenderer(colors=False, sort_keys=False),
        ],
    )


def dict_config(*, log_format: str, level: str, replica: str) -> dict[str, Any]:
    """A logging.config.dictConfig for the API process (uvicorn's --log-config takes it as JSON)."""
    if log_format not in FORMATS:
        raise ValueError(f"AFTERCARE_LOG_FORMAT must be one of {', '.join(FORMATS)}")
    level = level.upper() if level.upper() in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") else "INFO"
    formatter = {"()": f"api.logs.{log_format}_formatter", "replica": replica}
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"handlers": ["main"], "level": level},
        "loggers": {
            # uvicorn's loggers go through the same handler (they have their own by default)
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
        },
    }


def main() -> None:
    """`python -m api.logs json|text [LEVEL] [REPLICA]` prints the dictConfig as JSON, for running
    uvicorn under a process manager of your own (`uvicorn ... --log-config logging.json`)."""
    import json
    import socket
    import sys

    args = sys.argv[1:]
    log_format = args[0] if args else "json"
    level = args[1] if len(args) > 1 else "INFO"
    replica = args[2] if len(args) > 2 else socket.gethostname()
    print(json.dumps(dict_config(log_format=log_format, level=level, replica=replica), indent=1))


if __name__ == "__main__":
    main()
