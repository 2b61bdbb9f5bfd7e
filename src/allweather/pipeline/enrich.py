"""Enrich: what parsers leave to the pipeline, done once per chunk for many records at once."""

from __future__ import annotations

from dataclasses import replace

import shapely

from allweather.reference.countries import CountryCatalog
from allweather.store.base import Chunk


def place_in_countries(chunk: Chunk, catalog: CountryCatalog) -> None:
    """Give every located event without a country the country it lies in (one batch query).

    Sources that name no country (USGS, CAP areas, some GDELT rows) get it here rather than one
    index lookup per record in each parser.
    """
    events = chunk.events
    missing = [
        (i, e.geometry)
        for i, e in enumerate(events)
        if e.country_code is None and e.geometry is not None
    ]
    if missing:
        placed = catalog.place_many([geometry for _, geometry in missing])
        for (i, _), placement in zip(missing, placed, strict=True):
            if placement.iso2:
                events[i] = replace(events[i], country_code=placement.iso2)
    for batch in chunk.columns:
        located = zip(batch.country_code, batch.lon, batch.lat, strict=True)
        rows = [
            i
            for i, (code, lon, lat) in enumerate(located)
            if code is None and lon is not None and lat is not None
        ]
        if rows:
            points = shapely.points([(batch.lon[i], batch.lat[i]) for i in rows])
            for i, placement in zip(rows, catalog.place_many(list(points)), strict=True):
                batch.country_code[i] = placement.iso2
