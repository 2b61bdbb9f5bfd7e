"""CAP alerts: OASIS CAP 1.2 / 1.1 messages, and Atom or RSS feeds that list them.

A payload is one ``<alert>``, or a feed whose entries either embed an ``<alert>`` or carry CAP
fields inline (the NWS Atom index). Every message becomes one event keyed ``sender,identifier``
of the first message of its chain (``<references>``), so Updates revise that event and a
Cancel retracts it. Severity: CAP ``<severity>``, one grade lower when ``<certainty>`` is only
Possible (severity.csv, certainty.csv). Rules and reasons: docs/sources/cap_alerts.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

import shapely
from pyproj import Geod
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from allweather.connectors.base import Connector, Parsed, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import (
    RecordError,
    instant,
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
    namespace,
    raw_xml,
    replaced_field,
)
from allweather.domain.events import EventPrecision, Rejection, Retraction, RiskEvent, Skipped
from allweather.domain.taxonomy import EventClass, FineType, MofcomCategory, SeverityGrade
from allweather.reference.countries import UnknownCountryError, country_catalog

_PACKAGE = __package__ or "allweather.connectors.cap_alerts"
SOURCE = "cap_alerts"
DEFAULT_LANGUAGE = "en-US"  # CAP: <language> defaults to en-US when absent
CIRCLE_VERTICES = 72  # every 5°: the polygon sits at most 0.1% of the radius inside the circle
MAX_RADIUS_KM = 20_000.0  # half the Earth's circumference
_GEOD = Geod(ellps="WGS84")
_WORLD = box(-180, -90, 180, 90)
_MSG_TYPES = {
    "alert": "Alert",
    "update": "Update",
    "cancel": "Cancel",
    "ack": "Ack",
    "error": "Error",
}
_MAGNITUDE_PARAMETERS = ("magnitude", "eventpreliminarymagnitude")


def is_cap_namespace(ns: str) -> bool:
    return ns.startswith("urn:oasis:names:tc:emergency:cap:") or ns == (
        "http://www.incident.com/cap/1.0"
    )


# ---------------------------------------------------------------------- the message, as read


@dataclass
class Area:
    desc: str | None = None
    polygons: list[str] = field(default_factory=list)
    circles: list[str] = field(default_factory=list)
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Info:
    language: str = DEFAULT_LANGUAGE
    categories: list[str] = field(default_factory=list)
    event: str | None = None
    response_types: list[str] = field(default_factory=list)
    urgency: str | None = None
    severity: str | None = None
    certainty: str | None = None
    event_codes: list[tuple[str, str]] = field(default_factory=list)
    effective: str | None = None
    onset: str | None = None
    expires: str | None = None
    sender_name: str | None = None
    headline: str | None = None
    web: str | None = None
    parameters: list[tuple[str, str]] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)


@dataclass
class Message:
    """A CAP alert, or the CAP fields of a feed entry (``kind`` says which)."""

    kind: str
    version: str
    identifier: str | None = None
    sender: str | None = None
    sent: str | None = None
    status: str | None = None
    msg_type: str | None = None
    scope: str | None = None
    note: str | None = None
    references: str | None = None
    incidents: str | None = None
    infos: list[Info] = field(default_factory=list)
    url: str | None = None
    title: str | None = None


def _children(element: Element, name: str, ns: str | None) -> list[Element]:
    """Direct children named ``name`` in namespace ``ns`` (any namespace when None)."""
    return [c for c in element if local(c.tag) == name and (ns is None or namespace(c.tag) == ns)]


def _first(element: Element, name: str, ns: str | None) -> str | None:
    found = _children(element, name, ns)
    return text(found[0].text) if found else None


def _all(element: Element, name: str, ns: str | None) -> list[str]:
    return [t for c in _children(element, name, ns) if (t := text(c.text))]


def _pairs(element: Element) -> list[tuple[str, str]]:
    """valueName/value children in document order (one pair per CAP block, or several in a row
    as in the NWS Atom index)."""
    pairs: list[tuple[str, str]] = []
    name = ""
    for child in element:
        if local(child.tag) == "valueName":
            name = text(child.text) or ""
        elif local(child.tag) == "value":
            pairs.append((name, (child.text or "").strip()))
    return pairs


def _area(element: Element, ns: str) -> Area:
    return Area(
        desc=_first(element, "areaDesc", ns),
        polygons=_all(element, "polygon", ns),
        circles=_all(element, "circle", ns),
        geocodes=[p for g in _children(element, "geocode", ns) for p in _pairs(g)],
    )


def _info(element: Element, ns: str, language: str | None = None) -> Info:
    return Info(
        language=_first(element, "language", ns) or language or DEFAULT_LANGUAGE,
        categories=_all(element, "category", ns),
        event=_first(element, "event", ns),
        response_types=_all(element, "responseType", ns),
        urgency=_first(element, "urgency", ns),
        severity=_first(element, "severity", ns),
        certainty=_first(element, "certainty", ns),
        event_codes=[p for c in _children(element, "eventCode", ns) for p in _pairs(c)],
        effective=_first(element, "effective", ns),
        onset=_first(element, "onset", ns),
        expires=_first(element, "expires", ns),
        sender_name=_first(element, "senderName", ns),
        headline=_first(element, "headline", ns),
        web=_first(element, "web", ns),
        parameters=[p for c in _children(element, "parameter", ns) for p in _pairs(c)],
        areas=[_area(a, ns) for a in _children(element, "area", ns)],
    )


def read_alert(alert: Element) -> Message:
    ns = namespace(alert.tag)
    return Message(
        kind="alert",
        version=ns.rsplit(":", 1)[-1].rsplit("/", 1)[-1],
        identifier=_first(alert, "identifier", ns),
        sender=_first(alert, "sender", ns),
        sent=_first(alert, "sent", ns),
        status=_first(alert, "status", ns),
        msg_type=_first(alert, "msgType", ns),
        scope=_first(alert, "scope", ns),
        note=_first(alert, "note", ns),
        references=_first(alert, "references", ns),
        incidents=_first(alert, "incidents", ns),
        infos=[_info(i, ns) for i in _children(alert, "info", ns)],
    )


def read_entry(entry: Element, ns: str) -> Message:
    """An Atom entry or RSS item with CAP fields inline (one info, one area)."""
    author = next(iter(_children(entry, "author", None)), None)
    links = _children(entry, "link", None)
    url = (links[0].get("href") or text(links[0].text)) if links else None
    info = _info(entry, ns, entry.get("{http://www.w3.org/XML/1998/namespace}lang"))
    info.headline = info.headline or _first(entry, "title", None)
    area = _area(entry, ns)
    info.areas = info.areas or (
        [area] if (area.desc or area.polygons or area.circles or area.geocodes) else []
    )
    return Message(
        kind="entry",
        version=ns.rsplit(":", 1)[-1],
        identifier=_first(entry, "identifier", ns)
        or _first(entry, "id", None)
        or _first(entry, "guid", None)
        or url,
        sender=_first(entry, "sender", ns)
        or (_first(author, "name", None) if author is not None else None),
        sent=_first(entry, "sent", ns)
        or _first(entry, "updated", None)
        or _first(entry, "published", None)
        or _first(entry, "pubDate", None),
        status=_first(entry, "status", ns),
        msg_type=_first(entry, "msgType", ns),
        scope=_first(entry, "scope", ns),
        references=_first(entry, "references", ns),
        incidents=_first(entry, "incidents", ns),
        infos=[info],
        url=url,
        title=_first(entry, "title", None),
    )


# ---------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class Kind:
    """The taxonomy a message maps to; ``fine_type`` None: read and skipped."""

    fine_type: FineType | None
    category: MofcomCategory | None
    event_class: EventClass | None
    rule: str


def _kind(row: dict[str, str], rule: str) -> Kind:
    return Kind(
        FineType(row["fine_type"]) if row["fine_type"] else None,
        MofcomCategory(row["category_override"]) if row["category_override"] else None,
        EventClass(row["event_class"]) if row["event_class"] else None,
        rule,
    )


def classify(info: Info) -> Kind:
    """Event code first (most specific), then the event's name, then its CAP category."""
    codes = load_mapping(_PACKAGE, "event_codes.csv")
    for value_name, value in info.event_codes:
        row = codes.get(value) or codes.get(value.upper())
        if row and row["value_name"] in ("", value_name):
            return _kind(row, f"code:{value}")
    name = " ".join((info.event or "").lower().split())
    for keyword, row in load_mapping(_PACKAGE, "event_keywords.csv").rows.items():
        if re.search(rf"\b{re.escape(keyword)}", name):
            return _kind(row, f"keyword:{keyword}")
    categories = load_mapping(_PACKAGE, "categories.csv")
    for category in info.categories:
        row = categories.get(category) or categories.get(category.capitalize())
        if row:
            return _kind(row, f"category:{row['category']}")
    if info.categories:
        raise RecordError("category", f"unknown CAP category {info.categories[0]!r}")
    raise RecordError("category", "no <category> and no event name to classify the alert by")


