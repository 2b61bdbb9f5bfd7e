"""Shared normalization for parsers: times to UTC, numbers, points, countries, record errors.

A parser turns one bad field into a ``RecordError``; its loop catches it and yields a
``Rejection`` naming the record, the field and the reason, then goes on with the next record.
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import IO

from shapely.geometry import Point

from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import load_mapping
from allweather.domain.clock import ensure_utc
from allweather.domain.events import EventPrecision, Rejection
from allweather.reference.countries import CountryCatalog, UnknownCountryError, country_catalog

RAW_LIMIT = 20_000  # characters of a rejected record kept in quarantine


class RecordError(ValueError):
    """One record cannot be normalized; ``field`` names the culprit."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


def reject(ref: str, raw: str, err: RecordError, source_id: str | None = None) -> Rejection:
    """The Rejection for one bad record; pass ``source_id`` when the record's id was readable."""
    return Rejection(
        ref=ref, raw=raw[:RAW_LIMIT], reason=str(err), field=err.field, source_id=source_id
    )


def text(value: object) -> str | None:
    """Stripped text, or None for empty values and the usual null markers."""
    if value is None:
        return None
    result = str(value).strip()
    return result if result and result not in ("-0-", "NA", "NULL", "null", "None") else None


def required(value: object, field: str) -> str:
    result = text(value)
    if result is None:
        raise RecordError(field, f"{field} is missing")
    return result


def number(value: object, field: str) -> float | None:
    """A finite float, None when empty; a RecordError for anything else."""
    raw = text(value)
    if raw is None:
        return None
    try:
        result = float(raw)
    except ValueError:
        raise RecordError(field, f"{field} {raw!r} is not a number") from None
    if not math.isfinite(result):
        raise RecordError(field, f"{field} {raw!r} is not a finite number")
    return result


def integer(value: object, field: str) -> int | None:
    result = number(value, field)
    if result is None:
        return None
    if not result.is_integer():
        raise RecordError(field, f"{field} {value!r} is not a whole number")
    return int(result)


def point(
    lon: object, lat: object, lon_field: str = "longitude", lat_field: str = "latitude"
) -> Point | None:
    """A WGS84 point; None when both are empty; RecordError when out of range or half given."""
    x = number(lon, lon_field)
    y = number(lat, lat_field)
    if x is None and y is None:
        return None
    if x is None or y is None:
        missing = lon_field if x is None else lat_field
        raise RecordError(missing, f"{missing} is missing while the other coordinate is given")
    if not -90 <= y <= 90:
        raise RecordError(lat_field, f"{lat_field} {y} is outside [-90, 90]")
    if not -180 <= x <= 180:
        raise RecordError(lon_field, f"{lon_field} {x} is outside [-180, 180]")
    return Point(x, y)


def instant(value: object, field: str) -> datetime:
    """An ISO 8601 instant, a date (midnight UTC), epoch milliseconds, or an RFC 822 date."""
    raw = required(value, field)
    if raw.lstrip("-").isdigit() and len(raw) >= 11:  # epoch milliseconds (USGS)
        return datetime.fromtimestamp(int(raw) / 1000, UTC)
    candidate = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        return ensure_utc(datetime.fromisoformat(candidate))
    except ValueError:
        pass
    try:
        return ensure_utc(parsedate_to_datetime(raw))
    except (TypeError, ValueError, IndexError):
        raise RecordError(field, f"{field} {raw!r} is not a date or time") from None


def day(value: object, field: str) -> date | None:
    raw = text(value)
    if raw is None:
        return None
    return instant(raw, field).date()


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def days_after(moment: datetime, days: int) -> datetime:
    return moment + timedelta(days=days)


def country_code(
    value: object, field: str, where: Point | None = None, catalog: CountryCatalog | None = None
) -> str | None:
    """ISO alpha-2 for a code or a name; unknown or missing: the country at ``where``, if any."""
    catalog = catalog or country_catalog()
    raw = text(value)
    if raw is not None:
        try:
            return catalog.resolve(raw).iso2
        except UnknownCountryError:
            pass
    if where is not None:
        return catalog.place(where).iso2
    return None


class LineDecoder:
    """Binary lines to text lines for ``csv.reader``, one line at a time (streaming).

    A line that is not valid in ``encoding`` becomes an empty row for the reader and a
    ``Rejection`` in ``bad`` (drain it after each row), so one bad line never costs the rest
    of the file. ``line`` is the number of the last line read (1-based).
    """

    def __init__(self, stream: Iterable[bytes], encoding: str = "utf-8") -> None:
        self.stream = stream
        self.encoding = encoding
        self.line = 0
        self.bad: list[Rejection] = []

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.line += 1
            try:
                yield raw.decode(self.encoding)
            except UnicodeDecodeError as err:
                shown = raw.decode(self.encoding, errors="replace").rstrip("\r\n")
                self.bad.append(
                    reject(
                        f"line {self.line}",
                        shown,
                        RecordError(
                            None, f"invalid {self.encoding}: {err.reason} at byte {err.start}"
                        ),
                    )
                )
                yield "\n"

    def drain(self) -> list[Rejection]:
        bad, self.bad = self.bad, []
        return bad


