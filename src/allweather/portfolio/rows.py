"""Validate one raw record into a project row, or say precisely what is wrong with it.

Every problem in a record is reported, not only the first, so a user fixes a file in one pass.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from allweather.domain.geo import GeometryError, parse_wkt, validate_site_geometry
from allweather.domain.portfolio import Contact
from allweather.domain.vocabulary import (
    LocationPrecision,
    ProjectKind,
    ProjectStatus,
    Sector,
    Vocabulary,
)
from allweather.portfolio.columns import CONTACT_COLUMNS
from allweather.portfolio.issues import RowIssue, issue
from allweather.portfolio.readers import Cell, RawRow
from allweather.reference.countries import CountryCatalog, UnknownCountryError

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()\-./]{5,40}$")
DATE_PATTERN = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")

TEXT_LIMITS = {
    "name": 500,
    "name_zh": 500,
    "organization": 300,
    "source": 200,
    "site": 64,
    "site_name": 300,
    "contact_name": 200,
    "contact_role": 200,
    "contact_email": 200,
}

# Project-level values that must agree across the rows of one project.
PROJECT_VALUE_COLUMNS = (
    "name",
    "name_zh",
    "organization",
    "sector",
    "kind",
    "status",
    "value_usd",
    "start_date",
    "end_date",
    "staff_cn",
    "staff_local",
    "staff_other",
    "source",
    *CONTACT_COLUMNS,
)


@dataclass
class ValidRow:
    """A record that passed validation: normalised project values and one site."""

    raw: RawRow
    code: str
    values: dict[str, Any] = field(default_factory=dict)  # project columns given in this row
    site_key: str | None = None
    site_name: str | None = None
    precision: LocationPrecision = LocationPrecision.EXACT
    geometry: BaseGeometry | None = None
    country: str | None = None  # ISO alpha-2 as declared by the row

    def contact(self) -> Contact | None:
        if not self.values.get("contact_name"):
            return None
        return Contact(
            self.values["contact_name"],
            self.values.get("contact_role"),
            self.values.get("contact_phone"),
            self.values.get("contact_email"),
        )


def text_of(cell: Cell) -> str:
    """A cell as stripped text ('' for empty); integral floats lose their '.0'."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    return str(cell).strip()


