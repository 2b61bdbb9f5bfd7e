"""ISO 3166 countries with Chinese and English names, and Natural Earth 1:10m boundaries.

Boundaries come from the world-atlas 1:10m topology (quantised to about 0.4 km), so a site on a
coast or a border can sit a little outside the polygon of its own country; callers compare
distances against a tolerance rather than trusting a bare point-in-polygon test.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from allweather.domain.geo import approx_distance_km, approx_distances_km
from allweather.domain.portfolio import Country
from allweather.domain.vocabulary import normalize_term

# A site this close to a country counts as in it when nothing contains it (ports, offshore
# terminals, quantised coastlines).
OFFSHORE_REACH_KM = 50.0


class UnknownCountryError(ValueError):
    """A country name or code that matches no ISO 3166 country."""


@dataclass(frozen=True)
class Placement:
    """Where a geometry lies relative to the country boundaries.

    ``iso2`` is the country containing the geometry's anchor point, or the nearest one within
    ``OFFSHORE_REACH_KM``; ``distance_km`` is 0 inside, else the distance to that country.
    """

    iso2: str | None
    distance_km: float


class CountryCatalog:
    """All countries, name resolution, and geometry → country placement."""

    def __init__(self, countries: list[Country], aliases: dict[str, str]) -> None:
        self._by_iso2 = {c.iso2: c for c in countries}
        self._lookup: dict[str, str] = {}
        for alias, iso2 in aliases.items():
            self._lookup.setdefault(normalize_term(alias), iso2)
        for c in countries:  # codes and display names win over aliases
            for key in (c.iso2, c.iso3, c.name_en, c.name_zh):
                self._lookup[normalize_term(key)] = c.iso2
            if c.numeric:  # ISO 3166 numeric, padded ("004") or not ("4")
                self._lookup[c.numeric] = self._lookup[str(int(c.numeric))] = c.iso2

    def __iter__(self) -> Iterator[Country]:
        return iter(self._by_iso2.values())

    def __len__(self) -> int:
        return len(self._by_iso2)

    def all(self) -> list[Country]:
        return sorted(self._by_iso2.values(), key=lambda c: c.iso2)

    def get(self, iso2: str) -> Country | None:
        return self._by_iso2.get(iso2.upper())

    def resolve(self, text: str) -> Country:
        """Find a country by ISO alpha-2, alpha-3 or numeric code, or an English or Chinese name.

        Raises:
            UnknownCountryError: when nothing matches.
        """
        key = normalize_term(text).replace("（", "(").replace("）", ")")
        iso2 = self._lookup.get(key) or self._lookup.get(normalize_term(text))
        if iso2 is None:
            raise UnknownCountryError(
                f"unknown country {text!r}: give an ISO 3166 code (KE, KEN) "
                "or a name (Kenya, 肯尼亚)"
            )
        return self._by_iso2[iso2]

    @cached_property
    def _boundaries(self) -> tuple[list[str], np.ndarray, shapely.STRtree]:
        codes, geometries = _load_boundaries()
        array = np.array(geometries, dtype=object)
        shapely.prepare(array)
        return codes, array, shapely.STRtree(array)

    @cached_property
    def _coastal(self) -> tuple[np.ndarray, np.ndarray, shapely.STRtree]:
        """Country outlines simplified to ~1 km and cut into short pieces (bundled), for the
        offshore nearest-country search: (pieces, owning country index, index over pieces).

        Whole multipolygons make each nearest query walk thousands of vertices (~0.3 ms a
        point); short pieces let the index touch only the coast nearby. Within a 50 km reach,
        a kilometre of generalisation cannot change the answer.
        """
        path = resources.files("allweather.data").joinpath("coast-1km.npz")
        with path.open("rb") as fh, np.load(fh) as arrays:
            coords = np.cumsum(arrays["deltas"], axis=0) / 1e4
            pieces = shapely.from_ragged_array(
                shapely.GeometryType.LINESTRING, coords, (arrays["offsets"],)
            )
            owners = arrays["owners"].astype(int)
        return pieces, owners, shapely.STRtree(pieces)

    def boundary(self, iso2: str) -> BaseGeometry | None:
        codes, geometries, _ = self._boundaries
        try:
            geometry: BaseGeometry = geometries[codes.index(iso2)]
        except ValueError:
            return None
        return geometry

    def place(self, geometry: BaseGeometry) -> Placement:
        """The country a geometry lies in (by its anchor point), or the nearest one offshore."""
        return self.place_many([geometry])[0]

    def place_many(self, geometries: Sequence[BaseGeometry]) -> list[Placement]:
        """``place`` for many geometries with one index query (the import's hot path)."""
        codes, boundaries, tree = self._boundaries
        anchors = shapely.point_on_surface(np.asarray(geometries, dtype=object))
        placements: list[Placement | None] = [None] * len(anchors)
        # Bounding-box candidates, then point-in-polygon on the prepared boundaries: several
        # times faster than asking the tree for predicate="intersects" on points.
        inputs, candidates = tree.query(anchors)
        inside = shapely.contains_xy(
            boundaries[candidates], shapely.get_x(anchors[inputs]), shapely.get_y(anchors[inputs])
        )
        for i, j in zip(inputs[inside].tolist(), candidates[inside].tolist(), strict=True):
            if placements[i] is None:
                placements[i] = Placement(codes[j], 0.0)
        missed = np.array([i for i, found in enumerate(placements) if found is None], dtype=int)
        if len(missed):  # offshore or open sea: the nearest country, if within reach
            pieces, owners, coastal_tree = self._coastal
            near_in, near_idx = coastal_tree.query_nearest(
                anchors[missed],
                max_distance=1.0,  # degrees; refined below
                all_matches=False,
            )
            distances = approx_distances_km(anchors[missed][near_in], pieces[near_idx])
            for k, j, km in zip(
                near_in.tolist(), near_idx.tolist(), distances.tolist(), strict=True
            ):
                if km <= OFFSHORE_REACH_KM:
                    placements[int(missed[k])] = Placement(codes[int(owners[j])], km)
        return [p if p is not None else Placement(None, float("inf")) for p in placements]

    def distance_outside_km(self, geometry: BaseGeometry, iso2: str) -> float | None:
        """How far ``geometry`` lies outside country ``iso2`` (0 when it touches it).

        Returns None when the country has no bundled boundary (tiny territories).
        """
        boundary = self.boundary(iso2)
        if boundary is None:
            return None
        if shapely.intersects(boundary, geometry):
            return 0.0
        return approx_distance_km(geometry, boundary)


@lru_cache(maxsize=1)
def country_catalog() -> CountryCatalog:
    """The bundled catalog, loaded once per process."""
    countries: list[Country] = []
    aliases: dict[str, str] = {}
    text = resources.files("allweather.data").joinpath("countries.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        countries.append(
            Country(row["iso2"], row["iso3"], row["numeric"], row["name_en"], row["name_zh"])
        )
        for alias in filter(None, row["aliases"].split("|")):
            aliases[alias] = row["iso2"]
    return CountryCatalog(countries, aliases)


def _load_boundaries() -> tuple[list[str], list[BaseGeometry]]:
    """Country MultiPolygons from ragged arrays (written by scripts/build_reference_data.py)."""
    path = resources.files("allweather.data").joinpath("boundaries-10m.npz")
    with path.open("rb") as fh, np.load(fh) as arrays:
        coords = np.cumsum(arrays["deltas"], axis=0) / 1e4
        offsets = (arrays["rings"], arrays["polygons"], arrays["parts"])
        geometries = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords, offsets)
        codes = [str(code) for code in arrays["codes"]]
    return codes, list(geometries)
