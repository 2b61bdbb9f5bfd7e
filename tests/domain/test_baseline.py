"""The country baseline: goalposts, INFORM-style aggregation, coverage, fallback, ratings."""

import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allweather.domain.scoring.baseline import (
    BASELINE_VERSION,
    DESIGN,
    DIMENSION_FLOOR,
    DIMENSIONS,
    FALLBACK_MINIMUM,
    GDP_PC_GOALPOSTS,
    NDGAIN_GOALPOSTS,
    WGI_GOALPOSTS,
    CountryRating,
    IndicatorValue,
    RatingScale,
    all_baselines,
    country_baseline,
    fallback_baseline,
    fallback_baselines,
    geometric_mean,
    input_label,
    parse_rating,
    rating_risk,
)
from allweather.domain.taxonomy import MofcomCategory

POLITICAL, ECONOMIC, POLICY, NATURAL, OTHER = (
    MofcomCategory.POLITICAL,
    MofcomCategory.ECONOMIC,
    MofcomCategory.POLICY,
    MofcomCategory.NATURAL,
    MofcomCategory.OTHER,
)
WGI = ("wgi.va", "wgi.pv", "wgi.ge", "wgi.rq", "wgi.rl", "wgi.cc")


def wgi_risk(estimate: float) -> float:
    return (2.5 - estimate) / 5 * 10


def values_for(country: str, **estimates: float) -> list[IndicatorValue]:
    """IndicatorValues from keyword ids with '_' for '.', e.g. wgi_pv=-1.0, ne_gdp_pc=2000."""
    out = []
    for key, value in estimates.items():
        indicator = key.replace("_", ".", 1)
        source = {"wgi": "WGI", "ndgain": "ND-GAIN", "ne": "Natural Earth"}[indicator.split(".")[0]]
        out.append(IndicatorValue(country, indicator, value, 2022, source))
    return out


def full(country: str, estimate: float, gain: float = 50.0, gdp: float = 5000.0):
    return values_for(
        country, **{w.replace(".", "_"): estimate for w in WGI}, ndgain_gain=gain, ne_gdp_pc=gdp
    )


# --- Goalposts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goalposts", "value", "risk"),
    [
        (WGI_GOALPOSTS, -2.5, 10.0),
        (WGI_GOALPOSTS, 2.5, 0.0),
        (WGI_GOALPOSTS, 0.0, 5.0),
        (WGI_GOALPOSTS, -1.0, 7.0),
        (WGI_GOALPOSTS, -3.1, 10.0),  # clipped
        (WGI_GOALPOSTS, 2.9, 0.0),
        (NDGAIN_GOALPOSTS, 20.0, 10.0),
        (NDGAIN_GOALPOSTS, 90.0, 0.0),
        (NDGAIN_GOALPOSTS, 55.0, 5.0),
        (NDGAIN_GOALPOSTS, 10.0, 10.0),
        (GDP_PC_GOALPOSTS, 500.0, 10.0),
        (GDP_PC_GOALPOSTS, 100_000.0, 0.0),
        (GDP_PC_GOALPOSTS, math.sqrt(500 * 100_000), 5.0),  # log scale: the geometric midpoint
        (GDP_PC_GOALPOSTS, 250_000.0, 0.0),
        (GDP_PC_GOALPOSTS, 100.0, 10.0),
    ],
)
def test_goalposts_map_worst_to_10_and_best_to_0(goalposts, value, risk):
    assert goalposts.risk(value) == pytest.approx(risk)


def test_a_wgi_input_carries_its_raw_value_normalised_risk_source_and_year():
    [pv] = [
        i
        for i in country_baseline("KE", values_for("KE", wgi_pv=-1.0))[POLITICAL].inputs
        if i.indicator == "wgi.pv"
    ]
    assert (pv.value, pv.risk, pv.year, pv.source, pv.dimension) == (
        -1.0,
        7.0,
        2022,
        "WGI",
        "hazard",
    )
    assert pv.label.zh == "政治稳定与无暴力"
    assert pv.label.en == "Political stability and absence of violence"


# --- Aggregation -------------------------------------------------------------------------


