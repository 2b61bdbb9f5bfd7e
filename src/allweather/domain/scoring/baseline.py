"""国别基线风险 — the country baseline of the risk score: 0–10 per country and MOFCOM category.

The baseline is what a country is like before any event happens: built from published
indicators (World Bank WGI, ND-GAIN, Natural Earth GDP per capita; bundled in
``data/country-indicators.csv``) and from ratings an administrator enters (the MFA four-colour
travel level, the Sinosure 1–9 country rating). It is aggregated the way the INFORM Risk Index
is (docs/scoring-baseline.md):

1. every input is normalised to 0–10 (10 = riskiest) between fixed goalposts, clipped;
2. each MOFCOM category has three dimensions — hazard & exposure (危险与暴露), vulnerability
   (脆弱性), lack of coping capacity (应对能力不足); a dimension is the mean of its inputs that
   have data;
3. the category score is the geometric mean of the dimensions that have data (each counted no
   lower than ``DIMENSION_FLOOR``). A dimension without data is left out — never counted as 0 —
   and lowers ``coverage`` instead: missing data lowers confidence, never silently the risk;
4. a category with no input at all gets the fallback: the median of all scored countries and
   never below the middle of the scale, flagged ``imputed`` with coverage 0.

Pure computation: no I/O. The bundled values are loaded by ``allweather.reference.indicators``.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from allweather.domain.labels import Label
from allweather.domain.taxonomy import MofcomCategory

BASELINE_VERSION = "baseline-1"

HAZARD = "hazard"
VULNERABILITY = "vulnerability"
COPING = "coping"
DIMENSIONS = (HAZARD, VULNERABILITY, COPING)
DIMENSION_LABELS: Mapping[str, Label] = {
    HAZARD: Label("危险与暴露", "Hazard and exposure"),
    VULNERABILITY: Label("脆弱性", "Vulnerability"),
    COPING: Label("应对能力不足", "Lack of coping capacity"),
}

# A dimension enters the geometric mean no lower than this, so one clipped indicator (a very
# rich or very well governed country) cannot pull the whole category to exactly 0.
DIMENSION_FLOOR = 0.1
# A category with no data at all is never scored below the middle of the scale.
FALLBACK_MINIMUM = 5.0

_ISO2 = re.compile(r"[A-Z]{2}")
_INDICATOR_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: object) -> bool:
    return isinstance(value, date)


# --- Inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorValue:
    """One published indicator value for one country, with its year and source."""

    country: str  # ISO 3166 alpha-2
    indicator: str  # e.g. "wgi.pv"
    value: float  # as published
    year: int
    source: str

    def __post_init__(self) -> None:
        if not isinstance(self.country, str) or not _ISO2.fullmatch(self.country):
            raise ValueError(f"country: {self.country!r} is not an ISO 3166 alpha-2 code (KE)")
        if not isinstance(self.indicator, str) or not _INDICATOR_ID.fullmatch(self.indicator):
            raise ValueError(f"indicator: {self.indicator!r} is not an indicator id (wgi.pv)")
        if not _is_number(self.value) or not math.isfinite(self.value):
            raise ValueError(f"value: {self.value!r} is not a finite number")
        if not _is_whole(self.year) or not 1900 <= self.year <= 2100:
            raise ValueError(f"year: {self.year!r} is not a year in 1900–2100")
        if not isinstance(self.source, str) or not self.source.strip():
            raise ValueError("source: empty; every value needs its source")


class RatingScale(StrEnum):
    """Country ratings our users know, entered by an administrator with source and date."""

    MFA_TRAVEL = "mfa_travel"  # 外交部旅行安全风险等级: red/orange/yellow/blue (极高/高/中/低)
    SINOSURE = "sinosure"  # 中国信保国家风险参考评级 1–9, 1 = lowest risk

    @property
    def label(self) -> Label:
        return _RATING_LABELS[self]

    @property
    def indicator(self) -> str:
        """The input id a rating of this scale has in a baseline (``rating.sinosure``)."""
        return f"rating.{self.value}"


_RATING_LABELS = {
    RatingScale.MFA_TRAVEL: Label("外交部旅行安全风险等级", "MFA travel safety risk level"),
    RatingScale.SINOSURE: Label("中国信保国家风险参考评级", "Sinosure country risk rating"),
}

# MFA travel level → risk: red 极高 10, orange 高 7.5, yellow 中 5, blue 低 2.5.
MFA_TRAVEL_RISK: Mapping[str, float] = {"red": 10.0, "orange": 7.5, "yellow": 5.0, "blue": 2.5}
_MFA_ALIASES = {
    "red": "red", "红": "red", "红色": "red", "极高": "red", "极高风险": "red",
    "orange": "orange", "橙": "orange", "橙色": "orange", "高": "orange", "高风险": "orange",
    "yellow": "yellow", "黄": "yellow", "黄色": "yellow", "中": "yellow", "中风险": "yellow",
    "blue": "blue", "蓝": "blue", "蓝色": "blue", "低": "blue", "低风险": "blue",
}  # fmt: skip
_SCALE_ALIASES = {
    "mfa_travel": RatingScale.MFA_TRAVEL,
    "mfa": RatingScale.MFA_TRAVEL,
    "外交部": RatingScale.MFA_TRAVEL,
    "sinosure": RatingScale.SINOSURE,
    "中国信保": RatingScale.SINOSURE,
}


def parse_rating(scale: str, value: str) -> tuple[RatingScale, str]:
    """Validate a rating as typed: the scale and its canonical value.

    MFA travel levels: ``red``, ``orange``, ``yellow``, ``blue`` (also 红/橙/黄/蓝, 红色 …,
    极高/高/中/低); Sinosure: ``1`` … ``9``. Scales: ``mfa_travel`` (``mfa``) and ``sinosure``.

    Raises:
        ValueError: naming the field (``scale`` or ``value``) and what is accepted.
    """
    key = str(scale).strip().lower().replace("-", "_")
    parsed = _SCALE_ALIASES.get(key)
    if parsed is None:
        raise ValueError(f"scale: {scale!r} is not a rating scale; use mfa_travel or sinosure")
    text = str(value).strip().lower()
    if parsed is RatingScale.MFA_TRAVEL:
        level = _MFA_ALIASES.get(text)
        if level is None:
            raise ValueError(
                f"value: {value!r} is not an MFA travel level; "
                "use red, orange, yellow or blue (红/橙/黄/蓝)"
            )
        return parsed, level
    if text.isascii() and text.isdigit() and 1 <= int(text) <= 9:
        return parsed, str(int(text))
    raise ValueError(f"value: {value!r} is not a Sinosure rating; use a whole number 1 to 9")


def rating_risk(scale: RatingScale, value: str) -> float:
    """A rating on the 0–10 risk scale: MFA red/orange/yellow/blue → 10/7.5/5/2.5; Sinosure
    1–9 → (v − 1) / 8 × 10."""
    scale, value = parse_rating(scale, value)
    if scale is RatingScale.MFA_TRAVEL:
        return MFA_TRAVEL_RISK[value]
    return (int(value) - 1) / 8 * 10


@dataclass(frozen=True)
class CountryRating:
    """A rating entered by an administrator, with its source and the date it was issued.

    ``scale`` and ``value`` are normalised on creation (``"红色"`` → ``"red"``); a bad field
    raises ``ValueError`` naming it.
    """

    country: str  # ISO2
    scale: RatingScale
    value: str  # "red" … "blue" or "1" … "9"
    source: str
    as_of: date

    def __post_init__(self) -> None:
        country = self.country.strip().upper() if isinstance(self.country, str) else None
        if country is None or not _ISO2.fullmatch(country):
            raise ValueError(f"country: {self.country!r} is not an ISO 3166 alpha-2 code (KE)")
        scale, value = parse_rating(self.scale, self.value)
        if not isinstance(self.source, str) or not self.source.strip():
            raise ValueError("source: empty; say where the rating comes from")
        if not _is_date(self.as_of):
            raise ValueError(f"as_of: {self.as_of!r} is not a date")
        object.__setattr__(self, "country", country)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "source", self.source.strip())

    @property
    def risk(self) -> float:
        return rating_risk(self.scale, self.value)


# --- Indicators and the design --------------------------------------------------------------


@dataclass(frozen=True)
class Goalposts:
    """Fixed normalisation: ``worst`` maps to 10, ``best`` to 0, linear between (on log10 when
    ``log``), clipped to 0–10."""

    worst: float
    best: float
    log: bool = False

    def risk(self, value: float) -> float:
        worst, best = self.worst, self.best
        if self.log:
            value = math.log10(max(value, 1e-9))
            worst, best = math.log10(worst), math.log10(best)
        return min(10.0, max(0.0, 10 * (value - best) / (worst - best)))


@dataclass(frozen=True)
class Indicator:
    """A bundled indicator the baseline knows: its name, goalposts and what it measures."""

    id: str
    label: Label
    goalposts: Goalposts
    unit: str


WGI_GOALPOSTS = Goalposts(worst=-2.5, best=2.5)
NDGAIN_GOALPOSTS = Goalposts(worst=20.0, best=90.0)
GDP_PC_GOALPOSTS = Goalposts(worst=500.0, best=100_000.0, log=True)

INDICATORS: Mapping[str, Indicator] = {
    i.id: i
    for i in (
        Indicator(
            "wgi.va", Label("话语权与问责", "Voice and accountability"), WGI_GOALPOSTS, "estimate"
        ),
        Indicator(
            "wgi.pv",
            Label("政治稳定与无暴力", "Political stability and absence of violence"),
            WGI_GOALPOSTS,
            "estimate",
        ),
        Indicator(
            "wgi.ge", Label("政府效能", "Government effectiveness"), WGI_GOALPOSTS, "estimate"
        ),
        Indicator("wgi.rq", Label("监管质量", "Regulatory quality"), WGI_GOALPOSTS, "estimate"),
        Indicator("wgi.rl", Label("法治", "Rule of law"), WGI_GOALPOSTS, "estimate"),
        Indicator("wgi.cc", Label("腐败控制", "Control of corruption"), WGI_GOALPOSTS, "estimate"),
        Indicator(
            "ndgain.gain",
            Label("圣母大学全球适应指数", "ND-GAIN country index"),
            NDGAIN_GOALPOSTS,
            "index 0–100",
        ),
        Indicator(
            "ne.gdp_pc",
            Label("人均国内生产总值（购买力平价）", "GDP per capita (PPP)"),
            GDP_PC_GOALPOSTS,
            "US$",
        ),
    )
}


@dataclass(frozen=True)
class DesignedInput:
    """One input of a category's design.

    A ``supplementary`` input (a rating beside a bundled indicator) adds to its dimension when
    present; its absence does not lower coverage. A dimension whose only inputs are ratings
    (economic hazard: Sinosure) counts them as core, so without one the dimension is empty.
    """

    indicator: str
    dimension: str
    supplementary: bool = False


_MFA = RatingScale.MFA_TRAVEL.indicator
_SINOSURE = RatingScale.SINOSURE.indicator

DESIGN: Mapping[MofcomCategory, tuple[DesignedInput, ...]] = {
    MofcomCategory.POLITICAL: (
        DesignedInput("wgi.pv", HAZARD),
        DesignedInput(_MFA, HAZARD, supplementary=True),
        DesignedInput("wgi.va", VULNERABILITY),
        DesignedInput("wgi.ge", COPING),
        DesignedInput("wgi.rl", COPING),
    ),
    MofcomCategory.ECONOMIC: (
        DesignedInput(_SINOSURE, HAZARD),
        DesignedInput("ne.gdp_pc", VULNERABILITY),
        DesignedInput("wgi.rq", COPING),
        DesignedInput("wgi.ge", COPING),
    ),
    MofcomCategory.POLICY: (
        DesignedInput("wgi.rq", HAZARD),
        DesignedInput(_SINOSURE, HAZARD, supplementary=True),
        DesignedInput("wgi.cc", VULNERABILITY),
        DesignedInput("wgi.rl", COPING),
    ),
    # No natural-hazard exposure data may be bundled (INFORM's comes from sources we cannot
    # ship): the hazard dimension stays empty and coverage shows it. Live events carry it.
    MofcomCategory.NATURAL: (
        DesignedInput("ndgain.gain", VULNERABILITY),
        DesignedInput("wgi.ge", COPING),
    ),
    MofcomCategory.OTHER: (
        DesignedInput(_MFA, HAZARD),
        DesignedInput("ne.gdp_pc", VULNERABILITY),
        DesignedInput("wgi.ge", COPING),
        DesignedInput("wgi.rl", COPING),
        DesignedInput("wgi.cc", COPING),
    ),
}


def input_label(indicator: str) -> Label:
    """The bilingual name of a designed input (an indicator id or ``rating.<scale>``)."""
    if indicator in INDICATORS:
        return INDICATORS[indicator].label
    for scale in RatingScale:
        if scale.indicator == indicator:
            return scale.label
    raise KeyError(indicator)


# --- Results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineInput:
    """One input's part in a category baseline, for the explanation."""

    indicator: str
    label: Label
    dimension: str  # "hazard" | "vulnerability" | "coping"
    value: float | str  # raw: the published number, or the rating as entered
    risk: float  # 0–10, higher = riskier, after normalisation
    year: int  # year of the data (ratings: as_of.year)
    source: str


