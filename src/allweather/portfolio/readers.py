"""Read a portfolio file (CSV, XLSX, GeoJSON) into raw rows keyed by canonical column.

Readers only decode: values stay as the file gives them (strings, numbers, dates) and are
validated row by row in ``rows.py``. A file that cannot be read at all raises ``InputError``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from allweather.errors import InputError
from allweather.portfolio.columns import canonical_column

Cell = str | int | float | date | datetime | None


@dataclass
class RawRow:
    """One record of the input: its number as a user would find it, and its cells.

    For GeoJSON, ``geometry`` holds the feature's geometry (or ``geometry_error`` why it could
    not be read).
    """

    number: int
    cells: dict[str, Cell]
    geometry: BaseGeometry | None = None
    geometry_error: str | None = None
    word: str = "row"  # "feature" for GeoJSON
    surplus_cells: int = 0  # non-empty cells beyond the header (a shifted CSV row)

    @property
    def where(self) -> str:
        return f"{self.word} {self.number}"


@dataclass
class SourceTable:
    """A decoded input file."""

    name: str
    file_format: str
    sha256: str
    columns: list[str]
    rows: list[RawRow]
    ignored_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RawSource:
    """A portfolio file's bytes (gzip already undone), its format and content hash."""

    name: str
    file_format: str
    content: bytes
    sha256: str


_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
}