def test_geometric_mean():
    assert geometric_mean([2.0, 8.0]) == pytest.approx(4.0)
    assert geometric_mean([1.0, 3.0, 9.0]) == pytest.approx(3.0)
    assert geometric_mean([6.0]) == pytest.approx(6.0)
    assert geometric_mean([0.0, 10.0]) == pytest.approx(math.sqrt(DIMENSION_FLOOR * 10))


def test_category_score_is_the_geometric_mean_of_dimension_means():
    values = values_for("KE", wgi_pv=-1.5, wgi_va=0.5, wgi_ge=-0.5, wgi_rl=1.5)
    b = country_baseline("KE", values)[POLITICAL]
    hazard, vulnerability = wgi_risk(-1.5), wgi_risk(0.5)
    coping = (wgi_risk(-0.5) + wgi_risk(1.5)) / 2
    assert dict(b.dimensions) == pytest.approx(
        {"hazard": hazard, "vulnerability": vulnerability, "coping": coping}
    )
    assert b.score == pytest.approx((hazard * vulnerability * coping) ** (1 / 3))
    assert b.coverage == pytest.approx(1.0)
    assert not b.imputed


def test_geometric_mean_is_not_the_arithmetic_mean():
    # One very high dimension pulls the score up less than an average would.
    b = country_baseline("KE", values_for("KE", wgi_pv=-2.5, wgi_va=2.0, wgi_ge=2.0, wgi_rl=2.0))
    dims = list(b[POLITICAL].dimensions.values())
    assert b[POLITICAL].score == pytest.approx(geometric_mean(dims))
    assert b[POLITICAL].score < sum(dims) / 3


def test_inputs_are_listed_largest_risk_first():
    b = country_baseline("KE", values_for("KE", wgi_pv=1.0, wgi_va=-2.0, wgi_ge=0.0, wgi_rl=-1.0))
    risks = [i.risk for i in b[POLITICAL].inputs]
    assert risks == sorted(risks, reverse=True)
    assert [i.indicator for i in b[POLITICAL].inputs] == ["wgi.va", "wgi.rl", "wgi.ge", "wgi.pv"]


def test_the_latest_year_of_an_indicator_wins():
    values = [
        IndicatorValue("KE", "wgi.pv", -2.0, 2022, "WGI"),
        IndicatorValue("KE", "wgi.pv", 1.0, 2015, "WGI"),
    ]
    [pv] = country_baseline("KE", values)[POLITICAL].inputs
    assert (pv.value, pv.year) == (-2.0, 2022)


def test_indicators_outside_the_design_are_ignored():
    values = values_for("KE", wgi_pv=-1.0) + [IndicatorValue("KE", "fsi.total", 90, 2023, "FSI")]
    b = country_baseline("KE", values)
    assert all(i.indicator != "fsi.total" for c in b.values() for i in c.inputs)


# --- Missing data lowers coverage, never the risk -----------------------------------------


def test_a_missing_dimension_is_left_out_and_lowers_coverage():
    complete = values_for("KE", wgi_pv=-1.5, wgi_va=-1.5, wgi_ge=-1.5, wgi_rl=-1.5)
    without_va = [v for v in complete if v.indicator != "wgi.va"]
    b = country_baseline("KE", without_va)[POLITICAL]
    assert b.dimensions["vulnerability"] is None
    assert b.coverage == pytest.approx(2 / 3)
    # Counted as 0 (or floored) the score would collapse; left out, it is unchanged here.
    assert b.score == pytest.approx(country_baseline("KE", complete)[POLITICAL].score)
    assert b.score == pytest.approx(wgi_risk(-1.5))


def test_a_missing_input_within_a_dimension_lowers_coverage_by_its_share():
    values = values_for("KE", wgi_pv=0.0, wgi_va=0.0, wgi_ge=0.0)  # wgi.rl missing
    b = country_baseline("KE", values)[POLITICAL]
    assert b.coverage == pytest.approx(1 - 1 / 6)  # coping is a third, rl half of it
    assert b.dimensions["coping"] == pytest.approx(5.0)