@dataclass(frozen=True)
class CategoryBaseline:
    """The baseline of one MOFCOM category in one country."""

    category: MofcomCategory
    score: float  # 0–10
    coverage: float  # 0–1: weight share of the designed inputs that had data
    dimensions: Mapping[str, float | None]  # dimension -> 0–10, or None when no input
    inputs: tuple[BaselineInput, ...]  # largest risk first
    imputed: bool  # True when no input at all had data and score is a fallback


def geometric_mean(values: Iterable[float]) -> float:
    """The geometric mean of values ≥ 0 (each counted no lower than ``DIMENSION_FLOOR``)."""
    logs = [math.log(max(v, DIMENSION_FLOOR)) for v in values]
    if not logs:
        raise ValueError("geometric mean of nothing")
    return math.exp(sum(logs) / len(logs))


def _latest_values(values: Iterable[IndicatorValue]) -> dict[str, dict[str, IndicatorValue]]:
    """country -> indicator -> the value of the latest year (later in the input wins a tie)."""
    latest: dict[str, dict[str, IndicatorValue]] = {}
    for v in values:
        per_country = latest.setdefault(v.country, {})
        known = per_country.get(v.indicator)
        if known is None or v.year >= known.year:
            per_country[v.indicator] = v
    return latest


def _latest_ratings(ratings: Iterable[CountryRating]) -> dict[str, dict[str, CountryRating]]:
    """country -> input id -> the most recent rating of that scale (newer supersedes)."""
    latest: dict[str, dict[str, CountryRating]] = {}
    for r in ratings:
        per_country = latest.setdefault(r.country, {})
        known = per_country.get(r.scale.indicator)
        if known is None or r.as_of >= known.as_of:
            per_country[r.scale.indicator] = r
    return latest


