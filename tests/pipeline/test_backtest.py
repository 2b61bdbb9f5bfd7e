"""The scoring backtest: its metrics against hand-computed values, the virtual Syria grid, and
a small real slice (UCDP GED Syria 2017 on a 0.5° grid) run end to end on SQLite."""

from __future__ import annotations

import csv
import gzip
import io
import math
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import shape

from allweather.domain.scoring.index import combine, pressure
from allweather.domain.scoring.method import ScoringMethod
from allweather.domain.taxonomy import MofcomCategory
from allweather.pipeline.backtest import (
    UCDP_SYRIA_FILE,
    Outcome,
    auc,
    backtest_ucdp_syria,
    brier,
    bundled_path,
    category_index,
    event_load,
    fit_logistic,
    month_end,
    month_starts,
    run_backtest,
    virtual_sites,
)

# ------------------------------------------------------------------ metrics


def test_auc_counts_the_pairs_a_positive_outranks():
    # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of the 4 pairs ordered right
    assert auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert auc([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1]) == 1.0
    assert auc([0.4, 0.3, 0.2, 0.1], [0, 0, 1, 1]) == 0.0


def test_auc_counts_a_tie_as_half_a_pair():
    # the positive ties two negatives (½ each) and beats one: (½ + ½ + 1) / 3 = 2/3;
    # ties counted as losses would give 1/3, as wins 1
    assert auc([1, 1, 1, 0], [1, 0, 0, 0]) == pytest.approx(2 / 3)
    assert auc([5, 5, 5, 5], [1, 0, 1, 0]) == 0.5
    # a 0/1 forecaster (persistence): positives x = 1, 0, 1 against negatives x = 1, 0:
    # (½ + 1) + (0 + ½) + (½ + 1) = 3.5 of 6 pairs
    assert auc([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]) == pytest.approx(3.5 / 6)


def test_auc_is_undefined_when_one_class_is_empty():
    assert auc([0.2, 0.9], [1, 1]) is None
    assert auc([0.2, 0.9], [0, 0]) is None
    assert auc([], []) is None


