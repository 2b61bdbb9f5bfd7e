"""The bundled country indicators: licence-clean, well-formed, and a sensible real baseline."""

import csv
import statistics
from collections import Counter
from importlib import resources

import pytest

from allweather.domain.scoring.baseline import (
    DESIGN,
    FALLBACK_MINIMUM,
    INDICATORS,
    all_baselines,
    fallback_baselines,
)
from allweather.domain.taxonomy import MofcomCategory
from allweather.reference.indicators import BUNDLED, load_indicators, parse_indicators

POLITICAL = MofcomCategory.POLITICAL
WGI = {"wgi.va", "wgi.pv", "wgi.ge", "wgi.rq", "wgi.rl", "wgi.cc"}
# Only these may ship (../shared/data/README.md): FSI, GCRI, CPI and the FCS list may not.
ALLOWED_SOURCES = {
    "wgi.": "World Bank WGI",
    "ndgain.": "ND-GAIN",
    "ne.": "Natural Earth",
}


@pytest.fixture(scope="module")
def values():
    return load_indicators()


@pytest.fixture(scope="module")
def baselines(values):
    return all_baselines(values)


def test_loaded_once(values):
    assert load_indicators() is values
    assert len(values) > 1500


def test_bundled_file_holds_only_licence_allowed_sources(values):
    for v in values:
        prefix = next((p for p in ALLOWED_SOURCES if v.indicator.startswith(p)), None)
        assert prefix is not None, v
        assert v.source.startswith(ALLOWED_SOURCES[prefix]), v
        for banned in ("FSI", "Fragile", "GCRI", "CPI", "Transparency", "FCS"):
            assert banned not in v.source, v
    # and nothing the design cannot use
    assert {v.indicator for v in values} == set(INDICATORS)


def test_bundled_file_is_small_and_one_row_per_country_and_indicator(values):
    size = len(resources.files("allweather.data").joinpath(BUNDLED).read_bytes())
    assert size < 300_000
    counts = Counter((v.country, v.indicator) for v in values)
    assert max(counts.values()) == 1


def test_every_country_is_in_the_catalog(values, catalog):
    assert {v.country for v in values} <= {c.iso2 for c in catalog}


def test_years_are_the_latest_published(values):
    years = {v.indicator: Counter() for v in values}
    for v in values:
        years[v.indicator][v.year] += 1
    for indicator in WGI:
        assert years[indicator].most_common(1)[0][0] == 2022
        assert max(years[indicator]) == 2022
    assert set(years["ndgain.gain"]) == {2014}
    assert years["ne.gdp_pc"].most_common(1)[0][0] == 2016


def test_values_are_in_their_published_ranges(values):
    for v in values:
        if v.indicator in WGI:
            assert -3.5 < v.value < 3.5, v
        elif v.indicator == "ndgain.gain":
            assert 0 < v.value < 100, v
        else:
            assert 100 < v.value < 500_000, v


def test_the_bundled_csv_matches_countries_csv_codes(values):
    text = resources.files("allweather.data").joinpath("countries.csv").read_text("utf-8")
    iso2 = {row["iso2"] for row in csv.DictReader(text.splitlines())}
    with_wgi = {v.country for v in values if v.indicator in WGI}
    assert len(with_wgi) >= 200
    assert with_wgi <= iso2


# --- Parsing ------------------------------------------------------------------------------

HEADER = "country,indicator,value,year,source\n"