def _input(
    spec: DesignedInput, values: Mapping[str, IndicatorValue], ratings: Mapping[str, CountryRating]
) -> BaselineInput | None:
    rating = ratings.get(spec.indicator)
    if rating is not None:
        return BaselineInput(
            spec.indicator,
            rating.scale.label,
            spec.dimension,
            rating.value,
            rating.risk,
            rating.as_of.year,
            rating.source,
        )
    value = values.get(spec.indicator)
    indicator = INDICATORS.get(spec.indicator)
    if value is None or indicator is None:
        return None
    return BaselineInput(
        spec.indicator,
        indicator.label,
        spec.dimension,
        value.value,
        indicator.goalposts.risk(value.value),
        value.year,
        value.source,
    )


def _category(
    category: MofcomCategory,
    values: Mapping[str, IndicatorValue],
    ratings: Mapping[str, CountryRating],
) -> CategoryBaseline | None:
    """The observed baseline, or None when no designed input has data."""
    design = DESIGN[category]
    inputs: list[BaselineInput] = []
    dimensions: dict[str, float | None] = {}
    coverage = 0.0
    for dimension in DIMENSIONS:
        specs = [s for s in design if s.dimension == dimension]
        core = [s for s in specs if not s.supplementary]
        found = [i for s in specs if (i := _input(s, values, ratings)) is not None]
        inputs.extend(found)
        dimensions[dimension] = statistics.fmean(i.risk for i in found) if found else None
        if core:
            coverage += min(1.0, len(found) / len(core)) / len(DIMENSIONS)
    present = [d for d in dimensions.values() if d is not None]
    if not present:
        return None
    return CategoryBaseline(
        category=category,
        score=geometric_mean(present),
        coverage=coverage,
        dimensions=dimensions,
        inputs=tuple(sorted(inputs, key=lambda i: (-i.risk, i.indicator))),
        imputed=False,
    )


