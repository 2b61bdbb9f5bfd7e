"""Warnings as OASIS CAP 1.2 messages, and an Atom 1.0 feed of them (docs/warnings-cap.md).

One CAP ``<alert>`` per warning revision: ``allweather-warning-<id>-r<revision>``. The first
publication is an Alert, later revisions are Updates and the lift (解除) is a Cancel; each
Update and Cancel lists the earlier publications in ``<references>``, so a CAP reader keeps
the chain as one incident (``<incidents>`` names it too). Every message has two ``<info>``
blocks, Chinese (zh-CN) first, then English, carrying the eight Art. 64 fields.

The feed lists the active warnings, each Atom entry embedding its CAP ``<alert>`` as content
(``type="application/cap+xml"``), as GDACS and national CAP feeds do.

Pure: no database. The caller gathers a ``CapWarning`` from storage.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from allweather.domain.clock import BEIJING
from allweather.domain.geo import geodesic_km
from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.taxonomy import MofcomCategory
from allweather.domain.warnings.model import Action, Status, Trigger
from allweather.domain.warnings.texts import SYSTEM, category_label

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"
DEFAULT_SENDER = "allweather"
# The geocode valueName of ISO 3166 codes in national CAP profiles (CAP-AU and others), which
# CAP readers (our own cap_alerts connector among them) resolve to a country.
ISO3166_VALUE_NAME = "http://www.iso.org/iso/country_codes.html"
LEVEL_PARAMETER = "预警级别"
CATEGORY_PARAMETER = "预警类别"
PROJECT_PARAMETER = "项目编号"
MAX_POLYGON_VERTICES = 200  # a larger footprint is sent as its bounding circle
LANGUAGES = (("zh-CN", "zh"), ("en", "en"))
RESTRICTION = Label(
    "仅限项目所属单位及其主管部门内部使用，不得公开转发。",
    "For the project's organisation and its supervising departments only; do not forward publicly.",
)
LIFTED_NOTE = Label("预警已解除", "warning lifted")
LIFTED_PREFIX = Label("【解除】", "[Lifted] ")

# Revisions that went out to subscribers: each is one CAP message. Acknowledgements and
# escalations keep the revision; drafts and approvals are never published.
PUBLISHING = frozenset(
    {Action.ISSUED, Action.UPGRADED, Action.DOWNGRADED, Action.UPDATED, Action.LIFTED}
)

# CAP <category> of each MOFCOM category (the platform's own warnings are about its data
# infrastructure). Natural-risk warnings are mostly earthquakes, floods, cyclones: CAP has no
# single category for all of them, and Geo is the one its readers map to a natural disaster.
CAP_CATEGORIES: dict[str, str] = {
    MofcomCategory.NATURAL.value: "Geo",
    MofcomCategory.POLITICAL.value: "Security",
    MofcomCategory.ECONOMIC.value: "Safety",
    MofcomCategory.POLICY.value: "Safety",
    MofcomCategory.OTHER.value: "Safety",
    SYSTEM: "Infra",
}
CAP_SEVERITY: dict[WarningLevel, str] = {
    WarningLevel.RED: "Extreme",
    WarningLevel.ORANGE: "Severe",
    WarningLevel.YELLOW: "Moderate",
    WarningLevel.BLUE: "Minor",
}


@dataclass(frozen=True)
class CapCircle:
    """A CAP ``<circle>``: centre (WGS84) and radius in km."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class CapReference:
    """An earlier published revision of the same warning and when it was sent."""

    revision: int
    sent: datetime


@dataclass(frozen=True)
class CapLink:
    """A link to evidence (a source's page about an event), sent as a CAP ``<resource>``."""

    url: str
    description: str


