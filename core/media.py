"""Photos patients send. By MMS: registered when the SMS is stored, fetched in the background through
the MediaFetcher port (the Twilio adapter, with the account's credentials), kept in the database
(so every replica can show them), and shown only to signed-in staff. From the web chat: uploaded
with the message and stored at once (:func:`store_upload`).

Only images are kept, checked by their first bytes as well as their declared type, and at most
``MAX_BYTES`` each; anything else is recorded as failed with a reason staff can read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.db import now_of
from core.models import Message, MessageMedia

log = logging.getLogger("aftercare.media")

MAX_BYTES = 5 * 1024 * 1024
MAX_ATTEMPTS = 5
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif"})


@dataclass(frozen=True)
class Fetched:
    content_type: str
    data: bytes


class MediaError(RuntimeError):
    """The media could not be fetched; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MediaFetcher(Protocol):
    def fetch(self, url: str, *, max_bytes: int) -> Fetched: ...


def looks_like_an_image(data: bytes) -> str | None:
    """The image type the bytes really are (magic numbers), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heif"):
        return "image/heic"
    return None


def register(session: Session, message: Message) -> list[MessageMedia]:
    """One pending row per media URL of an inbound message (fetched later by :func:`fetch_pending`)."""
    rows = [MessageMedia(message_id=message.id, source_url=url[:1000]) for url in (message.media_urls or [])]
    session.add_all(rows)
    return rows


def store_upload(session: Session, message: Message, *, data: bytes, content_type: str) -> MessageMedia:
    """A photo the patient uploaded in the web chat (already checked: an image, at most MAX_BYTES)."""
    row = MessageMedia(
        message_id=message.id,
        source_url="upload:web",
        status="stored",
        content_type=content_type,
        size=len(data),
        data=data,
        attempts=0,
        fetched_at=now_of(session),
    )
    session.add(row)
    return row


CLAIM_S = 120  # a fetch not recorded by then was interrupted (a replica died): another may take it


def pending(session: Session, *, limit: int = 10) -> list[tuple[str, str]]:
    """Claim and return (id, url) of photos still to fetch, for ``CLAIM_S`` seconds.

    The fetch itself runs outside any transaction (no lock is held while the provider answers);
    the claim makes each photo one replica's: rows are taken with ``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL (SQLite's one writer serialises the same), and a claimed row is skipped by the
    other replicas until its claim runs out. :func:`record` stores a photo once in any case."""
    now = now_of(session)
    q = (
        select(MessageMedia)
        .where(
            MessageMedia.status == "pending",
            or_(MessageMedia.claimed_until.is_(None), MessageMedia.claimed_until < now),
        )
        .order_by(MessageMedia.created_at)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rows = list(session.execute(q).scalars())
    for row in rows:
        row.claimed_until = now + timedelta(seconds=CLAIM_S)
    return [(row.id, row.source_url) for row in rows]


def fetch(url: str, fetcher: MediaFetcher) -> Fetched | MediaError:
    """Fetch one photo and check it is an image we keep (no database involved)."""
    try:
        got = fetcher.fetch(url, max_bytes=MAX_BYTES)
    except MediaError as exc:
        return exc
    kind = looks_like_an_image(got.data)
    if kind is None or got.content_type.split(";")[0].strip().lower() not in IMAGE_TYPES:
        return MediaError(f"not an image we keep ({got.content_type[:40]})", permanent=True)
    return Fetched(kind, got.data)


def record(session: Session, media_id: str, result: Fetched | MediaError) -> str:
    """Keep the photo (or the reason it failed). Returns the row's status."""
    row = session.get(MessageMedia, media_id)
    if row is None or row.status != "pending":
        return row.status if row is not None else "gone"
    row.attempts = (row.attempts or 0) + 1
    if isinstance(result, Fetched):
        row.content_type, row.data, row.size = result.content_type, result.data, len(result.data)
        row.status, row.error, row.fetched_at = "stored", None, now_of(session)
    else:
        row.error = str(result)[:300]
        row.claimed_until = None  # free to try again at the next round
        if result.permanent or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        log.warning("photo %s not fetched (attempt %d)", row.id, row.attempts)
    return row.status


def counts(session: Session, message_ids: list[str]) -> dict[str, int]:
    """How many photos each of these messages carries (without loading any image)."""
    if not message_ids:
        return {}
    rows = session.execute(
        select(MessageMedia.message_id, func.count(MessageMedia.id))
        .where(MessageMedia.message_id.in_(message_ids))
        .group_by(MessageMedia.message_id)
    ).all()
    return {r[0]: int(r[1]) for r in rows}


def for_messages(session: Session, message_ids: list[str]) -> dict[str, list[MessageMedia]]:
    """The media of these messages (without their bytes loaded twice), by message id."""
    if not message_ids:
        return {}
    out: dict[str, list[MessageMedia]] = {}
    for row in session.execute(
        select(MessageMedia).where(MessageMedia.message_id.in_(message_ids)).order_by(MessageMedia.created_at)
    ).scalars():
        out.setdefault(row.message_id, []).append(row)
    return out