def fallback_baseline(category: MofcomCategory, scores: Iterable[float]) -> CategoryBaseline:
    """What a category with no data at all gets: not a low risk.

    The median of ``scores`` (the observed scores of every country in this category), and
    never below ``FALLBACK_MINIMUM`` (5, the middle of the scale) — an unknown country is
    treated as at least as risky as the typical one. Flagged ``imputed`` with coverage 0.
    """
    observed = list(scores)
    median = statistics.median(observed) if observed else FALLBACK_MINIMUM
    return CategoryBaseline(
        category=category,
        score=max(median, FALLBACK_MINIMUM),
        coverage=0.0,
        dimensions=dict.fromkeys(DIMENSIONS),
        inputs=(),
        imputed=True,
    )


def fallback_baselines(
    baselines: Mapping[str, Mapping[MofcomCategory, CategoryBaseline]],
) -> dict[MofcomCategory, CategoryBaseline]:
    """The fallback of every category from computed baselines (imputed ones left out): what a
    country missing from ``all_baselines`` gets."""
    return {
        category: fallback_baseline(
            category,
            (
                b[category].score
                for b in baselines.values()
                if category in b and not b[category].imputed
            ),
        )
        for category in MofcomCategory
    }


def _observed_all(
    values: dict[str, dict[str, IndicatorValue]], ratings: dict[str, dict[str, CountryRating]]
) -> dict[str, dict[MofcomCategory, CategoryBaseline | None]]:
    return {
        country: {
            category: _category(category, values.get(country, {}), ratings.get(country, {}))
            for category in MofcomCategory
        }
        for country in sorted(values.keys() | ratings.keys())
    }


