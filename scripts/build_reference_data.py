"""Build the bundled country reference data from Natural Earth and ISO 3166 (dev-time only).

Reads ../shared/data/natural_earth (public domain; world-atlas TopoJSON, ISC) and pycountry's
ISO 3166-1 table with its zh_CN translations (from Debian's iso-codes). Writes:

- src/allweather/data/countries.csv — ISO codes, Chinese and English names, aliases;
- src/allweather/data/boundaries-10m.npz — one MultiPolygon per country, from the 1:10m
  world-atlas topology (quantised to ~0.4 km), as shapely ragged arrays: coordinates in 1e-4
  degree integers, delta-encoded (1.3 MB; loads in tens of milliseconds, bit-exact);
- src/allweather/web/static/basemap/countries.geojson — a light 1:50m basemap for the map page.

Run: .venv/bin/python scripts/build_reference_data.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import csv
import gettext
import json
from pathlib import Path

import numpy as np
import pycountry
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

ROOT = Path(__file__).resolve().parent.parent
OUT_DATA = ROOT / "src" / "allweather" / "data"
OUT_BASEMAP = ROOT / "src" / "allweather" / "web" / "static" / "basemap"

# world-atlas features without an ISO numeric id, by their Natural Earth name.
# None = disputed or not a country: left out of site assignment.
UNNUMBERED = {
    "Kosovo": "XK",
    "Somaliland": "SO",
    "N. Cyprus": "CY",
    "Cyprus U.N. Buffer Zone": "CY",
    "Dhekelia": "GB",
    "Akrotiri": "GB",
    "Baikonur": "KZ",
    "USNB Guantanamo Bay": "CU",
    "Indian Ocean Ter.": "AU",
    "Coral Sea Is.": "AU",
    "Clipperton I.": "FR",
    "Siachen Glacier": None,
    "Spratly Is.": None,
    "Bajo Nuevo Bank": None,
    "Serranilla Bank": None,
    "Scarborough Reef": None,
}

# Short Chinese names people write, where the ISO zh_CN name is the formal one.
ZH_SHORT = {
    "LA": "老挝",
    "KR": "韩国",
    "KP": "朝鲜",
    "IR": "伊朗",
    "SY": "叙利亚",
    "TZ": "坦桑尼亚",
    "BO": "玻利维亚",
    "VE": "委内瑞拉",
    "GB": "英国",
    "US": "美国",
    "RU": "俄罗斯",
    "MD": "摩尔多瓦",
    "CD": "刚果（金）",
    "CG": "刚果（布）",
    "CZ": "捷克",
    "TW": "中国台湾",
    "HK": "中国香港",
    "MO": "中国澳门",
    "VN": "越南",
    "FM": "密克罗尼西亚联邦",
    "PS": "巴勒斯坦",
    "MK": "北马其顿",
    "TR": "土耳其",
    "CI": "科特迪瓦",
    "CV": "佛得角",
    "SZ": "斯威士兰",
    "BN": "文莱",
    "MM": "缅甸",
}
ZH_EXTRA_ALIASES = {
    "CD": ["刚果金", "民主刚果", "刚果(金)"],
    "CG": ["刚果布", "刚果(布)", "刚果共和国"],
    "MM": ["缅甸联邦"],
    "AE": ["阿联酋"],
    "CF": ["中非"],
    "ZA": ["南非"],
    "SA": ["沙特", "沙特阿拉伯"],
    "PG": ["巴新"],
    "DO": ["多米尼加"],
    "LK": ["锡兰"],
    "SZ": ["埃斯瓦蒂尼"],
    "TL": ["东帝汶"],
    "XK": ["科索沃"],
}


def _unwrap(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Make longitudes continuous: a step of more than 180° crosses the antimeridian."""
    out = [ring[0]]
    offset = 0.0
    for (x0, _), (x, y) in zip(ring, ring[1:], strict=False):
        if x - x0 > 180:
            offset -= 360
        elif x - x0 < -180:
            offset += 360
        out.append((x + offset, y))
    return out