class RowValidator:
    """Validates records against the canonical columns, with a country catalog for names."""

    def __init__(self, catalog: CountryCatalog) -> None:
        self.catalog = catalog

    def validate(
        self, raw: RawRow, name_required: bool = True
    ) -> tuple[ValidRow | None, list[RowIssue]]:
        """Validate one record.

        Args:
            raw: the record.
            name_required: False for later rows of a project whose name is already known.
        """
        problems: list[RowIssue] = []
        where = raw.where

        def fail(column: str | None, code: str, value: Any = None, **params: Any) -> None:
            problems.append(issue(where, raw.number, column, code, value, **params))

        if raw.surplus_cells:
            fail(None, "surplus", raw.surplus_cells)
        cells = {k: text_of(v) for k, v in raw.cells.items()}
        code = cells.get("code", "")
        if not code:
            fail("code", "required")
        elif not CODE_PATTERN.match(code):
            fail("code", "code_format", code)
        if name_required and not cells.get("name"):
            fail("name", "required")
        for column, limit in TEXT_LIMITS.items():
            if len(cells.get(column, "")) > limit:
                fail(column, "too_long", cells[column][:40] + "…", limit=limit)

        row = ValidRow(raw, code)
        for column in ("name", "name_zh", "organization", "source", "contact_name", "contact_role"):
            if cells.get(column):
                row.values[column] = cells[column]
        self._vocabularies(cells, row, fail)
        self._numbers(raw.cells, cells, row, fail)
        self._dates(raw.cells, cells, row, fail)
        self._contacts(cells, row, fail)
        if cells.get("country"):
            try:
                row.country = self.catalog.resolve(cells["country"]).iso2
            except UnknownCountryError:
                fail("country", "country_unknown", cells["country"])
        row.site_key = cells.get("site") or None
        row.site_name = cells.get("site_name") or None
        row.geometry = self._geometry(raw, cells, fail)
        return (None, problems) if problems else (row, problems)

    def _vocabularies(self, cells: dict[str, str], row: ValidRow, fail: Any) -> None:
        vocabularies: dict[str, type[Vocabulary]] = {
            "sector": Sector,
            "kind": ProjectKind,
            "status": ProjectStatus,
            "precision": LocationPrecision,
        }
        for column, vocabulary in vocabularies.items():
            text = cells.get(column)
            if not text:
                continue
            try:
                member = vocabulary.parse(text)
            except ValueError:
                fail(column, "vocabulary", text, accepted=", ".join(m.value for m in vocabulary))
                continue
            if column == "precision":
                row.precision = LocationPrecision(member)
            else:
                row.values[column] = member

    def _numbers(
        self, raw: dict[str, Cell], cells: dict[str, str], row: ValidRow, fail: Any
    ) -> None:
        if cells.get("value_usd"):
            amount = _number(raw["value_usd"], cells["value_usd"])
            if amount is None:
                fail("value_usd", "number", cells["value_usd"])
            elif amount < 0:
                fail("value_usd", "negative", cells["value_usd"])
            else:
                row.values["value_usd"] = amount
        for column in ("staff_cn", "staff_local", "staff_other"):
            if not cells.get(column):
                continue
            count = _number(raw[column], cells[column])
            if count is None or count < 0 or not float(count).is_integer():
                fail(column, "integer", cells[column])
            else:
                row.values[column] = int(count)

    def _dates(self, raw: dict[str, Cell], cells: dict[str, str], row: ValidRow, fail: Any) -> None:
        for column in ("start_date", "end_date"):
            if not cells.get(column):
                continue
            try:
                row.values[column] = _date(raw[column], cells[column])
            except ValueError as err:
                fail(column, "date", cells[column], reason=str(err))
        start, end = row.values.get("start_date"), row.values.get("end_date")
        if start and end and end < start:
            fail("end_date", "date_order", end.isoformat(), start=start.isoformat())

    def _contacts(self, cells: dict[str, str], row: ValidRow, fail: Any) -> None:
        email = cells.get("contact_email")
        if email:
            if EMAIL_PATTERN.match(email):
                row.values["contact_email"] = email
            else:
                fail("contact_email", "email", email)
        phone = cells.get("contact_phone")
        if phone:
            if PHONE_PATTERN.match(phone):
                row.values["contact_phone"] = phone
            else:
                fail("contact_phone", "phone", phone)

    def _geometry(self, raw: RawRow, cells: dict[str, str], fail: Any) -> BaseGeometry | None:
        lat_text, lon_text, wkt = cells.get("latitude"), cells.get("longitude"), cells.get("wkt")
        has_pair = bool(lat_text or lon_text)
        if raw.geometry_error:
            fail("geometry", "geometry", reason=raw.geometry_error)
            return None
        if raw.geometry is not None:
            if has_pair or wkt:
                fail("geometry", "two_locations")
                return None
            try:
                validate_site_geometry(raw.geometry)
            except GeometryError as err:
                fail("geometry", "geometry", reason=str(err))
                return None
            return raw.geometry
        if has_pair and wkt:
            fail("wkt", "two_locations")
            return None
        if wkt:
            try:
                return parse_wkt(wkt)
            except GeometryError as err:
                fail("wkt", "wkt", wkt[:60], reason=str(err))
                return None
        if not has_pair:
            fail(None, "no_location")
            return None
        if not (lat_text and lon_text):
            fail("latitude" if not lat_text else "longitude", "coordinate_pair")
            return None
        lat = _number(raw.cells.get("latitude"), lat_text)
        lon = _number(raw.cells.get("longitude"), lon_text)
        ok = True
        for column, text, value, limit in (
            ("latitude", lat_text, lat, 90.0),
            ("longitude", lon_text, lon, 180.0),
        ):
            if value is None:
                fail(column, "coordinate", text)
                ok = False
            elif not -limit <= value <= limit:
                fail(column, column, text)
                ok = False
        if not ok or lat is None or lon is None:
            return None
        return Point(lon, lat)


def _number(raw: Cell, text: str) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        cleaned = text.replace(",", "").replace("_", "").strip()
        if cleaned.startswith("$"):
            cleaned = cleaned[1:]
        try:
            value = float(cleaned)
        except ValueError:
            return None
    return value if math.isfinite(value) else None


def _date(raw: Cell, text: str) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    match = DATE_PATTERN.match(text)
    if not match:
        raise ValueError("expected YYYY-MM-DD")
    year, month, day = (int(g) for g in match.groups())
    return date(year, month, day)  # raises "month must be in 1..12" and the like
