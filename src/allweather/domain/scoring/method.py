"""评分方法 — the scoring method's parameters, loaded and checked.

The platform's method ships in ``allweather/data/scoring.yaml`` with the reasoning beside every
number (docs/scoring.md). ``ALLWEATHER_SCORING_FILE`` may replace it; its version string, and a
fingerprint of its content when it differs from the release, is stored with every score.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from allweather.domain.taxonomy import FineType, SeverityGrade

BUNDLED = "scoring.yaml"
LN2 = math.log(2.0)


class ScoringMethodError(ValueError):
    """Bad method data: the message names the field path (``half_life_days.flood: …``)."""


@dataclass(frozen=True)
class LevelThresholds:
    """Index thresholds of 一级 red, 二级 orange and 三级 yellow; below yellow is 四级 blue."""

    red: float
    orange: float
    yellow: float
    hysteresis: float


@dataclass(frozen=True)
class MatrixRules:
    """How the 5 × 5 likelihood × consequence view is read off a score."""

    likelihood_from_index: tuple[float, float, float, float]
    consequence_by_grade: Mapping[SeverityGrade, int]
    consequence_min_contribution: float
    large_project_value_usd: float
    large_project_staff_cn: int
    major: int
    large: int
    general: int


@dataclass(frozen=True)
class ScoringMethod:
    """Every weight, half-life and threshold of the risk index."""

    version: str
    severity: Mapping[SeverityGrade, float]
    half_reach: float
    country_precision: float
    saturation: float
    half_life_days: Mapping[FineType, float]
    levels: LevelThresholds
    matrix: MatrixRules
    confidence_high: float
    confidence_medium: float
    source_text: str  # the YAML it was read from, for the fingerprint

    @classmethod
    def default(cls) -> ScoringMethod:
        return _bundled()

    @classmethod
    def from_yaml(cls, text: str) -> ScoringMethod:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScoringMethodError(f"not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ScoringMethodError("the method file must be a mapping")
        return _parse(data, text)

    def fingerprint(self) -> str:
        """A short hash of the method's content (not its comments)."""
        return _fingerprint(self.source_text)

    @property
    def label(self) -> str:
        """The version stored with every score: the release's version, or version+fingerprint
        for a replaced method file, so two different files never share a label."""
        if self.fingerprint() == _bundled().fingerprint():
            return f"aw-score/{self.version}"
        return f"aw-score/{self.version}+{self.fingerprint()}"

    def decay_per_second(self, fine_type: FineType) -> float:
        """λ with contribution ∝ exp(−λ·age_seconds)."""
        return LN2 / (self.half_life_days[fine_type] * 86400.0)


@cache
def _fingerprint(text: str) -> str:
    payload = json.dumps(yaml.safe_load(text), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


@cache
def _bundled() -> ScoringMethod:
    text = resources.files("allweather.data").joinpath(BUNDLED).read_text(encoding="utf-8")
    return ScoringMethod.from_yaml(text)


def _number(data: Mapping[str, Any], key: str, path: str, low: float, high: float) -> float:
    if key not in data:
        raise ScoringMethodError(f"{path}{key}: missing")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScoringMethodError(f"{path}{key}: {value!r} is not a number")
    if not low <= float(value) <= high:
        raise ScoringMethodError(f"{path}{key}: {value!r} is outside {low}…{high}")
    return float(value)


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ScoringMethodError(f"{key}: missing or not a mapping")
    return value


def _parse(data: Mapping[str, Any], text: str) -> ScoringMethod:
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise ScoringMethodError("version: missing or not a string")
    severity_data = _section(data, "severity")
    severity = {g: _number(severity_data, g.value, "severity.", 0.0, 1.0) for g in SeverityGrade}
    weights = [severity[g] for g in SeverityGrade]
    if any(a < b for a, b in zip(weights, weights[1:], strict=False)):
        raise ScoringMethodError("severity: weights must not grow from I to IV")
    proximity = _section(data, "proximity")
    half_lives_data = _section(data, "half_life_days")
    unknown = sorted(set(half_lives_data) - {t.value for t in FineType})
    if unknown:
        raise ScoringMethodError(f"half_life_days.{unknown[0]}: not a fine type")
    half_lives = {
        t: _number(half_lives_data, t.value, "half_life_days.", 0.01, 3650.0) for t in FineType
    }
    lv = _section(data, "levels")
    levels = LevelThresholds(
        red=_number(lv, "red", "levels.", 0.0, 10.0),
        orange=_number(lv, "orange", "levels.", 0.0, 10.0),
        yellow=_number(lv, "yellow", "levels.", 0.0, 10.0),
        hysteresis=_number(lv, "hysteresis", "levels.", 0.0, 2.0),
    )
    if not levels.red > levels.orange > levels.yellow:
        raise ScoringMethodError("levels: red > orange > yellow is required")
    mx = _section(data, "matrix")
    cuts = mx.get("likelihood_from_index")
    if (
        not isinstance(cuts, list)
        or len(cuts) != 4
        or any(isinstance(c, bool) or not isinstance(c, int | float) for c in cuts)
        or sorted(cuts) != cuts
    ):
        raise ScoringMethodError("matrix.likelihood_from_index: four increasing numbers")
    by_grade = _section(mx, "consequence_by_grade")
    bands = _section(mx, "bands")
    matrix = MatrixRules(
        likelihood_from_index=(float(cuts[0]), float(cuts[1]), float(cuts[2]), float(cuts[3])),
        consequence_by_grade={
            g: int(_number(by_grade, g.value, "matrix.consequence_by_grade.", 1, 5))
            for g in SeverityGrade
        },
        consequence_min_contribution=_number(
            mx, "consequence_min_contribution", "matrix.", 0.0, 1.0
        ),
        large_project_value_usd=_number(mx, "large_project_value_usd", "matrix.", 0.0, 1e13),
        large_project_staff_cn=int(_number(mx, "large_project_staff_cn", "matrix.", 0, 1e6)),
        major=int(_number(bands, "major", "matrix.bands.", 1, 25)),
        large=int(_number(bands, "large", "matrix.bands.", 1, 25)),
        general=int(_number(bands, "general", "matrix.bands.", 1, 25)),
    )
    if not matrix.major > matrix.large > matrix.general:
        raise ScoringMethodError("matrix.bands: major > large > general is required")
    confidence = _section(data, "confidence")
    return ScoringMethod(
        version=version.strip(),
        severity=severity,
        half_reach=_number(proximity, "half_reach", "proximity.", 0.01, 10.0),
        country_precision=_number(proximity, "country_precision", "proximity.", 0.0, 1.0),
        saturation=_number(data, "saturation", "", 0.01, 100.0),
        half_life_days=half_lives,
        levels=levels,
        matrix=matrix,
        confidence_high=_number(confidence, "high", "confidence.", 0.0, 1.0),
        confidence_medium=_number(confidence, "medium", "confidence.", 0.0, 1.0),
        source_text=text,
    )