political_estimates = st.fixed_dictionaries(
    {w: st.floats(-2.5, 2.5, allow_nan=False) for w in ("wgi.pv", "wgi.va", "wgi.ge", "wgi.rl")}
)


@settings(max_examples=300, deadline=None)
@given(political_estimates, st.sampled_from(["wgi.pv", "wgi.va", "wgi.ge", "wgi.rl"]))
def test_removing_a_low_risk_input_never_lowers_the_score(estimates, drop):
    """Invariant: missing data is left out, not counted as low. Dropping an input that was no
    riskier than what stands in for it — the mean of its dimension when the dimension keeps
    other inputs, the category score when it was the dimension's only input — can only raise
    the score or keep it; and dropping any input lowers coverage."""
    values = [IndicatorValue("KE", k, v, 2022, "WGI") for k, v in estimates.items()]
    before = country_baseline("KE", values)[POLITICAL]
    dropped = next(i for i in before.inputs if i.indicator == drop)
    after = country_baseline("KE", [v for v in values if v.indicator != drop])[POLITICAL]
    assert after.coverage < before.coverage
    siblings = [i for i in before.inputs if i.dimension == dropped.dimension and i != dropped]
    if siblings:
        low = dropped.risk <= before.dimensions[dropped.dimension] + 1e-12
    else:
        assert after.dimensions[dropped.dimension] is None
        low = max(dropped.risk, DIMENSION_FLOOR) <= before.score + 1e-12
    if low:
        assert after.score >= before.score - 1e-9
    else:
        assert after.score <= before.score + 1e-9  # and a riskier one leaving lowers it


@settings(max_examples=300, deadline=None)
@given(
    political_estimates,
    st.sets(st.sampled_from(["wgi.pv", "wgi.va", "wgi.ge", "wgi.rl"]), min_size=1, max_size=4),
)
def test_score_stays_between_the_dimensions_that_have_data(estimates, keep):
    """A missing dimension is never counted as 0: the score lies between the smallest and the
    largest dimension that has data."""
    values = [IndicatorValue("KE", k, v, 2022, "WGI") for k, v in estimates.items() if k in keep]
    b = country_baseline("KE", values)[POLITICAL]
    present = [d for d in b.dimensions.values() if d is not None]
    floored = [max(d, DIMENSION_FLOOR) for d in present]
    assert min(floored) - 1e-9 <= b.score <= max(floored) + 1e-9
    assert 0 < b.coverage <= 1


def test_natural_hazard_has_no_bundled_input_and_coverage_shows_it():
    assert all(s.dimension != "hazard" for s in DESIGN[NATURAL])
    b = country_baseline("KE", full("KE", 0.0))[NATURAL]
    assert b.dimensions["hazard"] is None
    assert b.coverage == pytest.approx(2 / 3)


def test_economic_hazard_needs_a_sinosure_rating():
    b = country_baseline("KE", full("KE", 0.0))[ECONOMIC]
    assert b.dimensions["hazard"] is None
    assert b.coverage == pytest.approx(2 / 3)


def test_every_dimension_with_inputs_has_a_core_input_and_every_input_a_label():
    for category, design in DESIGN.items():
        for dimension in DIMENSIONS:
            specs = [s for s in design if s.dimension == dimension]
            assert not specs or any(not s.supplementary for s in specs), (category, dimension)
        for spec in design:
            assert spec.dimension in DIMENSIONS
            label = input_label(spec.indicator)
            assert label.zh
            assert label.en
    assert set(DESIGN) == set(MofcomCategory)


# --- Fallback: no data is not low risk -----------------------------------------------------


def test_fallback_is_the_median_flagged_imputed_with_no_coverage():
    b = fallback_baseline(POLITICAL, [6.0, 7.0, 9.0])
    assert (b.score, b.coverage, b.imputed, b.inputs) == (7.0, 0.0, True, ())
    assert all(v is None for v in b.dimensions.values())


def test_fallback_is_never_low():
    assert fallback_baseline(POLITICAL, [0.5, 1.0, 2.0]).score == FALLBACK_MINIMUM
    assert fallback_baseline(POLITICAL, []).score == FALLBACK_MINIMUM
    assert FALLBACK_MINIMUM >= 5.0


