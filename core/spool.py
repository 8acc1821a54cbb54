"""A small durable spool for inbound messages (and their red flags) that arrive while
the database is unreachable. Appended as JSON lines with fsync, replayed into the
database by the service's background loop until it succeeds."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        # message text and phone numbers: readable by the service's user only
        with self._lock, open(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def pending(self) -> int:
        with self._lock:
            if not self.path.exists():
                return 0
            with open(self.path, encoding="utf-8") as fh:
                return sum(1 for line in fh if line.strip())

    def drain(self, handler: Callable[[dict[str, Any]], None]) -> int:
        """Hand each record to ``handler``; records whose handler raised stay for next time."""
        with self._lock:
            if not self.path.exists():
                return 0
            with open(self.path, encoding="utf-8") as fh:
                records = [json.loads(line) for line in fh if line.strip()]
            done = 0
            keep: list[dict[str, Any]] = []
            for i, rec in enumerate(records):
                try:
                    handler(rec)
                    done += 1
                except Exception:
                    keep = records[i:]
                    break
            tmp = self.path.with_suffix(".tmp")
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
                for rec in keep:
                    fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            return done
