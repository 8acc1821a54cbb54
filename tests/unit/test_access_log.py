"""api/access_log.py: capabilities never reach the access log."""

from __future__ import annotations

import logging

import pytest

from api.access_log import RedactAccessLog, install, redact_path


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/chat/AbC123secretToken", "/chat/<token>"),
        ("/chat/AbC123secretToken?utm=x&ref=y", "/chat/<token>?utm=<redacted>&ref=<redacted>"),
        ("/api/v1/chat/sessions/5f0c9a/messages", "/api/v1/chat/sessions/<session>/messages"),
        ("/api/v1/chat/sessions/5f0c9a", "/api/v1/chat/sessions/<session>"),
        ("/api/v1/chat/sessions", "/api/v1/chat/sessions"),
        ("/inbox/escalations/42", "/inbox/escalations/42"),
        ("/healthz", "/healthz"),
    ],
)
def test_redact_path(path, logged):
    assert redact_path(path) == logged


def test_filter_rewrites_uvicorns_access_record():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/chat/AbC123secretToken", "1.1", 200),
        None,
    )
    assert RedactAccessLog().filter(record) is True
    assert record.getMessage() == '127.0.0.1:5000 - "GET /chat/<token> HTTP/1.1" 200'


def test_install_adds_the_filter_once():
    install("aftercare.test.access")
    install("aftercare.test.access")
    filters = logging.getLogger("aftercare.test.access").filters
    assert sum(isinstance(f, RedactAccessLog) for f in filters) == 1
