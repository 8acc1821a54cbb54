"""Keep patients' capabilities out of the access log.

uvicorn logs every request line. Two parts of our URLs are bearer capabilities: the patient's
chat token in ``/chat/{token}`` (it opens that patient's conversation) and the web chat
``session_id`` in ``/api/v1/chat/sessions/{id}/...`` (it reads and continues one). Query
strings may carry tokens too. This filter rewrites the logged path before it is formatted, so
the log keeps the route, the method and the status, and nothing that lets a reader of the log
into a patient's conversation.
"""

from __future__ import annotations

import logging
import re

_RULES = (
    (re.compile(r"^/chat/[^/?#]+"), "/chat/<token>"),
    (re.compile(r"^/api/v1/chat/sessions/[^/?#]+"), "/api/v1/chat/sessions/<session>"),
)


def redact_path(path: str) -> str:
    """The path as it may be logged: capabilities replaced, query values dropped."""
    base, sep, query = path.partition("?")
    for pattern, replacement in _RULES:
        base = pattern.sub(replacement, base)
    if sep:
        keys = [part.split("=", 1)[0] for part in query.split("&") if part]
        return base + "?" + "&".join(f"{k}=<redacted>" for k in keys)
    return base


class RedactAccessLog(logging.Filter):
    """A filter for the ``uvicorn.access`` logger (args: client, method, path, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def install(logger_name: str = "uvicorn.access") -> None:
    """Add the filter once (create_app may run more than once in a process)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactAccessLog) for f in logger.filters):
        logger.addFilter(RedactAccessLog())
