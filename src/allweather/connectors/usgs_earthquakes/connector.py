"""USGS earthquakes: GeoJSON summary feeds (live) and FDSN/ComCat CSV exports (files).

Severity: the PAGER alert when USGS has issued one (impact-based), else the magnitude
thresholds of 国家地震应急预案's first assessment (severity.csv; docs/event-mapping.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from allweather.connectors.base import Connector, Parsed, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import (
    CsvRecords,
    RecordError,
    buffered,
    instant,
    number,
    point,
    reject,
    required,
    text,
)
from allweather.connectors.registry import register
from allweather.domain.events import EventPrecision, Rejection, RiskEvent, Skipped
from allweather.domain.taxonomy import FineType, SeverityGrade

MIN_MAGNITUDE = 4.0
_PACKAGE = __package__ or "allweather.connectors.usgs_earthquakes"


def severity(magnitude: float | None, alert: str | None) -> tuple[SeverityGrade, str]:
    """The grade and the rule that set it (PAGER first, then magnitude)."""
    rules = load_mapping(_PACKAGE, "severity.csv")
    if alert:
        row = rules.get(f"pager_{alert.lower()}")
        if row:
            return SeverityGrade(row["grade"]), f"usgs.{row['rule']}"
    for name in ("magnitude_7", "magnitude_6", "magnitude_5", "magnitude_4"):
        row = rules.rows[name]
        if magnitude is not None and magnitude >= float(row["threshold"]):
            return SeverityGrade(row["grade"]), f"usgs.{name}"
    return SeverityGrade.IV, "usgs.magnitude_4"


@register("usgs_earthquakes")
class UsgsEarthquakes(Connector):
    """USGS ComCat events."""

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        with payload.open() as raw:
            stream = buffered(raw)
            head = stream.peek(2048)[:2048].lstrip()
            if head.startswith(b"{"):
                yield from self._geojson(stream.read())
            elif head.startswith(b"time,"):
                yield from self._csv(stream)
            else:
                raise SourceFormatError(
                    f"{payload.name}: neither a USGS GeoJSON feed nor a ComCat CSV"
                )

    # GeoJSON summary feeds are bounded (the largest, all_month, is a few MB): read whole.
    def _geojson(self, content: bytes) -> Iterator[Parsed]:
        try:
            document = json.loads(content.decode("utf-8"))
            features = document["features"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
            raise SourceFormatError(f"not a USGS GeoJSON feed: {err}") from err
        for index, feature in enumerate(features, start=1):
            ref = f"feature {index}"
            try:
                if not isinstance(feature, dict):
                    raise RecordError(None, "feature is not an object")
                props = feature.get("properties") or {}
                coords = (feature.get("geometry") or {}).get("coordinates") or [None, None, None]
                yield self._event(
                    source_id=required(feature.get("id"), "id"),
                    kind=props.get("type"),
                    when=props.get("time"),
                    updated=props.get("updated"),
                    lon=coords[0],
                    lat=coords[1] if len(coords) > 1 else None,
                    depth=coords[2] if len(coords) > 2 else None,
                    magnitude=props.get("mag"),
                    place=props.get("place"),
                    title=props.get("title"),
                    url=props.get("url"),
                    alert=props.get("alert"),
                    extra={
                        k: props.get(k)
                        for k in (
                            "magType",
                            "sig",
                            "tsunami",
                            "felt",
                            "cdi",
                            "mmi",
                            "status",
                            "net",
                        )
                        if props.get(k) is not None
                    },
                )
            except RecordError as err:
                yield reject(ref, json.dumps(feature, ensure_ascii=False), err)

    # CSV exports can be large (the whole catalogue): streamed line by line.
    def _csv(self, stream: IO[bytes]) -> Iterator[Parsed]:
        records = CsvRecords(stream, "ComCat CSV", "ComCat CSV")
        missing = {"time", "latitude", "longitude", "mag", "id", "type"} - set(records.header)
        if missing:
            raise SourceFormatError(f"ComCat CSV without columns {sorted(missing)}")
        for record in records:
            if isinstance(record, Rejection):
                yield record
                continue
            ref, raw, row = record
            try:
                yield self._event(
                    source_id=required(row.get("id"), "id"),
                    kind=row.get("type"),
                    when=row.get("time"),
                    updated=row.get("updated"),
                    lon=row.get("longitude"),
                    lat=row.get("latitude"),
                    depth=row.get("depth"),
                    magnitude=row.get("mag"),
                    place=row.get("place"),
                    title=None,
                    url=None,
                    alert=None,
                    extra={k: row[k] for k in ("magType", "net", "status") if row.get(k)},
                )
            except RecordError as err:
                yield reject(ref, raw, err)

    def _event(
        self,
        *,
        source_id: str,
        kind: object,
        when: object,
        updated: object,
        lon: object,
        lat: object,
        depth: object,
        magnitude: object,
        place: object,
        title: object,
        url: object,
        alert: object,
        extra: dict[str, Any],
    ) -> RiskEvent | Skipped:
        kind_text = (text(kind) or "earthquake").lower()
        row = load_mapping(_PACKAGE, "event_types.csv").get(kind_text)
        if row is None:
            raise RecordError("type", f"unknown USGS event type {kind_text!r}")
        if not row["fine_type"]:
            return Skipped(1, f"usgs type {kind_text}")
        mag = number(magnitude, "mag")
        if mag is not None and mag < MIN_MAGNITUDE:
            return Skipped(1, f"below M{MIN_MAGNITUDE}")
        location = point(lon, lat)
        if location is None:
            raise RecordError("latitude", "no coordinates")
        alert_text = text(alert)
        grade, rule = severity(mag, alert_text)
        depth_km = number(depth, "depth")
        place_text = text(place)
        details = {**extra, "depth_km": depth_km, "alert": alert_text}
        return RiskEvent(
            source="usgs_earthquakes",
            source_id=source_id,
            occurred_at=instant(when, "time"),
            reported_at=instant(updated, "updated") if text(updated) else None,
            fine_type=FineType(row["fine_type"]),
            severity=grade,
            severity_rule=rule,
            title=text(title) or (f"M {mag} - {place_text}" if place_text else f"M {mag}"),
            country_code=None,  # placed from the coordinates by the ingest runner
            geometry=location,
            precision=EventPrecision.EXACT,
            place=place_text,
            url=text(url) or f"https://earthquake.usgs.gov/earthquakes/eventpage/{source_id}",
            language="en",
            magnitude=mag,
            details={k: v for k, v in details.items() if v is not None},
        )