def load_source(path: Path) -> RawSource:
    """Read a file's bytes and identify its format by extension (optionally ``.gz``).

    Raises:
        InputError: the file is missing, not valid gzip, or of an unsupported type.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from err
    name = path.name.lower()
    if name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise InputError(f"{path.name}: not a valid gzip file") from err
        name = name[:-3]
    file_format = _FORMATS.get(Path(name).suffix)
    if file_format is None:
        raise InputError(f"{path.name}: unsupported file type; use .csv, .xlsx or .geojson")
    return RawSource(path.name, file_format, raw, hashlib.sha256(raw).hexdigest())


def parse_source(source: RawSource) -> SourceTable:
    """Decode a loaded file into raw rows (raises ``InputError`` when it is no portfolio)."""
    parse = {"csv": _read_csv, "xlsx": _read_xlsx, "geojson": _read_geojson}[source.file_format]
    return parse(source.name, source.content, source.sha256)


def read_table(path: Path) -> SourceTable:
    """Read and decode ``path`` (.csv, .xlsx, .geojson/.json, optionally .gz)."""
    return parse_source(load_source(path))


def _header(name: str, cells: list[Any]) -> tuple[list[str | None], list[str], list[str]]:
    """Map header cells to canonical columns; return (per-position name, columns, ignored)."""
    mapped: list[str | None] = []
    seen: set[str] = set()
    ignored: list[str] = []
    for cell in cells:
        text = "" if cell is None else str(cell).strip()
        column = canonical_column(text) if text else None
        if column is None:
            if text:
                ignored.append(text)
            mapped.append(None)
            continue
        if column in seen:
            raise InputError(f"{name}: column {column!r} appears twice in the header")
        seen.add(column)
        mapped.append(column)
    return mapped, [c for c in mapped if c], ignored


def _require_columns(name: str, columns: list[str]) -> None:
    missing = [c for c in ("code", "name") if c not in columns]
    if missing:
        raise InputError(
            f"{name}: required column(s) missing: {', '.join(missing)} "
            "(see docs/portfolio-import.md for the canonical columns)"
        )


def _decode_text(name: str, raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Chinese spreadsheets often export GB 18030
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{name}: not UTF-8 or GB 18030 text")


def _read_csv(name: str, raw: bytes, digest: str) -> SourceTable:
    text = _decode_text(name, raw)
    if not text.strip():
        raise InputError(f"{name}: the file is empty")
    first_line = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        mapped, columns, ignored = _header(name, header)
        _require_columns(name, columns)
        rows: list[RawRow] = []
        line = reader.line_num
        for record in reader:
            number = line + 1  # the file line the record starts on; the header is line 1
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            cells: dict[str, Cell] = {}
            for column, value in zip(mapped, record, strict=False):
                if column is not None:
                    cells[column] = value
            surplus = sum(1 for v in record[len(mapped) :] if v.strip())
            rows.append(RawRow(number, cells, surplus_cells=surplus))
    except csv.Error as err:
        raise InputError(f"{name}: malformed CSV near line {reader.line_num}: {err}") from err
    return SourceTable(name, "csv", digest, columns, rows, ignored)


def _read_xlsx(name: str, raw: bytes, digest: str) -> SourceTable:
    from openpyxl import load_workbook  # imported here: only XLSX imports pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as err:
        raise InputError(f"{name}: not a readable XLSX workbook ({err})") from err
    except Exception as err:  # noqa: BLE001 — zipfile raises BadZipFile and friends
        raise InputError(f"{name}: not a readable XLSX workbook ({type(err).__name__})") from err
    sheet = workbook["projects"] if "projects" in workbook.sheetnames else workbook.worksheets[0]
    records = sheet.iter_rows(values_only=True)
    try:
        header = list(next(records))
    except StopIteration:
        raise InputError(f"{name}: the first sheet is empty") from None
    mapped, columns, ignored = _header(name, header)
    _require_columns(name, columns)
    rows: list[RawRow] = []
    for offset, record in enumerate(records, start=2):  # spreadsheet row numbers
        if not any(v is not None and str(v).strip() for v in record):
            continue
        cells: dict[str, Cell] = {}
        for column, value in zip(mapped, record, strict=False):
            if column is not None:
                cells[column] = _xlsx_cell(value)
        rows.append(RawRow(offset, cells))
    workbook.close()
    return SourceTable(name, "xlsx", digest, columns, rows, ignored)


def _xlsx_cell(value: object) -> Cell:
    """Spreadsheet values as the validator expects them: numbers, dates, or text."""
    if value is None or isinstance(value, str | int | float | date | datetime):
        return None if isinstance(value, bool) else value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)  # times, rich text, formulas: let validation judge the text


def _read_geojson(name: str, raw: bytes, digest: str) -> SourceTable:
    try:
        document = json.loads(_decode_text(name, raw))
    except json.JSONDecodeError as err:
        raise InputError(f"{name}: not valid JSON (line {err.lineno}: {err.msg})") from err
    features: list[Any]
    if isinstance(document, dict) and document.get("type") == "Feature":
        features = [document]
    elif isinstance(document, dict) and document.get("type") == "FeatureCollection":
        listed = document.get("features")
        if not isinstance(listed, list):
            raise InputError(f"{name}: FeatureCollection without a features list")
        features = listed
    else:
        raise InputError(f"{name}: GeoJSON must be a FeatureCollection or a Feature")
    columns: list[str] = []
    ignored: set[str] = set()
    rows: list[RawRow] = []
    for number, feature in enumerate(features, start=1):
        row = RawRow(number, {}, word="feature")
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.geometry_error = "not a GeoJSON Feature"
            rows.append(row)
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            row.geometry_error = "properties is not an object"
            rows.append(row)
            continue
        for key, value in properties.items():
            column = canonical_column(str(key))
            if column is None:
                ignored.add(str(key))
                continue
            if column not in columns:
                columns.append(column)
            row.cells[column] = value if not isinstance(value, (dict, list)) else json.dumps(value)
        geometry = feature.get("geometry")
        if geometry is not None:
            try:
                row.geometry = shape(geometry)
            except Exception as err:  # noqa: BLE001 — shapely raises many types for bad GeoJSON
                row.geometry_error = f"unreadable geometry ({err})"
        rows.append(row)
    if "code" not in columns or "name" not in columns:
        _require_columns(name, columns)
    return SourceTable(name, "geojson", digest, columns, rows, sorted(ignored))
