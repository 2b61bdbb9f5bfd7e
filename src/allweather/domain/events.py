"""Risk events and the other records sources produce: retractions, rejections, listed entities.

A ``RiskEvent`` is one signal from one source, normalized: UTC times, ISO 3166 country, WGS84
geometry with the source's own location precision, the taxonomy of DESIGN.md, and a severity
grade with the rule that set it. Its id is stable: it derives from the source's own id, so
re-ingesting the same record updates instead of duplicating.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry

from allweather.domain.labels import Label
from allweather.domain.taxonomy import EventClass, FineType, MofcomCategory, SeverityGrade
from allweather.domain.vocabulary import Vocabulary, install_labels

# Event ids: the source's number (1..127, fixed forever in its spec) in the top bits, then the
# source's own integer id, or a 56-bit hash of a textual id. Integer keys keep the hot insert
# path fast (SQLite's rowid); the number keeps sources apart.
SOURCE_BITS = 56
LOCAL_ID_LIMIT = 1 << SOURCE_BITS


def event_key(source_number: int, source_id: str | int) -> int:
    """The stable integer key of an event: source number and the source's own id.

    Raises:
        ValueError: for a source number outside 1..127 or an integer id beyond 2**56.
    """
    if not 1 <= source_number <= 127:
        raise ValueError(f"source number {source_number} outside 1..127")
    if isinstance(source_id, int):
        local = source_id
        if not 0 <= local < LOCAL_ID_LIMIT:
            raise ValueError(f"integer source id {source_id} outside 0..2**56")
    else:
        digest = hashlib.blake2b(source_id.encode("utf-8"), digest_size=7).digest()
        local = int.from_bytes(digest, "big")
    return (source_number << SOURCE_BITS) | local


def source_number_of(key: int) -> int:
    return key >> SOURCE_BITS


class EventPrecision(Vocabulary):
    """How well an event's location is known, as the source says it.

    UCDP ``where_prec``, ACLED ``geo_precision`` and GDELT's geo type map onto this scale
    (docs/event-mapping.md); matching widens or flags imprecise events.
    """

    EXACT = "exact"
    NEAR = "near"
    ADMIN2 = "admin2"
    ADMIN1 = "admin1"
    COUNTRY = "country"
    UNKNOWN = "unknown"


install_labels(
    EventPrecision,
    {
        "exact": Label("精确位置", "Exact location"),
        "near": Label("附近（约25公里内）", "Near (within about 25 km)"),
        "admin2": Label("二级行政区", "Second-level admin area"),
        "admin1": Label("一级行政区", "First-level admin area"),
        "country": Label("国家级", "Country only"),
        "unknown": Label("位置未知", "Location unknown"),
    },
    {},
)


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """One normalized signal from one source."""

    source: str
    source_id: str
    occurred_at: datetime
    fine_type: FineType
    severity: SeverityGrade
    severity_rule: str
    title: str | None = None
    country_code: str | None = None
    geometry: BaseGeometry | None = None
    precision: EventPrecision = EventPrecision.UNKNOWN
    place: str | None = None
    ended_at: datetime | None = None
    reported_at: datetime | None = None  # the source's own publication or update time
    url: str | None = None
    language: str | None = None
    category: MofcomCategory | None = None  # None: the fine type's default
    event_class: EventClass | None = None  # None: the fine type's default
    fatalities: int | None = None
    magnitude: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def event_id(self) -> str:
        """The readable stable id: ``source:source_id``."""
        return f"{self.source}:{self.source_id}"

    @property
    def mofcom_category(self) -> MofcomCategory:
        return self.category or self.fine_type.category

    @property
    def national_class(self) -> EventClass:
        return self.event_class or self.fine_type.event_class


@dataclass(frozen=True, slots=True)
class Retraction:
    """The source withdrew a record it had published (ACLED deletions, cancelled CAP alerts)."""

    source: str
    source_id: str
    reported_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that could not be normalized: kept in quarantine with the reason.

    ``ref`` says where it was (``line 123``, ``item 5``); ``raw`` is the record as read.
    """

    ref: str
    raw: str
    reason: str
    field: str | None = None
    source_id: str | None = None  # when known: a list entry still listed, though unreadable


