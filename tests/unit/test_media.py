"""Patient photos (core/media.py and the Twilio fetcher's address check)."""

from __future__ import annotations

import pytest

from api.sms.media_fetcher import HttpMediaFetcher
from core import media
from core.media import Fetched, MediaError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16


class Fetcher:
    def __init__(self, result):
        self.result = result

    def fetch(self, url, *, max_bytes):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def test_only_real_images_are_kept() -> None:
    assert media.looks_like_an_image(PNG) == "image/png" and media.looks_like_an_image(JPEG) == "image/jpeg"
    assert media.looks_like_an_image(b"<html><script>") is None
    assert isinstance(media.fetch("u", Fetcher(Fetched("image/png", PNG))), Fetched)
    refused = media.fetch("u", Fetcher(Fetched("image/png", b"<svg onload=alert(1)>")))  # says png, is not
    assert isinstance(refused, MediaError) and refused.permanent
    assert isinstance(media.fetch("u", Fetcher(Fetched("text/html", PNG))), MediaError)


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", True),
        ("https://media.twiliocdn.com.evil.example/x", False),
        ("http://api.twilio.com/x", False),  # not https
        ("https://169.254.169.254/latest/meta-data", False),
        ("http://127.0.0.1:9999/x", False),
    ],
)
def test_the_fetcher_calls_only_twilio(url: str, ok: bool) -> None:
    assert HttpMediaFetcher().allowed(url) is ok


def test_retries_then_gives_up_with_a_reason(session_factory) -> None:
    from core.db import session_scope
    from core.models import MessageMedia

    media_id = _one_pending_photo(session_factory)
    for attempt in range(media.MAX_ATTEMPTS):
        with session_scope(session_factory) as s:
            status = media.record(s, media_id, MediaError("network error"))
        assert status == ("failed" if attempt == media.MAX_ATTEMPTS - 1 else "pending")
    with session_scope(session_factory) as s:
        assert s.get(MessageMedia, media_id).error == "network error"
        assert media.pending(s) == []


def _one_pending_photo(session_factory) -> str:
    from core.db import session_scope
    from core.models import Conversation, Message

    with session_scope(session_factory) as s:
        conv = Conversation(channel="sms", phone="+12015550123")
        s.add(conv)
        s.flush()
        msg = Message(conversation_id=conv.id, direction="in", author="patient", channel="sms", text="", media_urls=["u1"])
        s.add(msg)
        s.flush()
        [row] = media.register(s, msg)
        s.flush()
        return row.id


def test_a_claimed_photo_is_fetched_by_one_replica_until_its_claim_runs_out(session_factory, fixed_clock) -> None:
    """Issue #19: every replica's worker asks for pending photos; each is downloaded once."""
    from core.db import session_scope

    media_id = _one_pending_photo(session_factory)
    with session_scope(session_factory) as s:
        assert media.pending(s) == [(media_id, "u1")]  # replica 1 takes it
    with session_scope(session_factory) as s:
        assert media.pending(s) == []  # replica 2 finds nothing to do
    fixed_clock.advance(seconds=media.CLAIM_S + 1)  # replica 1 died mid-download
    with session_scope(session_factory) as s:
        assert media.pending(s) == [(media_id, "u1")]
    with session_scope(session_factory) as s:
        assert media.record(s, media_id, MediaError("network error")) == "pending"
    with session_scope(session_factory) as s:
        assert media.pending(s) == [(media_id, "u1")]  # a failed try frees it for the next round
