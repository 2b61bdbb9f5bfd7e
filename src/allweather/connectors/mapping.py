"""Mapping tables: each source's codes → taxonomy and severity, kept in CSV beside the connector.

Every table has a ``reason`` column saying why a row maps as it does; docs/event-mapping.md
explains the tables as a whole. Connectors read them once per process.
"""

from __future__ import annotations

import csv
import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.errors import ConfigError


@dataclass(frozen=True)
class MappingTable:
    """Rows of a mapping CSV keyed by its first column."""

    name: str
    rows: dict[str, dict[str, str]]

    def get(self, key: str) -> dict[str, str] | None:
        return self.rows.get(key)

    def fine_type(self, key: str) -> FineType | None:
        row = self.rows.get(key)
        return FineType(row["fine_type"]) if row and row.get("fine_type") else None


@lru_cache(maxsize=64)
def load_mapping(package: str, filename: str) -> MappingTable:
    """Read ``filename`` from the connector package ``package`` and check its values.

    Raises:
        ConfigError: a missing file, no ``reason`` column, or an unknown fine type or grade.
    """
    module = importlib.import_module(package)
    path = Path(module.__file__ or "").parent / filename
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"mapping table {package}/{filename} missing: {err}") from err
    reader = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    if not reader.fieldnames or "reason" not in reader.fieldnames:
        raise ConfigError(f"{filename}: every mapping table needs a reason column")
    key = reader.fieldnames[0]
    rows: dict[str, dict[str, str]] = {}
    for number, row in enumerate(reader, start=2):
        if row.get("fine_type"):
            _check(filename, number, "fine_type", row["fine_type"], FineType)
        for column in ("severity", "grade"):
            if row.get(column):
                _check(filename, number, column, row[column], SeverityGrade)
        if row[key] in rows:
            raise ConfigError(f"{filename}: row {number} repeats key {row[key]!r}")
        rows[row[key]] = row
    return MappingTable(filename, rows)


def _check(filename: str, number: int, column: str, value: str, kind: type) -> None:
    try:
        kind(value)
    except ValueError:
        raise ConfigError(
            f"{filename}: row {number}, {column} {value!r} is not a valid value"
        ) from None