def severity(info: Info) -> tuple[SeverityGrade, str]:
    """CAP severity, lowered by certainty (Possible: one grade; Unlikely: to Ⅳ)."""
    given = required(info.severity, "severity").lower()
    row = load_mapping(_PACKAGE, "severity.csv").get(given)
    if row is None:
        raise RecordError("severity", f"{info.severity!r} is not a CAP severity")
    sure = required(info.certainty, "certainty").lower()
    shift_row = load_mapping(_PACKAGE, "certainty.csv").get(sure)
    if shift_row is None:
        raise RecordError("certainty", f"{info.certainty!r} is not a CAP certainty")
    order = list(SeverityGrade)
    base = SeverityGrade(row["grade"])
    shift = int(shift_row["shift"])
    grade = order[min(order.index(base) + shift, len(order) - 1)]
    rule = f"cap.{given}" if not shift else f"cap.{given}_{sure.replace(' ', '_')}"
    return grade, rule


def places(areas: list[Area]) -> tuple[str | None, list[str], EventPrecision | None]:
    """Country (one, else None), every country named, and the precision the geocodes give."""
    table = load_mapping(_PACKAGE, "geocodes.csv")
    catalog = country_catalog()
    found: list[str] = []
    precision: EventPrecision | None = None
    for area in areas:
        for value_name, value in area.geocodes:
            row = table.get(value_name)
            if row is None:
                continue
            code, level = row["country"], EventPrecision(row["precision"])
            if code == "iso3166":
                code = value[:2].upper()
                level = level if "-" in value else EventPrecision.COUNTRY
            try:
                code = catalog.resolve(code).iso2
            except UnknownCountryError:
                continue
            precision = precision or level
            if code not in found:
                found.append(code)
    return (found[0] if len(found) == 1 else None), found, precision