@dataclass(frozen=True)
class CapWarning:
    """What a CAP message says about one warning revision.

    ``polygons`` are closed rings of (lat, lon) pairs, CAP's order. ``earlier`` are the
    revisions published before this one, oldest first (``earlier_publications``).
    """

    id: int
    revision: int
    status: Status
    category: str  # a MOFCOM category value, or "system"
    level: WarningLevel
    title: Label
    key_points: Label
    measures: Label
    affected_area: Label
    issuer: Label
    started_at: datetime
    issued_at: datetime | None
    updated_at: datetime
    lifted_at: datetime | None = None
    country_code: str | None = None
    project_code: str | None = None
    triggers: tuple[str, ...] = ()
    circles: tuple[CapCircle, ...] = ()
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    evidence: tuple[CapLink, ...] = ()
    earlier: tuple[CapReference, ...] = ()

    @property
    def lifted(self) -> bool:
        return self.status is Status.LIFTED

    @property
    def published(self) -> bool:
        """Issued at some point (active now, or lifted); drafts are CAP ``Draft`` messages."""
        return self.status in (Status.ACTIVE, Status.LIFTED)

    @property
    def sent(self) -> datetime:
        """When this revision went out: each lifecycle step sets ``updated_at`` with it."""
        return self.updated_at

    @property
    def references(self) -> tuple[CapReference, ...]:
        """The publications this message supersedes. A lift must name at least one: without
        the history, the revision before it, at the first publication time."""
        if self.earlier or not self.lifted:
            return self.earlier
        return (CapReference(max(self.revision - 1, 1), self.issued_at or self.started_at),)


# ---------------------------------------------------------------------- the mappings


def identifier(warning_id: int, revision: int) -> str:
    """The CAP identifier of one revision: stable, no spaces, commas, ``<`` or ``&``."""
    return f"allweather-warning-{warning_id}-r{revision}"


def incident(warning_id: int) -> str:
    return f"allweather-warning-{warning_id}"


def sender_of(public_url: str | None) -> str:
    """The CAP sender: ``allweather@<host>`` of the public address, else ``allweather``."""
    host = urlsplit(public_url).hostname if public_url else None
    return f"{DEFAULT_SENDER}@{host}" if host else DEFAULT_SENDER


def cap_time(instant: datetime) -> str:
    """CAP dateTime: ISO 8601 in Beijing time with its offset, whole seconds (no ``Z``)."""
    return instant.astimezone(BEIJING).replace(microsecond=0).isoformat()


def cap_category(category: str) -> str:
    try:
        return CAP_CATEGORIES[category]
    except KeyError:
        raise ValueError(f"no CAP category for warning category {category!r}") from None


def cap_severity(level: WarningLevel) -> str:
    """一级 red → Extreme, 二级 orange → Severe, 三级 yellow → Moderate, 四级 blue → Minor."""
    return CAP_SEVERITY[level]


def cap_urgency(level: WarningLevel, lifted: bool = False) -> str:
    """Immediate for red and orange, Expected for yellow and blue; Past once lifted."""
    if lifted:
        return "Past"
    return "Immediate" if level.value <= WarningLevel.ORANGE.value else "Expected"


def cap_certainty(triggers: Iterable[str]) -> str:
    """Observed when an event raised the warning (it has happened), else Likely."""
    return "Observed" if Trigger.EVENT.value in triggers else "Likely"


def msg_type(w: CapWarning) -> str:
    """Alert (first publication), Update (a later revision), Cancel (解除)."""
    if w.lifted:
        return "Cancel"
    return "Update" if w.earlier else "Alert"


def earlier_publications(
    revision: int, steps: Iterable[tuple[int, str, datetime]]
) -> tuple[CapReference, ...]:
    """The revisions published before ``revision``, oldest first, from the history steps
    (revision, action, at): one reference per revision, at its first publishing step."""
    first: dict[int, datetime] = {}
    for rev, action, at in steps:
        if rev < revision and action in PUBLISHING and (rev not in first or at < first[rev]):
            first[rev] = at
    return tuple(CapReference(rev, first[rev]) for rev in sorted(first))


def _number(value: float) -> str:
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _bounding_circle(geometry: BaseGeometry, reach_km: float) -> CapCircle:
    """A circle around the geometry's bounding-box centre reaching its farthest vertex."""
    west, south, east, north = geometry.bounds
    lon, lat = (west + east) / 2, (south + north) / 2
    radius = max((geodesic_km(lon, lat, x, y) for x, y, *_ in _vertices(geometry)), default=0.0)
    return CapCircle(lat, lon, math.ceil((radius + reach_km) * 10) / 10)  # up to 0.1 km


def _vertices(geometry: BaseGeometry) -> list[tuple[float, ...]]:
    if isinstance(geometry, Polygon):
        return [tuple(c) for c in geometry.exterior.coords]
    if isinstance(geometry, LineString | Point):
        return [tuple(c) for c in geometry.coords]
    return [v for part in getattr(geometry, "geoms", []) for v in _vertices(part)]