def test_a_category_without_data_gets_the_fallback_of_the_other_countries():
    values = full("NO", 2.0) + full("CH", 1.8) + full("SO", -2.3) + full("AF", -2.0)
    values += values_for("XK", ne_gdp_pc=9000)  # only an economic input
    result = all_baselines(values)
    known = sorted(result[c][POLITICAL].score for c in ("NO", "CH", "SO", "AF"))
    kosovo = result["XK"]
    assert kosovo[POLITICAL].imputed
    assert kosovo[POLITICAL].coverage == 0.0
    assert kosovo[POLITICAL].score == pytest.approx(
        max(FALLBACK_MINIMUM, (known[1] + known[2]) / 2)
    )
    assert kosovo[POLITICAL].score > min(known)
    assert not kosovo[ECONOMIC].imputed
    assert kosovo[ECONOMIC].coverage == pytest.approx(1 / 3)
    # country_baseline over the same values agrees with all_baselines.
    assert country_baseline("XK", values) == kosovo
    # A country absent from every input: all five categories imputed, none low.
    unknown = country_baseline("ZZ", values)
    assert all(b.imputed and b.score >= FALLBACK_MINIMUM for b in unknown.values())
    assert fallback_baselines(result) == unknown
    assert country_baseline("ZZ", [], fallback=fallback_baselines(result)) == unknown


def test_all_baselines_covers_every_country_with_a_value_or_a_rating():
    rating = CountryRating("YE", RatingScale.MFA_TRAVEL, "red", "MFA", date(2024, 1, 1))
    result = all_baselines(full("NO", 2.0) + full("KE", -0.5), [rating])
    assert set(result) == {"NO", "KE", "YE"}
    assert all(set(per) == set(MofcomCategory) for per in result.values())
    assert result["YE"][POLITICAL].score == pytest.approx(10.0)
    assert result["YE"][OTHER].score == pytest.approx(10.0)
    assert result["YE"][NATURAL].imputed


# --- Ratings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "value", "parsed"),
    [
        ("mfa_travel", "red", (RatingScale.MFA_TRAVEL, "red")),
        ("MFA", " Orange ", (RatingScale.MFA_TRAVEL, "orange")),
        ("mfa_travel", "黄色", (RatingScale.MFA_TRAVEL, "yellow")),
        ("外交部", "蓝", (RatingScale.MFA_TRAVEL, "blue")),
        ("mfa_travel", "极高", (RatingScale.MFA_TRAVEL, "red")),
        ("sinosure", "1", (RatingScale.SINOSURE, "1")),
        ("Sinosure", " 9 ", (RatingScale.SINOSURE, "9")),
        ("中国信保", "05", (RatingScale.SINOSURE, "5")),
    ],
)
def test_parse_rating_accepts_codes_and_chinese(scale, value, parsed):
    assert parse_rating(scale, value) == parsed


@pytest.mark.parametrize(
    ("scale", "value", "message"),
    [
        ("moodys", "Baa1", "^scale: 'moodys' is not a rating scale"),
        ("mfa_travel", "purple", "^value: 'purple' is not an MFA travel level"),
        ("sinosure", "0", "^value: '0' is not a Sinosure rating"),
        ("sinosure", "10", "^value: '10' is not a Sinosure rating"),
        ("sinosure", "4.5", "^value: '4.5' is not a Sinosure rating"),
        ("sinosure", "red", "^value: 'red' is not a Sinosure rating"),
    ],
)
def test_parse_rating_errors_name_the_field(scale, value, message):
    with pytest.raises(ValueError, match=message):
        parse_rating(scale, value)


def test_rating_risk():
    assert [
        rating_risk(RatingScale.MFA_TRAVEL, v) for v in ("red", "orange", "yellow", "blue")
    ] == [
        10.0,
        7.5,
        5.0,
        2.5,
    ]
    assert [rating_risk(RatingScale.SINOSURE, str(v)) for v in (1, 5, 9)] == [0.0, 5.0, 10.0]


