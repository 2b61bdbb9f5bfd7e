"""Bundled country indicators for the risk-score baseline (``data/country-indicators.csv``).

Built by ``scripts/build_country_indicators.py`` from World Bank WGI (CC BY 4.0), the ND-GAIN
Country Index (free with attribution) and Natural Earth (public domain); see DATA-LICENSES.md
and docs/scoring-baseline.md.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

from allweather.domain.scoring.baseline import IndicatorValue

BUNDLED = "country-indicators.csv"
COLUMNS = ("country", "indicator", "value", "year", "source")


def parse_indicators(text: str, name: str = BUNDLED) -> tuple[IndicatorValue, ...]:
    """Rows of an indicator CSV as values.

    Raises:
        ValueError: on a bad header or row, naming the file, the line and the field
            (e.g. ``"country-indicators.csv line 7: year: 'x' is not a whole number"``).
    """
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"{name} line 1: columns {reader.fieldnames} are not {list(COLUMNS)}")
    values: list[IndicatorValue] = []
    for row in reader:
        where = f"{name} line {reader.line_num}"
        if None in row or any(row[column] is None for column in COLUMNS):
            raise ValueError(f"{where}: expected {len(COLUMNS)} fields")
        try:
            number = float(row["value"])
        except ValueError:
            raise ValueError(f"{where}: value: {row['value']!r} is not a number") from None
        try:
            year = int(row["year"])
        except ValueError:
            raise ValueError(f"{where}: year: {row['year']!r} is not a whole number") from None
        try:
            values.append(
                IndicatorValue(row["country"], row["indicator"], number, year, row["source"])
            )
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    return tuple(values)


@lru_cache(maxsize=1)
def load_indicators() -> tuple[IndicatorValue, ...]:
    """The bundled indicator values, loaded once per process."""
    text = resources.files("allweather.data").joinpath(BUNDLED).read_text("utf-8")
    return parse_indicators(text)