def test_parse_a_good_file():
    [v] = parse_indicators(HEADER + "KE,wgi.pv,-1.08,2022,World Bank WGI\n")
    assert (v.country, v.indicator, v.value, v.year, v.source) == (
        "KE",
        "wgi.pv",
        -1.08,
        2022,
        "World Bank WGI",
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("KE,wgi.pv,high,2022,WGI", r"^test\.csv line 3: value: 'high' is not a number"),
        ("KE,wgi.pv,-1,22a,WGI", r"^test\.csv line 3: year: '22a' is not a whole number"),
        ("Kenya,wgi.pv,-1,2022,WGI", r"^test\.csv line 3: country: 'Kenya'"),
        ("KE,,-1,2022,WGI", r"^test\.csv line 3: indicator: ''"),
        ("KE,wgi.pv,nan,2022,WGI", r"^test\.csv line 3: value: nan is not a finite number"),
        ("KE,wgi.pv,-1,2022,", r"^test\.csv line 3: source: empty"),
        ("KE,wgi.pv,-1,2022", r"^test\.csv line 3: expected 5 fields"),
        ("KE,wgi.pv,-1,2022,WGI,extra", r"^test\.csv line 3: expected 5 fields"),
    ],
)
def test_a_bad_row_names_line_and_field(row, message):
    text = HEADER + "KE,wgi.va,0.5,2022,WGI\n" + row + "\n"
    with pytest.raises(ValueError, match=message):
        parse_indicators(text, "test.csv")


def test_a_bad_header_is_an_error():
    with pytest.raises(ValueError, match="line 1: columns"):
        parse_indicators("iso2,indicator,value,year,source\nKE,wgi.pv,-1,2022,WGI\n")


# --- The real baseline -----------------------------------------------------------------------


def test_fragile_states_score_far_above_stable_ones_in_political_risk(baselines):
    fragile = [baselines[c][POLITICAL].score for c in ("AF", "SY", "SO")]
    stable = [baselines[c][POLITICAL].score for c in ("NO", "CH")]
    assert min(fragile) > 8.0
    assert max(stable) < 3.0
    for category in MofcomCategory:
        assert baselines["AF"][category].score > baselines["NO"][category].score, category


def test_mid_risk_countries_sit_between(baselines):
    for country in ("KE", "PK"):
        score = baselines[country][POLITICAL].score
        assert baselines["NO"][POLITICAL].score < score < baselines["SO"][POLITICAL].score


def test_every_country_with_wgi_data_has_all_five_categories_observed(values, baselines):
    full_wgi = {
        c
        for c, n in Counter(v.country for v in values if v.indicator in WGI).items()
        if n == len(WGI)
    }
    assert len(full_wgi) >= 200
    for country in full_wgi:
        per = baselines[country]
        assert set(per) == set(MofcomCategory)
        for category, b in per.items():
            assert not b.imputed, (country, category)
            assert 0.0 <= b.score <= 10.0
            assert 0.0 < b.coverage <= 1.0
        # WGI alone covers political and policy fully; economic waits for Sinosure and
        # natural has no bundled hazard, so neither can reach full coverage.
        assert per[POLITICAL].coverage == pytest.approx(1.0)
        assert per[MofcomCategory.POLICY].coverage == pytest.approx(1.0)
        assert per[MofcomCategory.ECONOMIC].coverage <= 2 / 3 + 1e-9
        assert per[MofcomCategory.NATURAL].coverage <= 2 / 3 + 1e-9


def test_coverage_values_are_the_designed_shares(baselines):
    for per in baselines.values():
        for b in per.values():
            thirds = b.coverage * 3
            # every designed dimension here has one core input or two; shares are sixths
            assert abs(thirds * 2 - round(thirds * 2)) < 1e-9, b
            assert b.imputed == (b.coverage == 0.0)


def test_every_input_names_its_source_and_year(baselines):
    for per in baselines.values():
        for b in per.values():
            for i in b.inputs:
                assert i.source
                assert 1990 <= i.year <= 2030
                assert i.label.zh
                assert i.label.en
                assert 0.0 <= i.risk <= 10.0
                assert i.indicator in {s.indicator for s in DESIGN[b.category]}


def test_countries_without_data_fall_back_to_no_lower_than_the_median(baselines):
    fallback = fallback_baselines(baselines)
    for category, b in fallback.items():
        observed = [per[category].score for per in baselines.values() if not per[category].imputed]
        assert b.imputed
        assert b.coverage == 0.0
        assert b.score == pytest.approx(max(statistics.median(observed), FALLBACK_MINIMUM))
    # Western Sahara has a GDP figure but no governance data: political is imputed, not low.
    assert baselines["EH"][POLITICAL].imputed
    assert baselines["EH"][POLITICAL].score == fallback[POLITICAL].score
