"""风险指数 — event pressure, the 0–10 index, warning levels and the 5 × 5 matrix view.

Pure arithmetic over what the store hands in: per project and category, the country baseline
and the events reaching the project summed per fine type. docs/scoring.md states the formula;
``data/scoring.yaml`` holds every number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from allweather.domain.levels import RiskGrade, WarningLevel
from allweather.domain.scoring.baseline import CategoryBaseline
from allweather.domain.scoring.method import LN2, ScoringMethod
from allweather.domain.taxonomy import FineType, MofcomCategory, SeverityGrade

OVERALL = "overall"
OVERALL_EVENTS = 3  # the overall row repeats its driver category's top event types only
CATEGORIES: tuple[str, ...] = (*(c.value for c in MofcomCategory), OVERALL)


class Proximity(StrEnum):
    """How an exposure's distance turns into weight."""

    RADIUS = "radius"  # by distance within the reach radius
    COUNTRY = "country"  # a country-wide type: every site alike
    COUNTRY_PRECISION = "country_precision"  # located only to the country


def proximity_weight(
    method: ScoringMethod,
    kind: Proximity,
    distance_km: float | None,
    reach_km: float | None,
) -> float:
    """1 at the site, halving every ``half_reach`` of the radius; see scoring.yaml."""
    if kind is Proximity.COUNTRY:
        return 1.0
    if kind is Proximity.COUNTRY_PRECISION or distance_km is None or not reach_km:
        return method.country_precision
    return math.exp(-LN2 * distance_km / (reach_km * method.half_reach))


def contribution(
    method: ScoringMethod,
    fine_type: FineType,
    grade: SeverityGrade,
    weight: float,
    age_seconds: float,
) -> float:
    """One event's part of S at an instant ``age_seconds`` after it occurred (≥ 0)."""
    return (
        method.severity[grade]
        * weight
        * math.exp(-method.decay_per_second(fine_type) * age_seconds)
    )


def pressure(method: ScoringMethod, total: float) -> float:
    """Event pressure 0–10 from S: saturating, never above 10."""
    return 10.0 * (1.0 - math.exp(-max(total, 0.0) / method.saturation))


def combine(baseline: float, event_pressure: float) -> float:
    """The index: pressure lifts the baseline toward 10, never below it (probabilistic OR)."""
    return 10.0 - (10.0 - baseline) * (10.0 - event_pressure) / 10.0


def level_for(
    method: ScoringMethod, score: float, previous: WarningLevel | None = None
) -> WarningLevel:
    """The warning level of an index, with hysteresis against the previous level.

    Rising: the level whose threshold the score reaches. Falling: a level is kept until the
    score is ``hysteresis`` below its threshold.
    """
    plain = _plain_level(method, score)
    if previous is None or not previous.is_higher_than(plain):
        return plain
    held = _plain_level(method, score + method.levels.hysteresis)
    return held if not held.is_higher_than(previous) else previous


def _plain_level(method: ScoringMethod, score: float) -> WarningLevel:
    lv = method.levels
    if score >= lv.red:
        return WarningLevel.RED
    if score >= lv.orange:
        return WarningLevel.ORANGE
    if score >= lv.yellow:
        return WarningLevel.YELLOW
    return WarningLevel.BLUE


@dataclass(frozen=True)
class TypePressure:
    """The events of one fine type reaching a project, summed at the scoring instant."""

    fine_type: FineType
    total: float  # Σ contributions (units of S)
    events: int
    strongest_event: int  # event id
    strongest: float  # its contribution
    strongest_grade: SeverityGrade
    strongest_distance_km: float | None
    strongest_at: int  # epoch seconds


@dataclass(frozen=True)
class MatrixCell:
    """The 5 × 5 view: likelihood L, consequence S, R = L × S and its grade."""

    likelihood: int
    consequence: int
    risk: int
    grade: RiskGrade


def matrix_cell(
    method: ScoringMethod,
    score: float,
    strongest: Sequence[TypePressure],
    large_project: bool,
) -> MatrixCell:
    rules = method.matrix
    likelihood = 1 + sum(score >= cut for cut in rules.likelihood_from_index)
    grades = [
        rules.consequence_by_grade[t.strongest_grade]
        for t in strongest
        if t.strongest >= rules.consequence_min_contribution
    ]
    consequence = max(grades, default=1)
    if large_project:
        consequence = min(5, consequence + 1)
    risk = likelihood * consequence
    if risk >= rules.major:
        grade = RiskGrade.MAJOR
    elif risk >= rules.large:
        grade = RiskGrade.LARGE
    elif risk >= rules.general:
        grade = RiskGrade.GENERAL
    else:
        grade = RiskGrade.LOW
    return MatrixCell(likelihood, consequence, risk, grade)