def _split_at_antimeridian(
    shell: list[tuple[float, float]], holes: list[list[tuple[float, float]]]
) -> list[Polygon]:
    """A polygon whose rings cross ±180° (Fiji, Chukotka), cut into pieces inside ±180°.

    Drawn naively, such a ring spans the whole globe at its latitude; unwrapped, it is one
    polygon beyond 180°, which is clipped and shifted back piece by piece.
    """
    crosses = any(abs(b[0] - a[0]) > 180 for a, b in zip(shell, shell[1:], strict=False))
    if not crosses:
        return [Polygon(shell, holes)]
    polygon = shapely.make_valid(Polygon(_unwrap(shell), [_unwrap(h) for h in holes]))
    pieces: list[Polygon] = []
    for shift in (0.0, -360.0, 360.0):
        window = shapely.box(-180 - shift, -90, 180 - shift, 90)
        inside = shapely.intersection(polygon, window)
        clipped = shapely.transform(inside, lambda xy, d=shift: xy + (d, 0))
        pieces.extend(
            p for p in shapely.get_parts(clipped) if p.geom_type == "Polygon" and not p.is_empty
        )
    return pieces


def decode_topology(topo: dict) -> list[tuple[dict, object]]:
    """Decode a quantised TopoJSON object collection into (properties + id, shapely geometry)."""
    scale = topo["transform"]["scale"]
    translate = topo["transform"]["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        arcs.append(points)

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        coords: list[tuple[float, float]] = []
        for index in indices:
            points = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
            coords.extend(points if not coords else points[1:])
        return coords

    out = []
    for geom in topo["objects"]["countries"]["geometries"]:
        if geom["type"] == "Polygon":
            polygons = [geom["arcs"]]
        elif geom["type"] == "MultiPolygon":
            polygons = geom["arcs"]
        else:
            continue
        parts = []
        for rings in polygons:
            shell, *holes = (ring(r) for r in rings)
            if len(shell) < 4:  # islets that quantisation collapsed to a point
                continue
            parts.extend(_split_at_antimeridian(shell, [h for h in holes if len(h) >= 4]))
        geometry = shapely.make_valid(MultiPolygon(parts))
        out.append(({"id": geom.get("id"), **geom.get("properties", {})}, geometry))
    return out


def country_rows() -> list[dict[str, str]]:
    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    rows = []
    for country in pycountry.countries:
        name = country.name
        common = getattr(country, "common_name", None)
        official = getattr(country, "official_name", None)
        name_en = common or name
        name_zh = ZH_SHORT.get(country.alpha_2) or zh.gettext(common or name)
        aliases_en = {n for n in (name, common, official) if n}
        aliases_zh = {zh.gettext(n) for n in (name, common, official) if n}
        aliases_zh |= set(ZH_EXTRA_ALIASES.get(country.alpha_2, []))
        aliases = sorted((aliases_en | aliases_zh) - {name_en, name_zh})
        rows.append(
            {
                "iso2": country.alpha_2,
                "iso3": country.alpha_3,
                "numeric": country.numeric,
                "name_en": name_en,
                "name_zh": name_zh,
                "aliases": "|".join(aliases),
            }
        )
    rows.append(
        {
            "iso2": "XK",
            "iso3": "XKX",
            "numeric": "",
            "name_en": "Kosovo",
            "name_zh": "科索沃",
            "aliases": "Republic of Kosovo",
        }
    )
    return sorted(rows, key=lambda r: r["iso2"])


def add_natural_earth_aliases(rows: list[dict[str, str]], ne_path: Path) -> None:
    """Natural Earth's own spellings (Dem. Rep. Congo, Lao PDR, …) as extra English aliases."""
    by_iso3 = {r["iso3"]: r for r in rows}
    for feature in json.loads(ne_path.read_text())["features"]:
        p = feature["properties"]
        row = by_iso3.get(p.get("ISO_A3")) or by_iso3.get(p.get("ADM0_A3"))
        if p.get("ADM0_A3") == "KOS":
            row = by_iso3["XKX"]
        if row is None:
            continue
        names = {p.get(k) for k in ("NAME", "NAME_LONG", "ADMIN", "FORMAL_EN", "BRK_NAME")}
        if "," in row["name_en"] and p.get("NAME_LONG"):
            # ISO's inverted names ("Congo, The Democratic Republic of the") read badly on a page
            names.add(row["name_en"])
            row["name_en"] = p["NAME_LONG"]
        known = set(row["aliases"].split("|")) | {row["name_en"], row["name_zh"]}
        extra = {n for n in names if n and n not in known}
        if extra:
            row["aliases"] = "|".join(sorted(known - {row["name_en"], row["name_zh"], ""} | extra))


def _multipolygon(geometry: object) -> MultiPolygon:
    """Only the polygonal parts (make_valid can leave slivers of lines), as one MultiPolygon."""
    polygons = []
    for part in shapely.get_parts(geometry):
        polygons.extend(p for p in shapely.get_parts(part) if p.geom_type == "Polygon")
    return MultiPolygon(polygons)


def write_boundaries(path: Path, codes: list[str], boundaries: list[MultiPolygon]) -> None:
    """Store MultiPolygons as ragged arrays in 1e-4 degree integers, delta-encoded.

    The coordinates already lie on the 1e-4 grid, so the round trip is exact; the reader is
    ``allweather.reference.countries._load_boundaries``.
    """
    _, coords, (rings, polygons, parts) = shapely.to_ragged_array(boundaries)
    grid = np.round(coords * 1e4).astype(np.int32)
    deltas = np.diff(grid, axis=0, prepend=np.zeros((1, 2), dtype=np.int32))
    np.savez_compressed(
        path,
        codes=np.array(codes),
        deltas=deltas,
        rings=rings.astype(np.int32),
        polygons=polygons.astype(np.int32),
        parts=parts.astype(np.int32),
    )


def write_coast(path: Path, boundaries: list[MultiPolygon]) -> None:
    """Outlines simplified to 0.01° (~1 km) and cut into pieces of at most 32 vertices, with the
    index of the country each piece belongs to: the offshore nearest-country search reads these
    (``allweather.reference.countries``) instead of simplifying at every start.
    """
    pieces: list[object] = []
    owners: list[int] = []
    for index, boundary in enumerate(boundaries):
        coarse = shapely.simplify(boundary, 0.01, preserve_topology=True)
        for ring in shapely.get_rings(shapely.get_parts(coarse)):
            coords = shapely.get_coordinates(ring)
            for start in range(0, len(coords) - 1, 31):
                pieces.append(shapely.linestrings(coords[start : start + 32]))
                owners.append(index)
    _, coords, (offsets,) = shapely.to_ragged_array(pieces)
    grid = np.round(coords * 1e4).astype(np.int32)
    np.savez_compressed(
        path,
        deltas=np.diff(grid, axis=0, prepend=np.zeros((1, 2), dtype=np.int32)),
        offsets=offsets.astype(np.int32),
        owners=np.array(owners, dtype=np.int16),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    ne = args.shared / "data" / "natural_earth"

    rows = country_rows()
    add_natural_earth_aliases(rows, ne / "ne_50m_admin_0_countries.json")
    numeric_to_iso2 = {r["numeric"]: r["iso2"] for r in rows if r["numeric"]}
    OUT_DATA.mkdir(parents=True, exist_ok=True)
    with (OUT_DATA / "countries.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    topo = json.loads((ne / "world_atlas_npm_2.0.2" / "countries-10m.json").read_text())
    merged: dict[str, list[object]] = {}
    for props, geometry in decode_topology(topo):
        iso2 = numeric_to_iso2.get(props["id"]) if props["id"] else UNNUMBERED[props["name"]]
        if iso2 is None:
            continue
        merged.setdefault(iso2, []).append(geometry)
    codes = sorted(merged)
    boundaries = [
        _multipolygon(shapely.set_precision(shapely.union_all(merged[code]), 1e-4))
        for code in codes
    ]
    write_boundaries(OUT_DATA / "boundaries-10m.npz", codes, boundaries)
    write_coast(OUT_DATA / "coast-1km.npz", boundaries)

    basemap = []
    for feature in json.loads((ne / "ne_50m_admin_0_countries.json").read_text())["features"]:
        geometry = shapely.set_precision(shape(feature["geometry"]).simplify(0.02), 1e-3)
        if geometry.is_empty:
            continue
        basemap.append(
            {
                "type": "Feature",
                "properties": {"name": feature["properties"]["NAME"]},
                "geometry": mapping(geometry),
            }
        )
    OUT_BASEMAP.mkdir(parents=True, exist_ok=True)
    (OUT_BASEMAP / "countries.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": basemap}, separators=(",", ":"))
    )
    print(f"{len(rows)} countries, {len(codes)} boundaries, {len(basemap)} basemap shapes")


if __name__ == "__main__":
    main()
