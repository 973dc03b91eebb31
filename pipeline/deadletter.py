"""Rows the store refused as bad data: kept in a JSON-lines file with the reason, never lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson


class DeadLetterFile:
    """Appends refused rows to `<data_dir>/deadletter/<table>.jsonl` for inspection and replay."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def write(self, table: str, rows: Sequence[dict[str, Any]], reason: str) -> None:
        """Record rows with why they were refused."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.time()
        lines = b"".join(
            orjson.dumps({"at": stamp, "reason": reason[:500], "row": row}) + b"\n" for row in rows
        )
        with self._lock, open(self.folder / f"{table}.jsonl", "ab") as out:
            out.write(lines)
