"""Warnings as flat records for CSV/JSON export (``allweather warnings list``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from allweather.domain.levels import WarningLevel
from allweather.domain.warnings.model import Status
from allweather.domain.warnings.texts import beijing, category_label

WARNING_FIELDS = (
    "id",
    "status",
    "status_zh",
    "level",
    "level_label",
    "category",
    "category_label",
    "project",
    "organization",
    "country",
    "source",
    "title_zh",
    "title_en",
    "started_at",
    "issued_at",
    "updated_at",
    "lifted_at",
    "affected_area_zh",
    "affected_area_en",
    "key_points_zh",
    "key_points_en",
    "measures_zh",
    "measures_en",
    "issuer_zh",
    "issuer_en",
    "triggers",
    "decision_required",
    "revision",
    "acknowledged_at",
    "escalation_step",
)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def warning_records(rows: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """One flat record per warning row from ``store.warnings.list_warnings``."""
    for r in rows:
        level = WarningLevel(r.level)
        cat = category_label(r.category)
        yield {
            "id": r.id,
            "status": r.status,
            "status_zh": Status(r.status).label.zh,
            "level": int(level),
            "level_label": level.label.both(),
            "category": r.category,
            "category_label": cat.both(),
            "project": r.project_code,
            "organization": r.organization_code,
            "country": r.country_code,
            "source": r.source,
            "title_zh": r.title["zh"],
            "title_en": r.title["en"],
            "started_at": _iso(r.started_at),
            "issued_at": _iso(r.issued_at),
            "updated_at": _iso(r.updated_at),
            "lifted_at": _iso(r.lifted_at),
            "affected_area_zh": r.affected_area["zh"],
            "affected_area_en": r.affected_area["en"],
            "key_points_zh": r.key_points["zh"],
            "key_points_en": r.key_points["en"],
            "measures_zh": r.measures["zh"],
            "measures_en": r.measures["en"],
            "issuer_zh": r.issuer["zh"],
            "issuer_en": r.issuer["en"],
            "triggers": list(r.triggers or []),
            "decision_required": bool(r.decision_required),
            "revision": r.revision,
            "acknowledged_at": _iso(r.acknowledged_at),
            "escalation_step": r.escalation_step,
        }


def line(r: Any) -> str:
    """One readable line for stderr summaries."""
    level = WarningLevel(r.level).label.zh
    return (
        f"#{r.id} {level} {r.title['zh']} （{Status(r.status).label.zh}，{beijing(r.updated_at)}）"
    )