def buffered(stream: IO[bytes]) -> io.BufferedReader:
    """A stream that can ``peek`` (to sniff a format without consuming it)."""
    if isinstance(stream, io.BufferedReader):
        return stream
    return io.BufferedReader(stream)  # type: ignore[arg-type]


def precision(package: str, value: object, field: str) -> EventPrecision:
    """A source's location-precision code through its ``precision.csv`` (empty: unknown)."""
    code = integer(value, field)
    if code is None:
        return EventPrecision.UNKNOWN
    row = load_mapping(package, "precision.csv").get(str(code))
    if row is None:
        raise RecordError(field, f"unknown {field} {code}")
    return EventPrecision(row["precision"])


def fold_name(value: str) -> str:
    """A name for comparison: Unicode-normalized (NFKC), case-folded, spacing collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def unique_names(values: Iterable[str | None]) -> list[str]:
    """Names in first-seen order, without empties and without repeats that differ only in case
    or spacing (aliases, programmes, addresses)."""
    seen: dict[str, str] = {}
    for value in values:
        if value and value.strip():
            seen.setdefault(fold_name(value), " ".join(value.split()))
    return list(seen.values())


def place_label(*parts: object) -> str | None:
    """A place as "town, district, province" from finest to coarsest, skipping empty and
    repeated parts (a town that is also its district's name is named once)."""
    return ", ".join(unique_names(text(part) for part in parts)) or None


class CountryNames:
    """Country names as one source writes them → ISO alpha-2, then the platform's catalog.

    A source's own table (``countries.csv`` beside the connector: ``name,iso2,reason``; several
    codes separated by spaces) covers its historical or odd forms ("Burma", "Congo
    (Kinshasa)"); anything else goes to the ISO catalog.
    """

    def __init__(
        self, package: str, filename: str = "countries.csv", fold: Callable[[str], str] = fold_name
    ) -> None:
        self.package = package
        self.filename = filename
        self.fold = fold

    @cached_property
    def _table(self) -> dict[str, tuple[str, ...]]:
        table = load_mapping(self.package, self.filename)
        return {self.fold(name): tuple(row["iso2"].split()) for name, row in table.rows.items()}

    def resolve(self, name: str) -> tuple[str, ...] | None:
        """ISO alpha-2 codes for a name; None when neither the table nor the catalog knows it."""
        local = self._table.get(self.fold(name))
        if local is not None:
            return local
        try:
            return (country_catalog().resolve(name).iso2,)
        except UnknownCountryError:
            return None


class _RawLines:
    """Hands decoded lines to ``csv.reader`` and keeps those of the current record."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._taken: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        return line

    def take(self) -> str:
        raw, self._taken = "".join(self._taken).rstrip("\r\n"), []
        return raw


class CsvRecords:
    """Strict, streaming CSV with a header: each record as (ref, raw text, row), or a Rejection.

    - strict quoting, so a quote cut off at the end of a file is a malformed record, not a
      silently merged one;
    - a record with the wrong number of fields, or that the csv module cannot read, becomes a
      ``Rejection`` with its raw text; so does a line that is not valid in ``encoding``;
    - ``ref`` is the record's first line (``line 12``), multi-line fields included.

    Raises:
        SourceFormatError: when there is no header row at all.
    """

    def __init__(self, stream: IO[bytes], name: str, what: str, encoding: str = "utf-8") -> None:
        self.lines = LineDecoder(stream, encoding)
        self._raw = _RawLines(self.lines)
        self._reader = csv.reader(self._raw, strict=True)
        try:
            self.header = [column.strip().lstrip("\ufeff") for column in next(self._reader)]
        except (StopIteration, csv.Error) as err:
            raise SourceFormatError(f"{name}: no {what} header ({err or 'empty file'})") from None
        self._raw.take()

    def __iter__(self) -> Iterator[tuple[str, str, dict[str, str]] | Rejection]:
        width = len(self.header)
        while True:
            ref = f"line {self.lines.line + 1}"
            try:
                record = next(self._reader)
            except StopIteration:
                break
            except csv.Error as err:
                yield from self.lines.drain()
                yield reject(ref, self._raw.take(), RecordError(None, f"malformed CSV: {err}"))
                continue
            raw = self._raw.take()
            yield from self.lines.drain()
            if not record:
                continue
            if len(record) != width:
                yield reject(ref, raw, RecordError(None, f"{len(record)} fields, expected {width}"))
                continue
            yield ref, raw, dict(zip(self.header, record, strict=True))
        yield from self.lines.drain()