def _fill(
    observed: dict[str, dict[MofcomCategory, CategoryBaseline | None]],
) -> dict[str, dict[MofcomCategory, CategoryBaseline]]:
    fallback = {
        category: fallback_baseline(
            category,
            [b.score for per in observed.values() if (b := per[category]) is not None],
        )
        for category in MofcomCategory
    }
    return {
        country: {c: b if b is not None else fallback[c] for c, b in per.items()}
        for country, per in observed.items()
    }


def all_baselines(
    values: Iterable[IndicatorValue], ratings: Iterable[CountryRating] = ()
) -> dict[str, dict[MofcomCategory, CategoryBaseline]]:
    """The baseline of every country that has any value or rating, every category filled.

    A category with no data in a country gets the fallback (``fallback_baseline``: median of
    the observed scores of that category, at least 5, ``imputed``). A country with no value
    and no rating at all is absent; give it ``fallback_baselines(result)``.
    """
    return _fill(_observed_all(_latest_values(values), _latest_ratings(ratings)))


def country_baseline(
    country: str,
    values: Iterable[IndicatorValue],
    ratings: Iterable[CountryRating] = (),
    *,
    fallback: Mapping[MofcomCategory, CategoryBaseline] | None = None,
) -> dict[MofcomCategory, CategoryBaseline]:
    """The baseline of one country (ISO2), every category filled.

    ``values`` and ``ratings`` may hold every country (the other countries then set the
    fallback of a category without data, exactly as in ``all_baselines``) or only this one.
    ``fallback`` overrides that: e.g. ``fallback_baselines(all_baselines(...))`` computed once.
    """
    iso2 = country.strip().upper()
    latest_values = _latest_values(values)
    latest_ratings = _latest_ratings(ratings)
    if fallback is None:
        observed = _observed_all(latest_values, latest_ratings)
        observed.setdefault(iso2, dict.fromkeys(MofcomCategory))
        return _fill(observed)[iso2]
    result: dict[MofcomCategory, CategoryBaseline] = {}
    for category in MofcomCategory:
        computed = _category(category, latest_values.get(iso2, {}), latest_ratings.get(iso2, {}))
        result[category] = computed if computed is not None else fallback[category]
    return result