def site_areas(
    geometries: Iterable[BaseGeometry], reach_km: float | None = None
) -> tuple[tuple[CapCircle, ...], tuple[tuple[tuple[float, float], ...], ...]]:
    """CAP circles and polygons for a project's sites (WGS84 lon/lat geometries).

    A point is a circle of the warning's reach (0: the point itself); a footprint is its
    outline as a polygon (its surroundings are stated in areaDesc), or its bounding circle
    plus the reach when the outline has more than ``MAX_POLYGON_VERTICES`` vertices; a line
    (a railway, a pipeline) is the circle that holds it, plus the reach.
    """
    reach = max(reach_km or 0.0, 0.0)
    circles: list[CapCircle] = []
    polygons: list[tuple[tuple[float, float], ...]] = []
    for geometry in geometries:
        if geometry.is_empty:
            continue
        if isinstance(geometry, Point):
            circles.append(CapCircle(geometry.y, geometry.x, reach))
        elif isinstance(geometry, Polygon | MultiPolygon):
            parts = list(geometry.geoms) if isinstance(geometry, MultiPolygon) else [geometry]
            if sum(len(p.exterior.coords) for p in parts) > MAX_POLYGON_VERTICES:
                circles.append(_bounding_circle(geometry, reach))
                continue
            for part in parts:
                polygons.append(tuple((float(y), float(x)) for x, y, *_ in part.exterior.coords))
        else:  # a line, or a collection: the circle that holds it
            circles.append(_bounding_circle(geometry, reach))
    return tuple(circles), tuple(polygons)


# ---------------------------------------------------------------------- the CAP message


