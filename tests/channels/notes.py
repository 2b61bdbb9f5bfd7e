"""Sample notifications for channel tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.notification import Notification


def make_note(**overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "key": "warning-42:issued:1",
        "kind": "warning",
        "action": "issued",
        "level": WarningLevel.ORANGE,
        "title": Label(
            "二级（橙色）预警：蒙内铁路 内罗毕终点站附近武装冲突",
            "Level 2 (orange) warning: armed clash near the SGR Nairobi terminus",
        ),
        "body": Label(
            "项目：蒙内铁路（KE-SGR）\n地点：内罗毕终点站 3.2 公里\n措施：暂停夜间作业，人员留在营地。",
            "Project: Mombasa–Nairobi SGR (KE-SGR)\nPlace: 3.2 km from the Nairobi terminus\n"
            "Measures: suspend night work, staff stay in camp.",
        ),
        "sms": "【全天候】二级橙色预警：蒙内铁路内罗毕终点站3.2公里处武装冲突，暂停夜间作业。",
        "created_at": datetime(2024, 8, 19, 13, 0, tzinfo=UTC),
        "warning_id": 42,
        "url": "https://allweather.example/warnings/42",
        "data": {"project": "KE-SGR", "distance_km": 3.2},
    }
    values.update(overrides)
    return Notification(**values)