def test_auc_matches_the_pairwise_definition_on_tied_data():
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 4, 300).astype(float)  # many ties
    outcomes = rng.integers(0, 2, 300)
    pos, neg = scores[outcomes == 1], scores[outcomes == 0]
    pairwise = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()
    assert auc(scores, outcomes) == pytest.approx(pairwise, abs=1e-12)


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="2 values but 1 outcomes"):
        auc([0.1, 0.2], [1])
    with pytest.raises(ValueError, match="finite"):
        auc([0.1, float("nan")], [1, 0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        brier([0.5, 1.5], [1, 0])
    with pytest.raises(ValueError, match="no forecasts"):
        brier([], [])
    with pytest.raises(ValueError, match="0 or 1"):
        brier([0.5], [2])


def test_brier_is_the_mean_squared_error_of_the_probabilities():
    # (0.1² + 0.2² + 0.5²) / 3 = (0.01 + 0.04 + 0.25) / 3
    assert brier([0.9, 0.2, 0.5], [1, 0, 1]) == pytest.approx(0.1)
    assert brier([1.0, 0.0], [1, 0]) == 0.0
    assert brier([0.0, 1.0], [1, 0]) == 1.0


def test_logistic_on_a_binary_feature_returns_the_conditional_rates():
    # the model is saturated, so the unpenalised fit is P(y | x): 1/4 at x = 0, 3/4 at x = 1
    fit = fit_logistic([0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 0, 1, 1, 1], ridge=0.0)
    assert fit([0, 1]) == pytest.approx([0.25, 0.75], abs=1e-6)
    assert fit.intercept == pytest.approx(0.0, abs=1e-6)  # symmetric about the mean x = ½
    assert fit.slope == pytest.approx(math.log(9) * 0.5, abs=1e-6)  # logit 3/4 − logit 1/4 = ln 9


def test_logistic_stays_finite_on_separable_data():
    fit = fit_logistic([0, 1, 2, 3], [0, 0, 1, 1])
    assert math.isfinite(fit.slope)
    assert fit.slope > 0
    p = fit([0, 1, 1.5, 2, 3])
    assert np.all(np.diff(p) > 0)
    assert p[2] == pytest.approx(0.5, abs=1e-9)  # symmetric data: ½ at the centre
    assert 0 < p[0] < 0.5 < p[-1] < 1


def test_logistic_with_no_spread_or_one_class_gives_the_base_rate():
    assert fit_logistic([2, 2, 2, 2], [1, 0, 0, 0])([2, 7]) == pytest.approx([0.25, 0.25], abs=1e-5)
    p = fit_logistic([1, 2, 3], [0, 0, 0])([1, 3])
    assert np.all(p < 1e-3)


def test_logistic_recovers_a_known_relation():
    rng = np.random.default_rng(11)
    x = rng.normal(5.0, 2.0, 20_000)
    y = rng.random(20_000) < 1 / (1 + np.exp(-(-3.0 + 0.6 * x)))
    fit = fit_logistic(x, y)
    assert fit([0, 5, 10]) == pytest.approx(
        1 / (1 + np.exp(-(-3.0 + 0.6 * np.array([0, 5, 10])))), abs=0.02
    )


def test_event_load_undoes_the_saturation_of_the_index():
    method = ScoringMethod.default()  # saturation 1: S = 2 gives pressure 10·(1 − e⁻²)
    assert event_load(combine(0.0, pressure(method, 2.0 * method.saturation))) == pytest.approx(2.0)
    # with a baseline b the load is −ln(1 − b/10) + S
    index = combine(6.0, pressure(method, 1.5 * method.saturation))
    assert event_load(index) == pytest.approx(-math.log(0.4) + 1.5)
    assert np.isfinite(event_load(10.0))


# ------------------------------------------------------------------ months and the grid


def test_months_are_beijing_calendar_months():
    assert month_starts(date(2016, 11, 15), date(2017, 2, 1)) == [
        date(2016, 11, 1),
        date(2016, 12, 1),
        date(2017, 1, 1),
        date(2017, 2, 1),
    ]
    # 2017-01-31 24:00 Beijing = 16:00 UTC; the last instant of the month is a second before
    assert month_end(date(2017, 1, 1)) == int(datetime(2017, 1, 31, 16, tzinfo=UTC).timestamp()) - 1


def test_the_virtual_grid_lies_inside_syria_and_is_deterministic(catalog):
    grid = virtual_sites(catalog, "SY", 0.5)
    again = virtual_sites(catalog, "sy", 0.5)
    assert grid == again
    features = grid["features"]
    syria = catalog.boundary("SY")
    assert all(syria.contains(shape(f["geometry"])) for f in features)
    assert [f["properties"]["code"] for f in features] == [
        f"BT-SY-{n:04d}" for n in range(1, len(features) + 1)
    ]
    for f in features:
        lon, lat = f["geometry"]["coordinates"]
        assert (lon / 0.5 - 0.5) == pytest.approx(round(lon / 0.5 - 0.5))  # cell centres
        assert (lat / 0.5 - 0.5) == pytest.approx(round(lat / 0.5 - 0.5))
        assert f["properties"]["country"] == "SY"
    # Syria is ~185,000 km²; a 0.5° cell there is ~2,500 km²
    assert 55 <= len(features) <= 90
    finer = virtual_sites(catalog, "SY", 0.25)["features"]
    assert 3.4 <= len(finer) / len(features) <= 4.6


def test_the_virtual_grid_refuses_what_it_cannot_build(catalog):
    with pytest.raises(ValueError, match="no boundary"):
        virtual_sites(catalog, "XX", 0.5)
    with pytest.raises(ValueError, match="positive"):
        virtual_sites(catalog, "SY", 0)


# ------------------------------------------------------------------ a small real slice


def _ucdp_slice(target: Path, year: str) -> Path:
    """The bundled UCDP GED Syria rows whose event started in ``year``, in the same format."""
    text = gzip.decompress(bundled_path("replay", UCDP_SYRIA_FILE).read_bytes()).decode()
    header, *rows = list(csv.reader(io.StringIO(text)))
    start = header.index("date_start")
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(row for row in rows if row[start][:4] == year)
    return target


def test_ucdp_syria_2017_slice_ranks_projects_better_than_persistence(sqlite_platform, tmp_path):
    """Real UCDP GED 19.1 events of 2017 against a 0.5° virtual grid over Syria."""
    recording = _ucdp_slice(tmp_path / "ucdp-syria-2017.csv", "2017")
    first, last = date(2017, 1, 1), date(2017, 12, 1)
    result = backtest_ucdp_syria(
        sqlite_platform, 0.5, first, last, recording=recording, outcome=Outcome.LOCATED
    )
    assert result.projects == len(virtual_sites(sqlite_platform.catalog, "SY", 0.5)["features"])
    assert (result.train_months, result.test_months) == (5, 6)
    assert result.project_months == result.projects * 6
    assert 0 < result.positives < result.project_months
    # every virtual project shares Syria's baseline: the ranking is the event pressure's alone
    assert not result.baseline_varies
    assert result.auc_baseline == 0.5
    assert result.auc_pressure == result.auc_score
    # the question the backtest asks: the score ranks next month's events better than chance
    # and better than "what happened this month happens next month"
    assert result.auc_score is not None
    assert result.auc_persistence is not None
    assert result.auc_score > 0.5
    assert result.auc_score > result.auc_persistence
    assert result.auc_score_all is not None
    assert result.auc_score_all > 0.5
    # climatology forecasts the training rate t for all: Brier = b·(1 − t)² + (1 − b)·t²
    t, b = result.train_base_rate, result.base_rate
    assert result.brier_climatology == pytest.approx(b * (1 - t) ** 2 + (1 - b) * t**2)
    assert 0 <= result.brier_score <= 1

    # the same events, counting only those within half their reach (weight at least ½)
    near = run_backtest(
        sqlite_platform, MofcomCategory.POLITICAL, first, last, outcome=Outcome.NEAR
    )
    assert near.positives < result.positives
    assert near.auc_score is not None
    assert near.auc_persistence is not None
    assert near.auc_score > near.auc_persistence

    # events located only to the country reach every virtual project: with them counted the
    # outcome is the same for everyone and cannot rank anything
    every = run_backtest(
        sqlite_platform, MofcomCategory.POLITICAL, first, last, outcome=Outcome.ANY
    )
    assert every.base_rate == 1.0
    assert every.auc_score is None


def test_the_backtest_index_is_the_platforms_score(sqlite_platform, tmp_path):
    recording = _ucdp_slice(tmp_path / "ucdp-syria-2017.csv", "2017")
    backtest_ucdp_syria(
        sqlite_platform, 1.0, date(2017, 1, 1), date(2017, 3, 1), recording=recording
    )
    instant = month_end(date(2017, 6, 1))
    ours = category_index(sqlite_platform, MofcomCategory.POLITICAL, instant)
    sqlite_platform.scores.refresh(datetime.fromtimestamp(instant, UTC))
    platform = {
        r["project_id"]: r["computed_score"]
        for r in sqlite_platform.scores.current()
        if r["category"] == "political"
    }
    assert ours.keys() == platform.keys()
    assert len(set(ours.values())) > 1  # the events spread the scores
    for pid, score in ours.items():
        assert score == pytest.approx(platform[pid], abs=1e-9)


def test_the_backtest_needs_a_clock_after_its_data(sqlite_platform):
    with pytest.raises(ValueError, match="ALLWEATHER_NOW"):
        run_backtest(sqlite_platform, MofcomCategory.POLITICAL, date(2024, 6, 1), date(2024, 9, 1))
    with pytest.raises(ValueError, match="three months"):
        run_backtest(sqlite_platform, MofcomCategory.POLITICAL, date(2017, 1, 1), date(2017, 2, 1))
