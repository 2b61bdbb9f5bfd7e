"""Risk events, their map layer, and the health of the sources that deliver them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from allweather.api.deps import MapPageDep, PageDep, PlatformDep
from allweather.api.errors import NotFoundError
from allweather.api.routers.map import parse_bbox
from allweather.api.schemas import Page
from allweather.connectors.registry import all_connectors
from allweather.domain.taxonomy import SeverityGrade
from allweather.pipeline.export import normalized
from allweather.pipeline.health import assess

router = APIRouter(tags=["events"])


class EventOut(BaseModel):
    event_id: str
    source: str
    occurred_at: str | None
    reported_at: str | None
    fine_type: str
    category: str
    event_class: str
    severity: str
    severity_rule: str
    country: str | None
    place: str | None
    longitude: float | None
    latitude: float | None
    precision: str
    title: str | None
    url: str | None
    fatalities: int | None
    magnitude: float | None
    details: dict[str, Any]


def _sources() -> dict[int, str]:
    return {c.spec.number: c.spec.id for c in all_connectors()}


def _number(source: str | None) -> int | None:
    if source is None:
        return None
    for connector in all_connectors():
        if connector.spec.id == source:
            return connector.spec.number
    raise NotFoundError(f"no source {source!r}")


def _severities(minimum: SeverityGrade | None) -> list[str] | None:
    if minimum is None:
        return None
    return [g.value for g in SeverityGrade if g.rank <= minimum.rank]


@router.get("/events", response_model=Page[EventOut])
def list_events(
    platform: PlatformDep,
    paging: PageDep,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    min_severity: Annotated[SeverityGrade | None, Query(description="I (most severe) … IV")] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
) -> Page[EventOut]:
    """Stored events, newest first, with their normalized fields."""
    rows, total = platform.sources.list_events(
        number=_number(source),
        since=since,
        until=until,
        bbox=parse_bbox(bbox),
        severities=_severities(min_severity),
        country=country,
        offset=paging.offset,
        limit=paging.page_size,
    )
    items = [
        EventOut(**{k: v for k, v in r.items() if k in EventOut.model_fields})
        for r in normalized(rows, _sources())
    ]
    return Page.build(items, paging.page, paging.page_size, total)


@router.get("/map/events")
def event_layer(
    platform: PlatformDep,
    paging: MapPageDep,
    days: Annotated[
        int, Query(ge=1, le=3650, description="window ending at the platform clock")
    ] = 30,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    min_severity: SeverityGrade | None = None,
) -> dict[str, Any]:
    """Events of the last ``days`` before the platform clock's now, as GeoJSON points."""
    now = platform.clock.now()
    rows, total = platform.sources.list_events(
        since=now - timedelta(days=days),
        until=now,
        bbox=parse_bbox(bbox),
        severities=_severities(min_severity),
        offset=paging.offset,
        limit=paging.page_size,
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [e["longitude"], e["latitude"]]},
            "properties": {
                k: e[k]
                for k in (
                    "event_id",
                    "source",
                    "occurred_at",
                    "fine_type",
                    "category",
                    "severity",
                    "country",
                    "place",
                    "title",
                    "url",
                    "precision",
                )
            },
        }
        for e in normalized(rows, _sources())
        if e["longitude"] is not None
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "total": total,
        "page": paging.page,
        "page_size": paging.page_size,
        "now": now.isoformat(),
    }


@router.get("/sources")
def list_sources(platform: PlatformDep) -> list[dict[str, Any]]:
    """Every source with its health: last success, lag, volume, stale (silent > 2 × cadence)."""
    states = platform.sources.states()
    runs = platform.sources.last_runs()
    now = platform.clock.now()
    out = []
    for connector in all_connectors():
        spec = connector.spec
        h = assess(spec, states.get(spec.id), runs.get(spec.id), now)
        out.append(
            {
                "source": spec.id,
                "title": spec.title,
                "title_zh": spec.title_zh,
                "publisher": spec.publisher,
                "license": spec.license,
                "output": spec.output,
                "status": h.status,
                "enabled": h.enabled,
                "stale": h.stale,
                "cadence_seconds": spec.cadence.total_seconds(),
                "last_success_at": h.last_success_at.isoformat() if h.last_success_at else None,
                "last_status": h.last_status,
                "last_read": h.last_read,
                "last_quarantined": h.last_quarantined,
                "lag_seconds": h.lag.total_seconds() if h.lag else None,
                "volume": h.volume,
                "last_error": h.last_error,
            }
        )
    return out
