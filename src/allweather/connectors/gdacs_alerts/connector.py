"""GDACS disaster alerts: the RSS/GeoRSS feed (current schema) and the 2012–2016 archive schema.

One event per GDACS event (``EQ-1082314``): every episode re-publishes the event with its
latest alert level, so episodes update one record rather than add new ones (docs/sources/
gdacs_alerts.md). Severity: the alert level (severity.csv); taxonomy: the event type
(event_types.csv).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from shapely.geometry import Point

from allweather.connectors.base import Connector, Parsed, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import (
    RecordError,
    instant,
    integer,
    number,
    point,
    reject,
    required,
    text,
)
from allweather.connectors.registry import register
from allweather.connectors.xmlstream import (
    iter_records,
    local,
    raw_xml,
    replaced_field,
)
from allweather.domain.events import EventPrecision, Rejection, RiskEvent
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.reference.countries import UnknownCountryError, country_catalog

_PACKAGE = __package__ or "allweather.connectors.gdacs_alerts"
GDACS = "{http://www.gdacs.org}"
GEO = "{http://www.w3.org/2003/01/geo/wgs84_pos#}"
GEORSS = "{http://www.georss.org/georss}"
# Floods in the archive schema state casualties only as text: "121 killed and 2400 displaced".
_KILLED = re.compile(r"\b(\d+)\s+killed\b")
_DISPLACED = re.compile(r"\b(\d+)\s+displaced\b")


def severity(level: str) -> tuple[SeverityGrade, str]:
    """The grade for a GDACS alert level and the rule that set it."""
    row = load_mapping(_PACKAGE, "severity.csv").get(level.lower())
    if row is None:
        raise RecordError("gdacs:alertlevel", f"unknown GDACS alert level {level!r}")
    return SeverityGrade(row["grade"]), f"gdacs.{level.lower()}"


def countries(iso3: str | None, names: str | None) -> tuple[str | None, list[str]]:
    """The event's country and every country GDACS names (ISO alpha-2).

    GDACS lists all countries a cyclone or drought touches ("Japan, China"), and in the current
    schema ``iso3`` is only the first of them. For such events the country is left to the
    ingest runner, which places the point; one country (or "Luzon, Philippines", a region and
    its country) is taken as GDACS states it.
    """
    named = _named_countries(names)
    if len(named) > 1:
        return None, named
    if iso3:
        try:
            code = country_catalog().resolve(iso3).iso2
        except UnknownCountryError:
            pass
        else:
            return code, named or [code]
    return (named[0] if named else None), named


def _named_countries(names: str | None) -> list[str]:
    if not names:
        return []
    catalog = country_catalog()
    try:  # the whole text first: some names hold a comma ("Virgin Islands, British")
        return [catalog.resolve(names).iso2]
    except UnknownCountryError:
        pass
    found: list[str] = []
    for part in names.split(","):
        try:
            code = catalog.resolve(part.strip()).iso2
        except UnknownCountryError:
            continue  # a region ("Luzon"), a misspelling ("Guatamala"), a sea area
        if code not in found:
            found.append(code)
    return found


@register("gdacs_alerts")
class GdacsAlerts(Connector):
    """GDACS RSS alerts (EQ, TC, FL, VO, DR, WF, TS)."""

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        def check_root(tag: str) -> None:
            if local(tag) != "rss":
                raise SourceFormatError(f"{payload.name}: <{local(tag)}> is not a GDACS RSS feed")

        with payload.open() as raw:
            count = 0
            for item in iter_records(
                raw, payload.name, lambda tag: tag == "item", check_root, "item"
            ):
                if isinstance(item, Rejection):
                    yield item
                    continue
                count += 1
                try:
                    yield self._event(item)
                except RecordError as err:
                    guid = text(item.findtext("guid"))
                    ref = f"item {count} ({guid})" if guid else f"item {count}"
                    yield reject(ref, raw_xml(item), err)

    def _event(self, item: Element) -> RiskEvent:
        bad = replaced_field(item)
        if bad:
            raise RecordError(bad, f"invalid UTF-8 in <{bad}>")

        def gdacs(name: str) -> str | None:
            return text(item.findtext(GDACS + name))

        kind = required(gdacs("eventtype"), "gdacs:eventtype")
        types = load_mapping(_PACKAGE, "event_types.csv")
        row = types.get(kind) or types.get(kind.upper())
        if row is None:
            raise RecordError("gdacs:eventtype", f"unknown GDACS event type {kind!r}")
        event_id = integer(required(gdacs("eventid"), "gdacs:eventid"), "gdacs:eventid")
        episode_id = integer(gdacs("episodeid"), "gdacs:episodeid")
        level = required(gdacs("alertlevel"), "gdacs:alertlevel")
        grade, rule = severity(level)
        location = self._point(item)
        published = _instant(item.findtext("pubDate"), "pubDate")
        start = _instant(gdacs("fromdate"), "gdacs:fromdate") or published
        if start is None:
            raise RecordError("gdacs:fromdate", "neither gdacs:fromdate nor pubDate is given")
        end = _instant(gdacs("todate"), "gdacs:todate")
        if end is not None and end < start:
            raise RecordError("gdacs:todate", f"gdacs:todate {end} is before the event start")
        measure = _measure(item.find(GDACS + "severity"), "gdacs:severity")
        people = _measure(item.find(GDACS + "population"), "gdacs:population")
        if isinstance(people.get("value"), float) and people["value"].is_integer():
            people["value"] = int(people["value"])  # a head count
        vulnerability = _measure(item.find(GDACS + "vulnerability"), "gdacs:vulnerability")
        names = gdacs("country")
        country, named = countries(gdacs("iso3"), names)
        people_text = people.get("text") or ""
        killed = _KILLED.search(people_text)
        displaced = _DISPLACED.search(people_text)
        details: dict[str, Any] = {
            "event_type": kind,
            "event_id": event_id,
            "episode_id": episode_id,
            "event_name": gdacs("eventname"),
            "alert_level": level,
            "alert_score": number(gdacs("alertscore"), "gdacs:alertscore"),
            "episode_alert_level": gdacs("episodealertlevel"),
            "episode_alert_score": number(gdacs("episodealertscore"), "gdacs:episodealertscore"),
            "severity": measure or None,
            "population": people or None,
            "vulnerability": vulnerability.get("value"),
            "displaced": int(displaced.group(1)) if displaced else None,
            "countries": named or None,
            "iso3": gdacs("iso3"),
            "glide": gdacs("glide"),
            "bbox": _bbox(gdacs("bbox")),
            "is_current": _flag(gdacs("iscurrent")),
            "calculation": gdacs("calculationtype"),
            "guid": text(item.findtext("guid")),
        }
        return RiskEvent(
            source="gdacs_alerts",
            source_id=f"{kind}-{event_id}",
            occurred_at=start,
            ended_at=end,
            reported_at=published,
            fine_type=FineType(row["fine_type"]),
            severity=grade,
            severity_rule=rule,
            title=text(item.findtext("title")),
            country_code=country,
            geometry=location,
            precision=EventPrecision(row["precision"]),
            place=names,
            url=text(item.findtext("link")),
            language="en",
            fatalities=int(killed.group(1)) if killed else None,
            magnitude=measure.get("value") if measure.get("unit") == "M" else None,
            details={k: v for k, v in details.items() if v is not None},
        )

    @staticmethod
    def _point(item: Element) -> Point:
        """geo:Point (both schemas), else georss:point ("lat lon")."""
        geo = item.find(GEO + "Point")
        if geo is not None:
            found = point(
                geo.findtext(GEO + "long"), geo.findtext(GEO + "lat"), "geo:long", "geo:lat"
            )
            if found is not None:
                return found
        pair = (text(item.findtext(GEORSS + "point")) or "").split()
        if len(pair) == 2:
            found = point(pair[1], pair[0], "georss:point", "georss:point")
            if found is not None:
                return found
        elif pair:
            raise RecordError("georss:point", f"georss:point {' '.join(pair)!r} is not 'lat lon'")
        raise RecordError("geo:Point", "the item has no coordinates")


def _instant(value: str | None, field: str) -> datetime | None:
    return instant(value, field) if text(value) else None


def _flag(value: str | None) -> bool | None:
    return None if value is None else value.lower() == "true"


def _measure(element: Element | None, field: str) -> dict[str, Any]:
    """``<gdacs:severity unit="M" value="5.6">Magnitude 5.6M, Depth:10km</…>`` → a dict."""
    if element is None:
        return {}
    found: dict[str, Any] = {
        "value": number(element.get("value"), f"{field}@value"),
        "unit": text(element.get("unit")),
        "text": text(element.text),
    }
    return {k: v for k, v in found.items() if v is not None}


def _bbox(value: str | None) -> list[float] | None:
    """``lonmin lonmax latmin latmax`` → [west, south, east, north] (GeoJSON order).

    Kept in details, not as the geometry: it is GDACS's map window (±4° around an epicentre,
    the whole track of a cyclone), not the area affected.
    """
    if value is None:
        return None
    parts = value.split()
    values: list[float] = []
    for part in parts:
        parsed = number(part, "gdacs:bbox")
        if parsed is not None:
            values.append(parsed)
    if len(values) != 4:
        raise RecordError("gdacs:bbox", f"gdacs:bbox {value!r} is not four numbers")
    west, east, south, north = values
    point(west, south, "gdacs:bbox", "gdacs:bbox")  # range checks
    point(east, north, "gdacs:bbox", "gdacs:bbox")
    if south > north:
        raise RecordError("gdacs:bbox", f"gdacs:bbox {value!r}: latmin above latmax")
    return [west, south, east, north]
