"""Scores as records for people and tools: ``scores show``, the API, reports.

One record per project and category (``overall`` last): the score and level users see, the
computed ones beside any override, the method version, confidence, the 5 × 5 cell and the
top contributors, largest first, in both languages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from allweather.domain.levels import RiskGrade, WarningLevel
from allweather.domain.scoring.index import OVERALL
from allweather.domain.taxonomy import FineType, MofcomCategory

SCORE_FIELDS = (
    "project",
    "project_name",
    "country",
    "category",
    "category_zh",
    "score",
    "level",
    "level_zh",
    "level_en",
    "computed_score",
    "computed_level",
    "baseline",
    "pressure",
    "confidence",
    "coverage",
    "likelihood",
    "consequence",
    "risk",
    "risk_grade_zh",
    "risk_grade_en",
    "method_version",
    "override_score",
    "override_level",
    "override_reason",
    "override_by",
    "override_expires_at",
    "top_contributors",
    "as_of",
)


def category_label(category: str) -> tuple[str, str]:
    if category == OVERALL:
        return ("综合", "Overall")
    label = MofcomCategory(category).label
    return (label.zh, label.en)


def contributors(explanation: Mapping[str, Any], top: int = 3) -> list[str]:
    """The largest parts of a score in words, events first, then baseline inputs."""
    out: list[str] = []
    if explanation.get("driver"):
        zh, en = category_label(str(explanation["driver"]))
        out.append(f"最高类别 worst category: {zh} {en}")
    for e in list(explanation.get("events", []))[:top]:
        where = (
            "全国范围 country-wide"
            if e.get("strongest_distance_km") is None
            else f"{e['strongest_distance_km']:.1f} km"
        )
        when = datetime.fromtimestamp(int(e["strongest_at"]), UTC).date().isoformat()
        label = FineType(e["fine_type"]).label
        out.append(
            f"{label.zh} {label.en}: {e['events']} 起 events, S={e['share']:.3f}; "
            f"最强 strongest #{e['strongest_event']} 等级 grade {e['strongest_grade']} "
            f"{where} {when}"
        )
    detail = explanation.get("baseline_detail") or {}
    for i in list(detail.get("inputs", []))[: max(0, top - len(out)) or 1]:
        out.append(
            f"{i['label_zh']} {i['label_en']} = {i['value']} ({i['source']} {i['year']}) "
            f"→ {i['risk']:g}/10"
        )
    return out


def score_records(rows: Iterable[Mapping[str, Any]], top: int = 3) -> Iterator[dict[str, Any]]:
    """Stored score rows (``SqlScoreStore.current``) as flat records."""
    for r in rows:
        level = WarningLevel(r["level"])
        computed = WarningLevel(r["computed_level"])
        grade = RiskGrade(r["risk_grade"])
        zh, _ = category_label(r["category"])
        o = r.get("override")
        yield {
            "project": r["project_code"],
            "project_name": r.get("project_name"),
            "country": r.get("country_code"),
            "category": r["category"],
            "category_zh": zh,
            "score": round(float(r["score"]), 2),
            "level": level.value,
            "level_zh": level.label.zh,
            "level_en": level.label.en,
            "computed_score": round(float(r["computed_score"]), 2),
            "computed_level": computed.value,
            "baseline": round(float(r["baseline"]), 2),
            "pressure": round(float(r["pressure"]), 2),
            "confidence": r["confidence"],
            "coverage": round(float(r["coverage"]), 2),
            "likelihood": r["likelihood"],
            "consequence": r["consequence"],
            "risk": r["likelihood"] * r["consequence"],
            "risk_grade_zh": f"风险矩阵 {grade.label.zh}",
            "risk_grade_en": f"risk matrix: {grade.label.en}",
            "method_version": r["method_version"],
            "override_score": None if o is None else o.score,
            "override_level": None if o is None or o.level is None else o.level.value,
            "override_reason": None if o is None else o.reason,
            "override_by": None if o is None else o.set_by,
            "override_expires_at": None if o is None else o.expires_at.isoformat(),
            "top_contributors": contributors(r["explanation"], top),
            "as_of": datetime.fromtimestamp(int(r["as_of"]), UTC).isoformat(),
        }