def _add(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    child = SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def _pair(parent: Element, tag: str, name: str, value: str) -> None:
    block = _add(parent, tag)
    _add(block, "valueName", name)
    _add(block, "value", value)


def _web(w: CapWarning, public_url: str | None) -> str | None:
    return f"{public_url.rstrip('/')}/api/v1/warnings/{w.id}" if public_url else None


def cap_url(warning_id: int, public_url: str | None) -> str | None:
    """Where one warning's CAP document is served."""
    return f"{public_url.rstrip('/')}/api/v1/warnings/{warning_id}/cap" if public_url else None


def _info(w: CapWarning, lang: str, key: str, public_url: str | None) -> Element:
    def pick(label: Label) -> str:
        return label.text(key)

    info = Element("info")
    _add(info, "language", lang)
    _add(info, "category", cap_category(w.category))
    cat = category_label(w.category)
    _add(info, "event", f"{cat.zh}预警" if key == "zh" else f"{cat.en} warning")
    if w.lifted:
        _add(info, "responseType", "AllClear")
    _add(info, "urgency", cap_urgency(w.level, w.lifted))
    _add(info, "severity", cap_severity(w.level))
    _add(info, "certainty", cap_certainty(w.triggers))
    _add(info, "effective", cap_time(w.started_at))
    _add(info, "onset", cap_time(w.started_at))
    if w.lifted and w.lifted_at is not None:
        _add(info, "expires", cap_time(w.lifted_at))
    _add(info, "senderName", pick(w.issuer))
    prefix = pick(LIFTED_PREFIX) if w.lifted else ""
    _add(info, "headline", prefix + pick(w.title))
    _add(info, "description", pick(w.key_points))
    _add(info, "instruction", pick(w.measures))
    web = _web(w, public_url)
    if web:
        _add(info, "web", web)
    _pair(info, "parameter", LEVEL_PARAMETER, w.level.label.zh)
    _pair(info, "parameter", CATEGORY_PARAMETER, w.category)
    if w.project_code:
        _pair(info, "parameter", PROJECT_PARAMETER, w.project_code)
    for link in dict.fromkeys(w.evidence):
        resource = _add(info, "resource")
        _add(resource, "resourceDesc", link.description)
        _add(resource, "mimeType", "text/html")
        _add(resource, "uri", link.url)
    area = _add(info, "area")
    _add(area, "areaDesc", pick(w.affected_area))
    for ring in w.polygons:
        _add(area, "polygon", " ".join(f"{_number(lat)},{_number(lon)}" for lat, lon in ring))
    for c in w.circles:
        _add(area, "circle", f"{_number(c.lat)},{_number(c.lon)} {_number(c.radius_km)}")
    if w.country_code:
        _pair(area, "geocode", ISO3166_VALUE_NAME, w.country_code.upper())
    return info


def render_alert(
    w: CapWarning,
    *,
    sender: str = DEFAULT_SENDER,
    public_url: str | None = None,
) -> Element:
    """The CAP 1.2 ``<alert>`` of one warning revision (elements in the schema's order)."""
    alert = Element("alert", {"xmlns": CAP_NS})
    _add(alert, "identifier", identifier(w.id, w.revision))
    _add(alert, "sender", sender)
    _add(alert, "sent", cap_time(w.sent))
    _add(alert, "status", "Actual" if w.published else "Draft")
    _add(alert, "msgType", msg_type(w))
    _add(alert, "scope", "Restricted")
    _add(alert, "restriction", RESTRICTION.both())
    if w.lifted:
        _add(alert, "note", LIFTED_NOTE.both())
    refs = w.references
    if refs:
        _add(
            alert,
            "references",
            " ".join(f"{sender},{identifier(w.id, r.revision)},{cap_time(r.sent)}" for r in refs),
        )
    _add(alert, "incidents", incident(w.id))
    for lang, key in LANGUAGES:
        alert.append(_info(w, lang, key, public_url))
    return alert


def _serialize(root: Element) -> bytes:
    indent(root, space="  ")
    document: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def alert_xml(
    w: CapWarning, *, sender: str = DEFAULT_SENDER, public_url: str | None = None
) -> bytes:
    """One CAP document (UTF-8, with its XML declaration)."""
    return _serialize(render_alert(w, sender=sender, public_url=public_url))


# ---------------------------------------------------------------------- the Atom feed

FEED_TITLE = Label("全天候 生效预警", "Allweather active warnings")
FEED_AUTHOR = Label("全天候", "Allweather")


def _urn(sender: str, name: str) -> str:
    """A stable Atom id: a name-based UUID of the sender and what it names."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{sender}/{name}").urn


def render_feed(
    warnings: Sequence[CapWarning],
    now: datetime,
    *,
    sender: str = DEFAULT_SENDER,
    public_url: str | None = None,
) -> Element:
    """An Atom 1.0 feed with one entry per warning, in the order given, each embedding its
    CAP alert. ``updated`` is the newest message's time (``now`` for an empty feed)."""
    feed = Element("feed", {"xmlns": ATOM_NS})
    _add(feed, "id", _urn(sender, "warnings"))
    _add(feed, "title", FEED_TITLE.both())
    newest = max((w.sent for w in warnings), default=now)
    _add(feed, "updated", cap_time(newest))
    author = _add(feed, "author")
    _add(author, "name", FEED_AUTHOR.both())
    _add(feed, "generator", "allweather")
    if public_url:
        base = public_url.rstrip("/")
        _add(feed, "link", rel="self", href=f"{base}/api/v1/warnings/cap", type=ATOM_MEDIA_TYPE)
    for w in warnings:
        entry = _add(feed, "entry")
        _add(entry, "id", _urn(sender, identifier(w.id, w.revision)))
        _add(entry, "title", f"{w.title.zh} / {w.title.en}")
        _add(entry, "updated", cap_time(w.sent))
        if w.issued_at is not None:
            _add(entry, "published", cap_time(w.issued_at))
        who = _add(entry, "author")
        _add(who, "name", w.issuer.both())
        url = cap_url(w.id, public_url)
        if url:
            _add(entry, "link", rel="alternate", href=url, type=CAP_MEDIA_TYPE)
        cat = category_label(w.category)
        _add(entry, "category", term=w.category, label=cat.both())
        _add(entry, "summary", f"{w.affected_area.zh} / {w.affected_area.en}")
        content = _add(entry, "content", type=CAP_MEDIA_TYPE)
        content.append(render_alert(w, sender=sender, public_url=public_url))
    return feed


def feed_xml(
    warnings: Sequence[CapWarning],
    now: datetime,
    *,
    sender: str = DEFAULT_SENDER,
    public_url: str | None = None,
) -> bytes:
    """The Atom feed as a document (UTF-8, with its XML declaration)."""
    return _serialize(render_feed(warnings, now, sender=sender, public_url=public_url))