# ---------------------------------------------------------------------- geometry


def _lat_lon(pair: str, field_: str) -> Point:
    lat, comma, lon = pair.partition(",")
    if not comma:
        raise RecordError(field_, f"{field_} point {pair!r} is not 'lat,lon'")
    found = point(lon, lat, field_, field_)
    if found is None:  # pragma: no cover - a pair with a comma always has a value
        raise RecordError(field_, f"{field_} point {pair!r} is empty")
    return found


def _polygons(shape: BaseGeometry) -> list[Polygon]:
    parts = getattr(shape, "geoms", [shape])
    return [p for p in parts if isinstance(p, Polygon) and not p.is_empty and p.area > 0]


def _unwrapped(ring: list[tuple[float, float]]) -> list[Polygon]:
    """Polygons within ±180°, splitting a ring that crosses the antimeridian.

    A self-intersecting ring is repaired (``make_valid``) rather than rejected: the area meant
    is still clear, and downstream distance tests need a valid shape.
    """
    shape: BaseGeometry = Polygon(ring)
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
    west, _, east, _ = shape.bounds
    if west >= -180 and east <= 180:
        return _polygons(shape)
    parts: list[Polygon] = []
    for shift in (0.0, -360.0, 360.0):
        parts += _polygons(affinity.translate(shape, xoff=shift).intersection(_WORLD))
    return parts