def test_country_rating_normalises_and_validates_each_field():
    r = CountryRating("ke", "mfa", "红色", " 中国领事服务网 ", date(2024, 5, 1))  # type: ignore[arg-type]
    assert (r.country, r.scale, r.value, r.source) == (
        "KE",
        RatingScale.MFA_TRAVEL,
        "red",
        "中国领事服务网",
    )
    with pytest.raises(ValueError, match="^country:"):
        CountryRating("Kenya", RatingScale.SINOSURE, "5", "Sinosure", date(2024, 1, 1))
    with pytest.raises(ValueError, match="^value:"):
        CountryRating("KE", RatingScale.SINOSURE, "A", "Sinosure", date(2024, 1, 1))
    with pytest.raises(ValueError, match="^source:"):
        CountryRating("KE", RatingScale.SINOSURE, "5", "  ", date(2024, 1, 1))
    with pytest.raises(ValueError, match="^as_of:"):
        CountryRating("KE", RatingScale.SINOSURE, "5", "Sinosure", "2024-01-01")  # type: ignore[arg-type]


def test_a_high_sinosure_rating_raises_economic_and_policy_only():
    values = full("KE", -0.5, gdp=4000)
    rating = CountryRating("KE", RatingScale.SINOSURE, "8", "中国信保 2024", date(2024, 3, 1))
    before = country_baseline("KE", values)
    after = country_baseline("KE", values, [rating])
    assert after[ECONOMIC].score > before[ECONOMIC].score
    assert after[ECONOMIC].dimensions["hazard"] == pytest.approx(
        rating_risk(RatingScale.SINOSURE, "8")
    )
    assert after[ECONOMIC].coverage == pytest.approx(1.0)
    assert after[POLICY].score > before[POLICY].score
    assert after[POLICY].coverage == before[POLICY].coverage == pytest.approx(1.0)
    for category in (POLITICAL, NATURAL, OTHER):
        assert after[category] == before[category]
    [entered] = [i for i in after[ECONOMIC].inputs if i.indicator == "rating.sinosure"]
    assert (entered.value, entered.year, entered.source) == ("8", 2024, "中国信保 2024")
    assert entered.label.zh == "中国信保国家风险参考评级"


def test_a_red_travel_level_raises_political_and_other():
    values = full("KE", 0.5)
    red = CountryRating("KE", RatingScale.MFA_TRAVEL, "red", "外交部", date(2024, 6, 1))
    before = country_baseline("KE", values)
    after = country_baseline("KE", values, [red])
    assert after[POLITICAL].score > before[POLITICAL].score
    assert after[POLITICAL].dimensions["hazard"] == pytest.approx((wgi_risk(0.5) + 10) / 2)
    assert after[OTHER].score > before[OTHER].score
    assert before[OTHER].coverage == pytest.approx(2 / 3)
    assert after[OTHER].coverage == pytest.approx(1.0)
    for category in (ECONOMIC, POLICY, NATURAL):
        assert after[category] == before[category]


def test_the_newest_rating_of_a_scale_supersedes_older_ones():
    old = CountryRating("KE", RatingScale.MFA_TRAVEL, "blue", "外交部", date(2022, 1, 1))
    new = CountryRating("KE", RatingScale.MFA_TRAVEL, "orange", "外交部", date(2024, 1, 1))
    for order in ([old, new], [new, old]):
        [hazard] = [
            i
            for i in country_baseline("KE", [], order)[POLITICAL].inputs
            if i.dimension == "hazard"
        ]
        assert (hazard.value, hazard.year, hazard.risk) == ("orange", 2024, 7.5)


# --- Values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"country": "KEN"}, "^country:"),
        ({"indicator": "WGI PV"}, "^indicator:"),
        ({"value": float("nan")}, "^value:"),
        ({"year": 1800}, "^year:"),
        ({"source": ""}, "^source:"),
    ],
)
def test_indicator_value_validates_each_field(kwargs, message):
    fields = {"country": "KE", "indicator": "wgi.pv", "value": 0.1, "year": 2022, "source": "WGI"}
    with pytest.raises(ValueError, match=message):
        IndicatorValue(**(fields | kwargs))


def test_version_is_named():
    assert BASELINE_VERSION.startswith("baseline-")
