"""Helpers shared by the CLI commands."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy.exc import OperationalError

from allweather.errors import AllweatherError
from allweather.logs import configure_logging
from allweather.platform import Platform, open_platform
from allweather.settings import load_settings

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Turn platform errors into a one-line message and the contract's exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AllweatherError as err:
            click.echo(f"错误 error: {err.message}", err=True)
            sys.exit(err.exit_code)
        except OperationalError as err:
            # An unreachable or misconfigured database: say which, not a traceback.
            reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
            click.echo(f"错误 error: cannot use the database: {reason}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def platform_from_env(migrate: bool = True) -> Platform:
    """Open the platform the ``ALLWEATHER_*`` settings describe."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return open_platform(settings, migrate=migrate)


def write_records(records: list[dict[str, Any]], out_format: str, fields: tuple[str, ...]) -> None:
    """Records to stdout as indented JSON, or as CSV with these columns (lists joined by |)."""
    if out_format == "json":
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=1, default=str) + "\n")
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow(
            {
                k: " | ".join(v) if isinstance(v, list) else ("" if v is None else v)
                for k, v in r.items()
                if k in fields
            }
        )