def polygon(value: str) -> list[Polygon]:
    """CAP ``<polygon>``: "lat,lon lat,lon …" (latitude first), closed, at least 4 pairs."""
    coords = [(p.x, p.y) for p in (_lat_lon(pair, "polygon") for pair in value.split())]
    if coords and coords[0] != coords[-1]:
        coords.append(coords[0])  # CAP requires a closed ring; an open one is closed here
    if len(set(coords)) < 3:
        raise RecordError("polygon", f"polygon has {len(set(coords))} distinct points, needs 3")
    xs = [x for x, _ in coords]
    if max(xs) - min(xs) > 180:  # drawn across the antimeridian: continue east of 180°
        coords = [(x + 360 if x < 0 else x, y) for x, y in coords]
    parts = _unwrapped(coords)
    if not parts:
        raise RecordError("polygon", "polygon encloses no area")
    return parts


def circle(value: str) -> list[Polygon] | Point:
    """CAP ``<circle>``: "lat,lon radius_km". Radius 0 is the point itself; otherwise a
    geodesic circle on WGS84, approximated by a 72-vertex polygon."""
    parts = value.split()
    if len(parts) != 2:
        raise RecordError("circle", f"circle {value!r} is not 'lat,lon radius'")
    centre = _lat_lon(parts[0], "circle")
    radius = number(parts[1], "circle")
    if radius is None or radius < 0 or radius > MAX_RADIUS_KM:
        raise RecordError("circle", f"circle radius {parts[1]!r} km is not in 0..{MAX_RADIUS_KM:g}")
    if radius == 0:
        return centre
    metres = radius * 1000
    n = CIRCLE_VERTICES
    azimuths = [360.0 * i / n for i in range(n)]
    lons, lats, _ = _GEOD.fwd([centre.x] * n, [centre.y] * n, azimuths, [metres] * n)
    _, _, to_north = _GEOD.inv(centre.x, centre.y, centre.x, 90.0)
    _, _, to_south = _GEOD.inv(centre.x, centre.y, centre.x, -90.0)
    if metres >= to_north:  # the circle holds a pole: the band from its rim to the pole
        return [box(-180, min(lats), 180, 90)]
    if metres >= to_south:
        return [box(-180, -90, 180, max(lats))]
    ring = [
        (centre.x + ((lon - centre.x + 180) % 360 - 180), lat)
        for lon, lat in zip(lons, lats, strict=True)
    ]
    return _unwrapped([*ring, ring[0]])


def area_geometry(areas: list[Area]) -> tuple[BaseGeometry | None, int]:
    """Union of every polygon and circle (disjoint areas stay a MultiPolygon; areas that share
    a border merge, since a MultiPolygon of touching parts is invalid). Only points (circles of
    radius 0): the first one. Returns the geometry and how many shapes it came from."""
    shapes: list[Polygon] = []
    points: list[Point] = []
    for area in areas:
        for value in area.polygons:
            shapes += polygon(value)
        for value in area.circles:
            found = circle(value)
            if isinstance(found, Point):
                points.append(found)
            else:
                shapes += found
    if shapes:
        merged = shapely.union_all(shapes)
        if isinstance(merged, Polygon | MultiPolygon):
            return merged, len(shapes) + len(points)
        polys = [g for g in getattr(merged, "geoms", []) if isinstance(g, Polygon)]
        return MultiPolygon(polys), len(shapes) + len(points)
    if points:
        return points[0], len(points)
    return None, 0


# ---------------------------------------------------------------------- the connector


