"""Stored events in their normalized form, for ``allweather events export`` and the API."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from allweather.domain.events import source_number_of
from allweather.domain.taxonomy import FineType

EXPORT_FIELDS = (
    "event_id",
    "source",
    "source_id",
    "occurred_at",
    "ended_at",
    "reported_at",
    "fine_type",
    "category",
    "event_class",
    "severity",
    "severity_rule",
    "country",
    "place",
    "longitude",
    "latitude",
    "extent_km",
    "precision",
    "title",
    "url",
    "language",
    "fatalities",
    "magnitude",
    "deleted_at",
    "wkt",
    "details",
)


def iso_instant(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def normalized(rows: Iterable[dict[str, Any]], sources: dict[int, str]) -> Iterator[dict[str, Any]]:
    """Stored rows → export records: ISO times, effective category and class, WKT for areas.

    Args:
        rows: rows of the events table.
        sources: source number → source id.
    """
    for row in rows:
        fine = FineType(row["fine_type"])
        source = sources.get(source_number_of(row["id"]), f"source#{source_number_of(row['id'])}")
        geometry = row.get("geometry")
        yield {
            "event_id": f"{source}:{row['source_id']}",
            "source": source,
            "source_id": row["source_id"],
            "occurred_at": iso_instant(row["occurred_at"]),
            "ended_at": iso_instant(row["ended_at"]),
            "reported_at": iso_instant(row["reported_at"]),
            "fine_type": fine.value,
            "category": row["category"] or fine.category.value,
            "event_class": row["event_class"] or fine.event_class.value,
            "severity": row["severity"],
            "severity_rule": row["severity_rule"],
            "country": row["country_code"],
            "place": row["place"],
            "longitude": row["lon"],
            "latitude": row["lat"],
            "extent_km": row["extent_km"],
            "precision": row["precision"],
            "title": row["title"],
            "url": row["url"],
            "language": row["language"],
            "fatalities": row["fatalities"],
            "magnitude": row["magnitude"],
            "deleted_at": iso_instant(row["deleted_at"]),
            "wkt": geometry.wkt if geometry is not None else None,
            "details": json.loads(row["details"]) if row["details"] else {},
        }
