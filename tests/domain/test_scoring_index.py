"""The scoring arithmetic: method file checks, pressure, index, hysteresis, 5 × 5 matrix."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allweather.domain.levels import RiskGrade, WarningLevel
from allweather.domain.scoring.baseline import CategoryBaseline
from allweather.domain.scoring.index import (
    OVERALL,
    Proximity,
    TypePressure,
    combine,
    contribution,
    level_for,
    matrix_cell,
    pressure,
    proximity_weight,
    score_project,
)
from allweather.domain.scoring.method import ScoringMethod, ScoringMethodError
from allweather.domain.taxonomy import FineType, MofcomCategory, SeverityGrade

METHOD = ScoringMethod.default()
scores = st.floats(min_value=0, max_value=10, allow_nan=False)


def test_bundled_method_has_a_half_life_for_every_fine_type():
    assert set(METHOD.half_life_days) == set(FineType)
    assert METHOD.label == f"aw-score/{METHOD.version}"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("earthquake: 21", "earthquake: -1", "half_life_days.earthquake"),
        ("  II: 0.55", "  II: 1.5", "severity.II"),
        ("  orange: 7.0", "  orange: 9.5", "levels"),
        ("saturation: 1.0", "saturation: lots", "saturation"),
        ("  other: 14\n", "  other: 14\n  hailstorm: 3\n", "half_life_days.hailstorm"),
    ],
)
def test_a_bad_method_file_names_the_field(old, new, field):
    text = METHOD.source_text
    assert old in text
    with pytest.raises(ScoringMethodError, match=field):
        ScoringMethod.from_yaml(text.replace(old, new, 1))


def test_a_replaced_method_carries_its_fingerprint_in_the_label():
    changed = ScoringMethod.from_yaml(METHOD.source_text.replace("flood: 14", "flood: 15"))
    assert changed.label.startswith(f"aw-score/{METHOD.version}+")
    assert changed.fingerprint() != METHOD.fingerprint()
    # Comments alone do not change the method.
    same = ScoringMethod.from_yaml(METHOD.source_text + "\n# a note\n")
    assert same.label == METHOD.label


def test_contribution_halves_every_half_life():
    h = METHOD.half_life_days[FineType.ARMED_CLASH] * 86400
    fresh = contribution(METHOD, FineType.ARMED_CLASH, SeverityGrade.II, 1.0, 0)
    assert fresh == pytest.approx(METHOD.severity[SeverityGrade.II])
    assert contribution(METHOD, FineType.ARMED_CLASH, SeverityGrade.II, 1.0, h) == pytest.approx(
        fresh / 2
    )
    assert contribution(
        METHOD, FineType.ARMED_CLASH, SeverityGrade.II, 1.0, 3 * h
    ) == pytest.approx(fresh / 8)


def test_proximity_is_one_at_the_site_a_quarter_at_the_rim():
    assert proximity_weight(METHOD, Proximity.RADIUS, 0.0, 50.0) == 1.0
    assert proximity_weight(METHOD, Proximity.RADIUS, 50.0, 50.0) == pytest.approx(0.25)
    assert proximity_weight(METHOD, Proximity.COUNTRY, None, None) == 1.0
    assert proximity_weight(METHOD, Proximity.COUNTRY_PRECISION, None, None) == 0.25


@given(st.lists(st.floats(min_value=0, max_value=50, allow_nan=False), max_size=30))
def test_pressure_saturates_and_grows_with_every_event(parts):
    total = sum(parts)
    p = pressure(METHOD, total)
    assert 0 <= p <= 10
    assert pressure(METHOD, total + 0.5) > p or p == pytest.approx(10)


def test_one_fresh_grade_one_event_at_the_site():
    assert pressure(METHOD, 1.0) == pytest.approx(10 * (1 - math.exp(-1)))


@given(scores, scores)
def test_the_index_never_falls_below_either_part(baseline, event_pressure):
    index = combine(baseline, event_pressure)
    assert max(baseline, event_pressure) - 1e-9 <= index <= 10 + 1e-9
    assert combine(baseline, 0.0) == pytest.approx(baseline)


def test_levels_rise_at_the_threshold_and_fall_only_below_the_margin():
    lv = METHOD.levels
    assert level_for(METHOD, lv.orange) is WarningLevel.ORANGE
    assert level_for(METHOD, lv.orange - 0.01) is WarningLevel.YELLOW
    # Held: just under the threshold, not yet the margin below it.
    held = lv.orange - lv.hysteresis / 2
    assert level_for(METHOD, held, WarningLevel.ORANGE) is WarningLevel.ORANGE
    assert level_for(METHOD, lv.orange - lv.hysteresis - 0.01, WarningLevel.ORANGE) is (
        WarningLevel.YELLOW
    )
    # A fall through several levels lands where the margin says, not one step at a time.
    assert level_for(METHOD, 0.5, WarningLevel.RED) is WarningLevel.BLUE
    # Rising ignores the previous level.
    assert level_for(METHOD, lv.red, WarningLevel.BLUE) is WarningLevel.RED


@given(scores, st.sampled_from(list(WarningLevel)))
def test_hysteresis_never_lifts_a_level_and_stays_within_the_margin(score, previous):
    held = level_for(METHOD, score, previous)
    plain = level_for(METHOD, score)
    assert not plain.is_higher_than(held)  # never lower than the plain level
    assert not held.is_higher_than(previous) or held == plain
    assert not held.is_higher_than(level_for(METHOD, score + METHOD.levels.hysteresis))


def _pressure(fine: FineType, grade: SeverityGrade, total: float) -> TypePressure:
    return TypePressure(fine, total, 1, 1, total, grade, 3.0, 0)


def test_matrix_cell_uses_index_for_likelihood_and_grade_for_consequence():
    cell = matrix_cell(METHOD, 8.5, [_pressure(FineType.FLOOD, SeverityGrade.II, 0.4)], False)
    assert (cell.likelihood, cell.consequence, cell.risk, cell.grade) == (
        5,
        4,
        20,
        RiskGrade.MAJOR,
    )
    quiet = matrix_cell(METHOD, 3.0, [], False)
    assert (quiet.likelihood, quiet.consequence, quiet.grade) == (2, 1, RiskGrade.LOW)
    assert matrix_cell(METHOD, 3.0, [], True).consequence == 2  # a large project
    faded = matrix_cell(METHOD, 5.0, [_pressure(FineType.FLOOD, SeverityGrade.I, 0.01)], False)
    assert faded.consequence == 1  # an event that no longer matters sets no consequence
    assert matrix_cell(METHOD, 5.0, [], False).grade is RiskGrade.LOW  # 3 × 1
    assert (
        matrix_cell(METHOD, 6.0, [_pressure(FineType.FLOOD, SeverityGrade.III, 1)], False).risk
        == 12
    )


def _baseline(category: MofcomCategory, score: float) -> CategoryBaseline:
    return CategoryBaseline(category, score, 1.0, {}, (), False)


def test_score_project_sorts_contributors_and_takes_the_worst_category_overall():
    baselines = {c: _baseline(c, 4.0) for c in MofcomCategory}
    baselines[MofcomCategory.POLICY] = _baseline(MofcomCategory.POLICY, 6.0)
    pressures = {
        MofcomCategory.POLITICAL: [
            _pressure(FineType.PROTEST, SeverityGrade.IV, 0.1),
            _pressure(FineType.BATTLE, SeverityGrade.I, 0.9),
        ]
    }
    out = {s.category: s for s in score_project(METHOD, baselines, pressures)}
    political = out["political"]
    assert [p.fine_type for p in political.pressures] == [FineType.BATTLE, FineType.PROTEST]
    assert political.pressure == pytest.approx(pressure(METHOD, 1.0))
    assert political.score == pytest.approx(combine(4.0, pressure(METHOD, 1.0)))
    assert out["economic"].score == pytest.approx(4.0)
    assert out[OVERALL].driver == "political"
    assert out[OVERALL].score == pytest.approx(political.score)
    events = political.explanation()["events"]
    assert [e["fine_type"] for e in events] == ["battle", "protest"]
