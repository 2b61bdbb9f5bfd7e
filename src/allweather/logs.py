"""Logging: key=value lines on a terminal, JSON lines when ALLWEATHER_LOG_JSON is set."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        return json.dumps(payload, default=str, ensure_ascii=False)


class _KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _RESERVED)
        return (
            f"{record.levelname.lower():7} {record.name}: {record.getMessage()} {extras}".rstrip()
        )


def configure_logging(level: str = "INFO") -> None:
    """Send platform logs to stderr (stdout is for data)."""
    handler = logging.StreamHandler(sys.stderr)
    as_json = os.environ.get("ALLWEATHER_LOG_JSON", "") not in ("", "0", "false")
    handler.setFormatter(_JsonFormatter() if as_json else _KeyValueFormatter())
    root = logging.getLogger("allweather")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
