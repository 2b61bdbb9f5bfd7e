"""Build the bundled country indicators for the risk-score baseline (dev-time only).

Reads, from ``../shared/data`` (never at run time):

- ``country_indicators/wb_wgi_WGIData_1996-2022.csv`` — World Bank Worldwide Governance
  Indicators (WGI), 1996–2022 (github.com/Iannehuenlabat/Data commit
  964c9f4b2ef5a577b22aef4bf596ea1461eb262d, WGIData.csv). Licence: CC BY 4.0, World Bank.
  The six ``*.EST`` series (estimates, about −2.5 … +2.5) are kept.
- ``country_indicators/ndgain_gain_1995-2014.csv`` — the ND-GAIN Country Index 1995–2014
  (github.com/jnpaulson/DataScienceFinalProject commit
  cd6e867fea26b6a3bb38847338c64f4b04e3dc73, gain.csv). Licence: free to use with attribution,
  University of Notre Dame Global Adaptation Initiative.
- ``natural_earth/ne_50m_admin_0_countries.json`` — Natural Earth 1:50m admin-0 countries
  (github.com/martynafford/natural-earth-geojson commit
  0b9a6ceb0a7032713abd9460ac1e995a9c60cd1e). Public domain. ``GDP_MD_EST`` (GDP, PPP, million
  US$, from the CIA World Factbook, year ``GDP_YEAR``) divided by ``POP_EST`` gives GDP per
  capita; the year kept is ``GDP_YEAR``.

The Fragile States Index, JRC GCRI, TI CPI and the World Bank FCS list in the same folder may
not be bundled (non-commercial or no-derivatives licences) and are not read.

Writes ``src/allweather/data/country-indicators.csv``: ``country,indicator,value,year,source``
(ISO 3166 alpha-2, indicator id, the value as published — WGI and ND-GAIN text copied
unchanged, GDP per capita rounded to whole dollars — the year of that value, a short source
citation), one row per country and indicator with the latest year that has a value.
Countries are mapped ISO3 → ISO2 through the bundled ``countries.csv``; economies that are not
ISO countries there (WGI's Netherlands Antilles) are left out.

Run: .venv/bin/python scripts/build_country_indicators.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "allweather" / "data" / "country-indicators.csv"
COUNTRIES = ROOT / "src" / "allweather" / "data" / "countries.csv"

WGI_SERIES = {
    "VA.EST": "wgi.va",
    "PV.EST": "wgi.pv",
    "GE.EST": "wgi.ge",
    "RQ.EST": "wgi.rq",
    "RL.EST": "wgi.rl",
    "CC.EST": "wgi.cc",
}
WGI_SOURCE = "World Bank WGI 1996-2022 (CC BY 4.0)"
NDGAIN_SOURCE = "ND-GAIN Country Index 1995-2014 (University of Notre Dame)"
# Natural Earth rows that are not an economy with residents.
NE_SKIP = {"ATA"}  # Antarctica: GDP_MD_EST over a few thousand research staff
NE_SOURCE = "Natural Earth 1:50m admin-0 GDP_MD_EST/POP_EST (CIA World Factbook; public domain)"


def _iso3_to_iso2() -> dict[str, str]:
    with COUNTRIES.open(encoding="utf-8", newline="") as fh:
        return {row["iso3"]: row["iso2"] for row in csv.DictReader(fh)}


def _latest(row: dict[str, str], years: list[str]) -> tuple[str, int] | None:
    """The value of the latest year that has one, as published (text), with that year."""
    for year in reversed(years):
        text = (row.get(year) or "").strip()
        if text and text != "..":
            float(text)  # a number, or the source changed format: stop here
            return text, int(year)
    return None


def wgi_rows(path: Path, iso2: dict[str, str]) -> list[tuple[str, str, str, int, str]]:
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        years = [name for name in reader.fieldnames or () if name.isdigit()]
        for row in reader:
            indicator = WGI_SERIES.get(row["Indicator Code"])
            country = iso2.get(row["Country Code"])
            latest = _latest(row, years)
            if indicator and country and latest:
                rows.append((country, indicator, latest[0], latest[1], WGI_SOURCE))
    return rows


def ndgain_rows(path: Path, iso2: dict[str, str]) -> list[tuple[str, str, str, int, str]]:
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        years = [name for name in reader.fieldnames or () if name.isdigit()]
        for row in reader:
            country = iso2.get(row["ISO3"])
            latest = _latest(row, years)
            if country and latest:
                rows.append((country, "ndgain.gain", latest[0], latest[1], NDGAIN_SOURCE))
    return rows


def natural_earth_rows(path: Path, iso2: dict[str, str]) -> list[tuple[str, str, str, int, str]]:
    rows = []
    seen: set[str] = set()
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        p = feature["properties"]
        # ISO_A3 is -99 for some countries (France, Norway); ADM0_A3 carries their code.
        iso3 = p["ISO_A3"] if p["ISO_A3"] in iso2 else p["ADM0_A3"]
        country = iso2.get(iso3)
        gdp, pop, year = p.get("GDP_MD_EST"), p.get("POP_EST"), p.get("GDP_YEAR")
        if iso3 in NE_SKIP or not country or country in seen or not gdp or not pop or not year:
            continue
        if gdp <= 0 or pop < 1000 or year < 1990:
            continue
        seen.add(country)
        per_capita = round(gdp * 1e6 / pop)  # US$ (PPP) a person; whole dollars
        rows.append((country, "ne.gdp_pc", str(per_capita), int(year), NE_SOURCE))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    data = args.shared / "data"
    iso2 = _iso3_to_iso2()
    rows = (
        wgi_rows(data / "country_indicators" / "wb_wgi_WGIData_1996-2022.csv", iso2)
        + ndgain_rows(data / "country_indicators" / "ndgain_gain_1995-2014.csv", iso2)
        + natural_earth_rows(data / "natural_earth" / "ne_50m_admin_0_countries.json", iso2)
    )
    rows.sort(key=lambda r: (r[0], r[1]))
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["country", "indicator", "value", "year", "source"])
        for country, indicator, value, year, source in rows:
            writer.writerow([country, indicator, value, year, source])
    countries = len({r[0] for r in rows})
    print(f"wrote {len(rows)} rows for {countries} countries to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
