"""Structured JSON logs: one object per line, client-supplied values escaped by JSON encoding."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
MAX_VALUE = 512


class JsonFormatter(logging.Formatter):
    """Format records as JSON with their `extra` fields; long values are cut."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage()[:MAX_VALUE],
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value[:MAX_VALUE] if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)[-2000:]
        return orjson.dumps(entry, default=str).decode()


def setup_logging(level: str = "info") -> None:
    """Send JSON logs to stderr for our loggers and uvicorn's."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