class EntityKind(Vocabulary):
    """What a listed counterparty is."""

    PERSON = "person"
    ORGANIZATION = "organization"
    VESSEL = "vessel"
    AIRCRAFT = "aircraft"
    OTHER = "other"


install_labels(
    EntityKind,
    {
        "person": Label("个人", "Person"),
        "organization": Label("机构", "Organization"),
        "vessel": Label("船舶", "Vessel"),
        "aircraft": Label("航空器", "Aircraft"),
        "other": Label("其他", "Other"),
    },
    {
        "individual": "person",
        "entity": "organization",
        "firm": "organization",
        "company": "organization",
        "legalentity": "organization",
    },
)


@dataclass(frozen=True, slots=True)
class ListedEntity:
    """A counterparty on a sanctions or debarment list, for screening contractors and partners."""

    source: str
    source_id: str
    name: str
    kind: EntityKind
    aliases: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # ISO 3166 alpha-2
    programs: tuple[str, ...] = ()  # sanctions programmes, list types, grounds
    listed_from: date | None = None
    listed_to: date | None = None  # None: open-ended or permanent
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def entity_id(self) -> str:
        return f"{self.source}:{self.source_id}"


@dataclass(frozen=True, slots=True)
class Skipped:
    """Records read but deliberately not kept (not a risk signal, e.g. GDELT cooperation)."""

    count: int
    reason: str


@dataclass
class EventColumns:
    """Many events of one source, column by column: the bulk path from parser to store.

    High-volume parsers (GDELT) normalize whole columns at once and hand them over without
    building a ``RiskEvent`` per row. Every column has one entry per event; ``details`` holds
    JSON text. Columns not carried here (geometry, ended_at, category, …) are NULL, which the
    store reads as "a point at lon/lat" and "the fine type's defaults".
    """

    source: str
    ids: list[int]
    source_ids: list[str]
    occurred_at: list[int]  # epoch seconds, UTC
    reported_at: list[int | None]
    fine_type: list[str]
    severity: list[str]
    severity_rule: list[str]
    country_code: list[str | None]
    place: list[str | None]
    lon: list[float | None]
    lat: list[float | None]
    precision: list[str]
    title: list[str | None]
    url: list[str | None]
    details: list[str | None]
    rejections: list[Rejection] = field(default_factory=list)
    skipped: int = 0  # rows of this batch read but not kept

    def __len__(self) -> int:
        return len(self.ids)

    def events(self) -> list[RiskEvent]:
        """The batch as RiskEvents (for consumers that work per event, such as the replay)."""
        from shapely.geometry import Point  # local: the bulk path never needs it

        out: list[RiskEvent] = []
        for i in range(len(self)):
            lon, lat = self.lon[i], self.lat[i]
            reported, details = self.reported_at[i], self.details[i]
            out.append(
                RiskEvent(
                    source=self.source,
                    source_id=self.source_ids[i],
                    occurred_at=datetime.fromtimestamp(self.occurred_at[i], UTC),
                    fine_type=FineType(self.fine_type[i]),
                    severity=SeverityGrade(self.severity[i]),
                    severity_rule=self.severity_rule[i],
                    title=self.title[i],
                    country_code=self.country_code[i],
                    geometry=Point(lon, lat) if lon is not None and lat is not None else None,
                    precision=EventPrecision(self.precision[i]),
                    place=self.place[i],
                    reported_at=datetime.fromtimestamp(reported, UTC)
                    if reported is not None
                    else None,
                    url=self.url[i],
                    details=json.loads(details) if details else {},
                )
            )
        return out
