"""``PortfolioMatcher``: stored events → exposures, by the reach matrix, exactly.

It holds the portfolio's sites (a ``SiteIndex``) and the reach matrix with every override, and
turns a batch of events into exposure rows: which site each event reaches, how far away, in
which direction, under which rule, and what the event's location precision did to the match.

Per event, the search radius is the largest the matrix allows for its type and grade (any site
kind, any override) plus the precision widening; each candidate pair is then held to its own
radius — the one for that site's kind, organisation and project.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from allweather.domain.events import EventPrecision
from allweather.domain.geo import site_kind_of
from allweather.domain.reach import ReachKind, ReachMatrix
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.domain.vocabulary import SiteKind
from allweather.matching.geodesic import point_distances
from allweather.matching.index import Pairs, SiteIndex
from allweather.matching.sphere import FloatArray

_TYPES = list(FineType)
_GRADES = list(SeverityGrade)
_TYPE_INDEX = {t.value: i for i, t in enumerate(_TYPES)}
_GRADE_INDEX = {g.value: i for i, g in enumerate(_GRADES)}
_KIND_CODE = {ReachKind.NONE: 0, ReachKind.RADIUS: 1, ReachKind.COUNTRY: 2}


@dataclass(frozen=True)
class MatchSite:
    """A site as the matcher needs it."""

    site_id: int
    project_id: int
    project_code: str
    organization_code: str | None
    country_code: str | None
    geometry: BaseGeometry

    @property
    def kind(self) -> SiteKind:
        return site_kind_of(self.geometry)


@dataclass
class EventBatch:
    """Events column by column: from stored rows or straight from a bulk parser."""

    ids: list[int] = field(default_factory=list)
    fine_type: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    precision: list[str] = field(default_factory=list)
    country_code: list[str | None] = field(default_factory=list)
    lon: list[float | None] = field(default_factory=list)
    lat: list[float | None] = field(default_factory=list)
    geometry: list[BaseGeometry | None] = field(default_factory=list)  # areas only

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]]) -> EventBatch:
        """From rows of the events table (retracted ones are left out)."""
        batch = cls()
        for row in rows:
            if row.get("deleted_at") is not None:
                continue
            batch.ids.append(int(row["id"]))
            batch.fine_type.append(row["fine_type"])
            batch.severity.append(row["severity"])
            batch.precision.append(row["precision"])
            batch.country_code.append(row.get("country_code"))
            batch.lon.append(row.get("lon"))
            batch.lat.append(row.get("lat"))
            batch.geometry.append(row.get("geometry"))
        return batch


class PortfolioMatcher:
    """Sites plus reach matrix: ``match`` gives exposure rows for a batch of events."""

    def __init__(
        self, sites: Sequence[MatchSite], matrix: ReachMatrix, generation: int = 0
    ) -> None:
        self.sites = list(sites)
        self.matrix = matrix
        self.generation = generation
        self._geometries = np.asarray([s.geometry for s in self.sites], dtype=object)
        self.index = SiteIndex(list(self._geometries))
        self._area: tuple[np.ndarray, np.ndarray, shapely.STRtree] | None = None
        self.site_ids = np.array([s.site_id for s in self.sites], dtype=np.int64)
        self.project_ids = np.array([s.project_id for s in self.sites], dtype=np.int64)
        self.site_country = np.array([s.country_code or "" for s in self.sites], dtype=object)
        self._profiles()
        self._precision = {p.value: matrix.precision_rule(p) for p in EventPrecision}

    def _profiles(self) -> None:
        """Sites that resolve every rule alike share a profile: (kind, organisation, project)
        when the organisation or project has overrides, else the kind alone."""
        scoped = {(o.scope, o.scope_code) for o in self.matrix.overrides}
        keys: dict[tuple[str, str | None, str | None], int] = {}
        profile = np.zeros(len(self.sites), dtype=np.int64)
        for i, site in enumerate(self.sites):
            org = (
                site.organization_code
                if ("organization", site.organization_code) in scoped
                else None
            )
            proj = site.project_code if ("project", site.project_code) in scoped else None
            profile[i] = keys.setdefault((site.kind.value, org, proj), len(keys))
        self.site_profile = profile
        shape = (max(len(keys), 1), len(_TYPES), len(_GRADES))
        self.kind = np.zeros(shape, dtype=np.int8)
        self.radius = np.full(shape, np.nan)
        self.rule_id = np.zeros(shape, dtype=np.int64)
        self.rules: list[str] = []
        rule_ids: dict[str, int] = {}
        for (kind, org, proj), p in keys.items():
            for t, fine_type in enumerate(_TYPES):
                for g, grade in enumerate(_GRADES):
                    reach = self.matrix.reach(fine_type, grade, SiteKind(kind), org, proj)
                    self.kind[p, t, g] = _KIND_CODE[reach.kind]
                    self.radius[p, t, g] = reach.radius_km if reach.radius_km else np.nan
                    self.rule_id[p, t, g] = rule_ids.setdefault(reach.rule, len(rule_ids))
        self.rules = list(rule_ids)
        self.max_radius = (
            np.fmax.reduce(np.where(self.kind == 1, self.radius, np.nan), axis=0)
            if keys
            else np.full(shape[1:], np.nan)
        )

    # ------------------------------------------------------------------ matching

    def match(self, events: EventBatch, matched_at: int) -> list[dict[str, Any]]:
        """Exposure rows (``exposures`` table columns) for every site each event reaches."""
        n = len(events)
        if not n or not self.sites:
            return []
        t = np.array([_TYPE_INDEX[v] for v in events.fine_type], dtype=np.int64)
        g = np.array([_GRADE_INDEX[v] for v in events.severity], dtype=np.int64)
        lon = np.array([np.nan if v is None else v for v in events.lon], dtype=float)
        lat = np.array([np.nan if v is None else v for v in events.lat], dtype=float)
        rules = [self._precision.get(p) for p in events.precision]
        widen = np.array([r.widen_km if r else 0.0 for r in rules])
        mode = np.array([_KIND_CODE[r.kind] if r else 0 for r in rules], dtype=np.int8)
        located = np.isfinite(lon) & np.isfinite(lat)
        out: list[dict[str, Any]] = []
        # 1. Radius reach for events located by a point or an area.
        search = self.max_radius[t, g] + widen
        radial = located & (mode == 1) & np.isfinite(search)
        area = np.array([geom is not None for geom in events.geometry]) & radial
        point = radial & ~area
        which = np.flatnonzero(point)
        if len(which):
            pairs = self.index.match_points(lon[which], lat[which], search[which])
            out += self._radius_rows(events, which[pairs.event], pairs, t, g, widen, matched_at)
        for e in np.flatnonzero(area):
            pairs = self._match_area(events.geometry[e] or shapely.Point(), float(search[e]))
            chosen = np.full(len(pairs), e, dtype=np.int64)
            out += self._radius_rows(events, chosen, pairs, t, g, widen, matched_at)
        # 2. Country reach: by the type's rule for the site, or because the event is known
        #    only to its country.
        out += self._country_rows(events, t, g, mode, lon, lat, located, matched_at)
        return out

    def match_radius(self, events: EventBatch, radius_km: float) -> Pairs:
        """The what-if question: every site within ``radius_km`` of each located event,
        ignoring the reach matrix. Pairs' ``event`` indexes ``events``."""
        lon = np.array([np.nan if v is None else v for v in events.lon], dtype=float)
        lat = np.array([np.nan if v is None else v for v in events.lat], dtype=float)
        located = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
        parts = []
        points = [e for e in located if events.geometry[e] is None]
        if points:
            sel = np.array(points, dtype=np.int64)
            found = self.index.match_points(lon[sel], lat[sel], radius_km)
            parts.append(Pairs(sel[found.event], found.site, found.distance_km, found.bearing_deg))
        for e in located:
            geom = events.geometry[e]
            if geom is not None:
                found = self._match_area(geom, radius_km)
                parts.append(
                    Pairs(
                        np.full(len(found), e, dtype=np.int64),
                        found.site,
                        found.distance_km,
                        found.bearing_deg,
                    )
                )
        return Pairs.concat(parts)

    def _area_support(self) -> tuple[np.ndarray, np.ndarray, shapely.STRtree]:
        """Every site vertex with its site, and a tree of the sites: built on the first area."""
        if self._area is None:
            vertices, owner = shapely.get_coordinates(self._geometries, return_index=True)
            self._area = (vertices, owner, shapely.STRtree(self._geometries))
        return self._area

    def _match_area(self, geometry: BaseGeometry, radius_km: float) -> Pairs:
        """Sites within ``radius_km`` of an event area: 0 where they meet; otherwise the smaller
        of the site's vertices to the area's edges and the area's vertices to the site."""
        area = SiteIndex([geometry])
        vertices, owner, tree = self._area_support()
        from_sites = area.match_points(vertices[:, 0], vertices[:, 1], radius_km)
        corners = shapely.get_coordinates(geometry)
        from_area = self.index.match_points(corners[:, 0], corners[:, 1], radius_km)
        # Shapes that cross with every vertex of each outside the other meet all the same.
        touching = tree.query(geometry, predicate="intersects").astype(np.int64)
        site = np.concatenate([owner[from_sites.event], from_area.site, touching])
        km = np.concatenate(
            [from_sites.distance_km, from_area.distance_km, np.zeros(len(touching))]
        )
        order = np.lexsort((km, site))
        site, km = site[order], km[order]
        first = np.r_[True, site[1:] != site[:-1]] if len(site) else np.zeros(0, dtype=bool)
        site, km = site[first], km[first]
        # Bearing: from the site's anchor to the area's anchor (the area has no single point).
        anchor = geometry.representative_point()
        s_anchor = [self.sites[i].geometry.representative_point() for i in site]
        _, bearing = point_distances(
            np.array([p.x for p in s_anchor]),
            np.array([p.y for p in s_anchor]),
            np.full(len(site), anchor.x),
            np.full(len(site), anchor.y),
        )
        return Pairs(np.zeros(len(site), dtype=np.int64), site.astype(np.int64), km, bearing)

    def _radius_rows(
        self,
        events: EventBatch,
        event_at: np.ndarray,
        pairs: Pairs,
        t: np.ndarray,
        g: np.ndarray,
        widen: FloatArray,
        matched_at: int,
    ) -> list[dict[str, Any]]:
        profile = self.site_profile[pairs.site]
        tt, gg = t[event_at], g[event_at]
        kind = self.kind[profile, tt, gg]
        reach = self.radius[profile, tt, gg] + widen[event_at]
        keep = (kind == 1) & (pairs.distance_km <= reach)
        rows = []
        for i in np.flatnonzero(keep):
            e = int(event_at[i])
            s = int(pairs.site[i])
            precision = events.precision[e]
            rows.append(
                _row(
                    events.ids[e],
                    self,
                    s,
                    float(pairs.distance_km[i]),
                    pairs.bearing_deg[i],
                    "radius",
                    float(reach[i]),
                    self.rules[int(self.rule_id[profile[i], tt[i], gg[i]])],
                    precision,
                    _widen_note(precision, float(widen[e])),
                    matched_at,
                )
            )
        return rows

    def _country_rows(
        self,
        events: EventBatch,
        t: np.ndarray,
        g: np.ndarray,
        mode: np.ndarray,
        lon: FloatArray,
        lat: FloatArray,
        located: np.ndarray,
        matched_at: int,
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        by_country: dict[str, np.ndarray] = {}
        for e in range(len(events)):
            country = events.country_code[e]
            if not country or mode[e] == 0:
                continue
            sites = by_country.get(country)
            if sites is None:
                sites = by_country[country] = np.flatnonzero(self.site_country == country)
            if not len(sites):
                continue
            profile = self.site_profile[sites]
            kinds = self.kind[profile, t[e], g[e]]
            # Known only to its country: every site the type can reach at all, flagged.
            chosen = sites[kinds != 0] if mode[e] == 2 else sites[kinds == 2]
            if not len(chosen):
                continue
            distance = bearing = np.full(len(chosen), np.nan)
            if mode[e] != 2 and located[e]:
                anchors = [self.sites[i].geometry.representative_point() for i in chosen]
                distance, bearing = point_distances(
                    np.array([p.x for p in anchors]),
                    np.array([p.y for p in anchors]),
                    np.full(len(chosen), lon[e]),
                    np.full(len(chosen), lat[e]),
                )
            precision = events.precision[e]
            for j, s in enumerate(chosen):
                p = self.site_profile[s]
                rule = self.rules[int(self.rule_id[p, t[e], g[e]])]
                rows.append(
                    _row(
                        events.ids[e],
                        self,
                        int(s),
                        None if np.isnan(distance[j]) else float(distance[j]),
                        bearing[j],
                        "country",
                        None,
                        rule if mode[e] != 2 else f"precision:country ({rule})",
                        precision,
                        _COUNTRY_NOTE if mode[e] == 2 else None,
                        matched_at,
                    )
                )
        return rows


_COUNTRY_NOTE = "位置仅知国家，匹配全国项目 / location known only to the country: every site there"


def _widen_note(precision: str, widen_km: float) -> str | None:
    if widen_km <= 0:
        return None
    label = EventPrecision(precision).label
    return (
        f"位置精度为{label.zh}，影响范围扩大{widen_km:g}公里 / "
        f"{label.en.lower()} precision: reach widened by {widen_km:g} km"
    )


def _row(
    event_id: int,
    matcher: PortfolioMatcher,
    site: int,
    distance: float | None,
    bearing: float,
    reach_kind: str,
    reach_km: float | None,
    rule: str,
    precision: str,
    note: str | None,
    matched_at: int,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "site_id": int(matcher.site_ids[site]),
        "project_id": int(matcher.project_ids[site]),
        "distance_km": None if distance is None else round(distance, 6),
        "bearing_deg": None if not np.isfinite(bearing) else round(float(bearing), 2),
        "reach_kind": reach_kind,
        "reach_km": reach_km,
        "rule": rule,
        "precision": precision,
        "note": note,
        "matrix_version": matcher.matrix.version,
        "matched_at": matched_at,
    }