def _instant(value: str | None, field_: str) -> datetime | None:
    return instant(value, field_) if text(value) else None


def references(value: str | None) -> list[tuple[str, str, datetime]]:
    """``sender,identifier,sent`` triples separated by whitespace."""
    found = []
    for triple in (value or "").split():
        parts = triple.split(",")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise RecordError("references", f"reference {triple!r} is not sender,identifier,sent")
        found.append((parts[0], parts[1], instant(parts[2], "references")))
    return found


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).extend(value.split() or [""])
    return grouped


def _message_namespace(element: Element) -> str | None:
    """The CAP namespace of a record: an alert's own, or that of a feed entry's inline CAP
    fields; None for an entry without any."""
    if local(element.tag) == "alert":
        return namespace(element.tag)
    return next((namespace(c.tag) for c in element if is_cap_namespace(namespace(c.tag))), None)


def _wraps_alert(element: Element) -> bool:
    return any(
        local(e.tag) == "alert" and is_cap_namespace(namespace(e.tag)) for e in element.iter()
    )


@register("cap_alerts")
class CapAlerts(Connector):
    """OASIS CAP messages and CAP Atom/RSS feeds, from files or any CAP URL."""

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        def check_root(tag: str) -> None:
            name = local(tag)
            if (name == "alert" and is_cap_namespace(namespace(tag))) or name in (
                "feed",
                "rss",
                "RDF",
            ):
                return
            raise SourceFormatError(
                f"{payload.name}: <{name}> is neither a CAP alert nor an Atom/RSS feed"
            )

        def is_record(tag: str) -> bool:
            name = local(tag)
            return (name == "alert" and is_cap_namespace(namespace(tag))) or name in (
                "entry",
                "item",
            )

        with payload.open() as raw:
            count = 0
            for element in iter_records(raw, payload.name, is_record, check_root):
                if isinstance(element, Rejection):
                    yield element
                    continue
                message_ns = _message_namespace(element)
                if message_ns is None:
                    if not _wraps_alert(element):  # else its alert was a record of its own
                        yield Skipped(1, "feed entry without CAP content (an index link only)")
                    continue
                count += 1
                ref = f"{local(element.tag)} {count}"
                if local(element.tag) == "alert":
                    message = read_alert(element)
                else:
                    message = read_entry(element, message_ns)
                if message.identifier:
                    ref = f"{ref} ({message.identifier})"
                try:
                    bad = replaced_field(element)
                    if bad:
                        raise RecordError(bad, f"invalid UTF-8 in <{bad}>")
                    results = self._message(message)
                except RecordError as err:
                    yield reject(ref, raw_xml(element), err)
                    continue
                yield from results

    def _message(self, message: Message) -> list[Parsed]:
        """Everything one message yields, all or nothing (a RecordError rejects it whole)."""
        identifier = required(message.identifier, "identifier")
        sent = instant(message.sent, "sent")
        status = required(message.status, "status")
        if status.lower() != "actual":
            return [Skipped(1, f"CAP status {status}: not a real alert")]
        msg_type = _MSG_TYPES.get(required(message.msg_type, "msgType").lower())
        if msg_type is None:
            raise RecordError("msgType", f"{message.msg_type!r} is not a CAP msgType")
        if msg_type in ("Ack", "Error"):
            return [Skipped(1, f"CAP {msg_type}: a receipt, not an alert")]
        if message.kind == "alert":
            sender = required(message.sender, "sender")
            own_id = f"{sender},{identifier}"
        else:
            own_id = identifier  # an index entry: its feed id is all there is
        earlier = references(message.references)
        if msg_type == "Cancel":
            if not earlier:
                raise RecordError("references", "a Cancel must reference what it cancels")
            reason = f"cancelled by {own_id}" + (f": {message.note}" if message.note else "")
            targets = dict.fromkeys(f"{s},{i}" for s, i, _ in earlier)
            return [Retraction(SOURCE, t, reported_at=sent, reason=reason) for t in targets]
        # An Update revises the first message of its chain, so the chain is one event.
        source_id = own_id
        if msg_type == "Update" and earlier:
            first = min(earlier, key=lambda r: r[2])
            source_id = f"{first[0]},{first[1]}"
        return [self._event(message, source_id, sent, msg_type, earlier)]

    def _event(
        self,
        message: Message,
        source_id: str,
        sent: datetime,
        msg_type: str,
        earlier: list[tuple[str, str, datetime]],
    ) -> RiskEvent | Skipped:
        if not message.infos:
            raise RecordError("info", "the alert has no <info> block")
        primary = message.infos[0]
        language = primary.language
        same = [i for i in message.infos if i.language.lower() == language.lower()]
        others = {i.language: i.headline for i in message.infos if i not in same and i.headline}
        required(primary.event, "event")
        kind = classify(primary)
        if kind.fine_type is None:
            return Skipped(1, f"CAP event {primary.event!r} ({kind.rule}) is not a risk type")
        grade, rule = min((severity(i) for i in same), key=lambda g: g[0].rank)
        areas = [a for i in same for a in i.areas]
        geometry, shapes = area_geometry(areas)
        country, countries, coded_precision = places(areas)
        if geometry is not None:
            precision = EventPrecision.EXACT
        else:
            precision = coded_precision or EventPrecision.UNKNOWN
        effective = _instant(primary.effective, "effective")
        onset = _instant(primary.onset, "onset")
        expires = _instant(primary.expires, "expires")
        occurred = onset or effective or sent
        if earlier:  # an Update: the event began no later than the first message of its chain
            occurred = min(occurred, min(r[2] for r in earlier))
        if any(r.lower() == "allclear" for r in primary.response_types):
            ended: datetime | None = effective or sent  # the threat is over
        else:
            ended = expires if expires and expires >= occurred else None
        descs = list(dict.fromkeys(a.desc for a in areas if a.desc))
        details: dict[str, Any] = {
            "identifier": message.identifier,
            "sender": message.sender,
            "sender_name": primary.sender_name,
            "sent": sent.isoformat(),
            "msg_type": msg_type,
            "scope": message.scope,
            "cap_version": message.version,
            "event": primary.event,
            "categories": primary.categories,
            "urgency": primary.urgency,
            "severity": primary.severity,
            "certainty": primary.certainty,
            "response_types": primary.response_types or None,
            "event_codes": _grouped(primary.event_codes) or None,
            "geocodes": _grouped([g for a in areas for g in a.geocodes]) or None,
            "type_rule": kind.rule,
            "references": [f"{s},{i},{t.isoformat()}" for s, i, t in earlier] or None,
            "incidents": message.incidents.split() if message.incidents else None,
            "other_headlines": others or None,
            "info_blocks": len(message.infos),
            "areas": shapes or None,
            "countries": countries if len(countries) > 1 else None,
            "note": message.note,
        }
        return RiskEvent(
            source=SOURCE,
            source_id=source_id,
            occurred_at=occurred,
            ended_at=ended,
            reported_at=sent,
            fine_type=kind.fine_type,
            category=kind.category,
            event_class=kind.event_class,
            severity=grade,
            severity_rule=rule,
            title=primary.headline or message.title or primary.event,
            country_code=country,
            geometry=geometry,
            precision=precision,
            place="; ".join(descs) or None,
            url=primary.web or message.url,
            language=language,
            magnitude=_magnitude(primary.parameters),
            details={k: v for k, v in details.items() if v is not None},
        )


def _magnitude(parameters: list[tuple[str, str]]) -> float | None:
    """A magnitude parameter (USGS, tsunami centres). Parameters are free-form in CAP, so a
    value that is not a number stays in the message and is not a reason to reject it."""
    for name, value in parameters:
        if name.lower() in _MAGNITUDE_PARAMETERS:
            try:
                return number(value, name)
            except RecordError:
                return None
    return None