@dataclass(frozen=True)
class CategoryScore:
    """The computed index of one project in one category (or ``overall``)."""

    category: str
    score: float
    level: WarningLevel
    baseline: float
    pressure: float
    cell: MatrixCell
    coverage: float
    confidence: str  # high, medium, low
    pressures: tuple[TypePressure, ...] = field(default=())  # largest first
    baseline_detail: CategoryBaseline | None = None
    driver: str | None = None  # overall: the category that set it

    def explanation(self) -> dict[str, object]:
        """What made the score, largest first: the JSON stored beside it. Compact (60,000 of
        these are written per full recompute): labels come from the fine type when shown, the
        indicator half lives once per country (``baseline_explanation``)."""
        out: dict[str, object] = {"baseline": self.baseline, "pressure": self.pressure}
        if self.driver is not None:
            out["driver"] = self.driver
        if self.baseline_detail is not None:
            out["coverage"] = self.baseline_detail.coverage
        shown = self.pressures if self.driver is None else self.pressures[:OVERALL_EVENTS]
        out["events"] = [
            {
                "fine_type": p.fine_type.value,
                "share": p.total,
                "events": p.events,
                "strongest_event": p.strongest_event,
                "strongest_contribution": p.strongest,
                "strongest_grade": p.strongest_grade.value,
                "strongest_distance_km": p.strongest_distance_km,
                "strongest_at": p.strongest_at,
            }
            for p in shown
        ]
        return out


def baseline_explanation(b: CategoryBaseline) -> dict[str, object]:
    """A country baseline's inputs, largest risk first: the indicator half of an explanation."""
    return {
        "coverage": round(b.coverage, 3),
        "imputed": b.imputed,
        "dimensions": {k: None if v is None else round(v, 3) for k, v in b.dimensions.items()},
        "inputs": [
            {
                "indicator": i.indicator,
                "label_zh": i.label.zh,
                "label_en": i.label.en,
                "dimension": i.dimension,
                "value": i.value,
                "risk": round(i.risk, 3),
                "year": i.year,
                "source": i.source,
            }
            for i in b.inputs
        ],
    }


def confidence_of(method: ScoringMethod, coverage: float) -> str:
    if coverage >= method.confidence_high:
        return "high"
    if coverage >= method.confidence_medium:
        return "medium"
    return "low"


def score_project(
    method: ScoringMethod,
    baselines: Mapping[MofcomCategory, CategoryBaseline],
    pressures: Mapping[MofcomCategory, Iterable[TypePressure]],
    previous: Mapping[str, WarningLevel] | None = None,
    large_project: bool = False,
) -> list[CategoryScore]:
    """Every category's score and the overall one (the worst category) for one project."""
    previous = previous or {}
    out: list[CategoryScore] = []
    for category in MofcomCategory:
        base = baselines[category]
        types = sorted(pressures.get(category, ()), key=lambda p: -p.total)
        event_pressure = pressure(method, sum(p.total for p in types))
        score = combine(base.score, event_pressure)
        out.append(
            CategoryScore(
                category=category.value,
                score=score,
                level=level_for(method, score, previous.get(category.value)),
                baseline=base.score,
                pressure=event_pressure,
                cell=matrix_cell(method, score, types, large_project),
                coverage=base.coverage,
                confidence=confidence_of(method, base.coverage),
                pressures=tuple(types),
                baseline_detail=base,
            )
        )
    worst = max(out, key=lambda s: (s.score, s.cell.risk))
    overall_coverage = min(s.coverage for s in out)
    out.append(
        CategoryScore(
            category=OVERALL,
            score=worst.score,
            level=level_for(method, worst.score, previous.get(OVERALL)),
            baseline=worst.baseline,
            pressure=worst.pressure,
            cell=max((s.cell for s in out), key=lambda c: (c.risk, c.likelihood)),
            coverage=overall_coverage,
            confidence=confidence_of(method, overall_coverage),
            pressures=worst.pressures,
            baseline_detail=worst.baseline_detail,
            driver=worst.category,
        )
    )
    return out
