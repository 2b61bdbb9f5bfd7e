"""Warning and response levels (《突发事件应对法》 Art. 63, 71; DOMAIN-CN.md §3).

The warning level 预警级别 runs 一级 red (highest) to 四级 blue. The response level 响应级别 is a
separate scale with the same numbering. The 5 × 5 risk-register grade (重大/较大/一般/低) shares
the colours but is a third scale, so every colour shown must say which scale it belongs to.
"""

from __future__ import annotations

from enum import IntEnum

from allweather.domain.labels import Label


class WarningLevel(IntEnum):
    """预警级别. Lower number = more serious, as in the law."""

    RED = 1
    ORANGE = 2
    YELLOW = 3
    BLUE = 4

    @property
    def label(self) -> Label:
        """The level's name, e.g. 一级（红色）/ Level 1 (red)."""
        return _LEVEL_LABELS[self]

    @property
    def severity_label(self) -> Label:
        """The level's descriptive wording, e.g. 特别严重 / Extremely serious."""
        return _LEVEL_SEVERITY[self]

    @property
    def colour(self) -> str:
        """The colour name in English (red, orange, yellow, blue)."""
        return self.name.lower()

    @property
    def hex(self) -> str:
        """A display colour for maps and reports."""
        return _LEVEL_HEX[self]

    def is_higher_than(self, other: WarningLevel) -> bool:
        """True when this level is more serious than ``other``."""
        return self.value < other.value

    @classmethod
    def parse(cls, text: str) -> WarningLevel:
        """Read a level from its number, colour, or Chinese name (一级, 红色, red, 1)."""
        key = text.strip().lower()
        for level in cls:
            names = {
                str(level.value),
                level.colour,
                level.label.zh,
                _LEVEL_NUMERAL_ZH[level],
                _LEVEL_COLOUR_ZH[level],
                level.severity_label.zh,
            }
            if key in {n.lower() for n in names}:
                return level
        raise ValueError(f"unknown warning level {text!r}")


_LEVEL_NUMERAL_ZH = {
    WarningLevel.RED: "一级",
    WarningLevel.ORANGE: "二级",
    WarningLevel.YELLOW: "三级",
    WarningLevel.BLUE: "四级",
}
_LEVEL_COLOUR_ZH = {
    WarningLevel.RED: "红色",
    WarningLevel.ORANGE: "橙色",
    WarningLevel.YELLOW: "黄色",
    WarningLevel.BLUE: "蓝色",
}
_LEVEL_LABELS = {
    level: Label(
        f"{_LEVEL_NUMERAL_ZH[level]}（{_LEVEL_COLOUR_ZH[level]}）",
        f"Level {level.value} ({level.colour})",
    )
    for level in WarningLevel
}
_LEVEL_SEVERITY = {
    WarningLevel.RED: Label("特别严重", "Extremely serious"),
    WarningLevel.ORANGE: Label("严重", "Serious"),
    WarningLevel.YELLOW: Label("较重", "Relatively serious"),
    WarningLevel.BLUE: Label("一般", "General"),
}
_LEVEL_HEX = {
    WarningLevel.RED: "#d7191c",
    WarningLevel.ORANGE: "#f28e2b",
    WarningLevel.YELLOW: "#f5c518",
    WarningLevel.BLUE: "#2c7bb6",
}


class ResponseLevel(IntEnum):
    """应急响应级别 (Art. 71): a separate scale from the warning level, 一级 highest."""

    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3
    LEVEL_4 = 4

    @property
    def label(self) -> Label:
        numeral = "一二三四"[self.value - 1]
        return Label(f"{numeral}级响应", f"Level {self.value} response")


class RiskGrade(IntEnum):
    """风险等级 of the 5 × 5 risk matrix (R = L × S): 重大 red … 低 blue.

    A third scale with the warning colours (DOMAIN-CN.md §4): every display names it
    风险矩阵 / risk matrix so a red grade is never read as a 一级 warning.
    """

    MAJOR = 1
    LARGE = 2
    GENERAL = 3
    LOW = 4

    @property
    def label(self) -> Label:
        return _RISK_GRADE_LABELS[self]

    @property
    def colour(self) -> str:
        return ("red", "orange", "yellow", "blue")[self.value - 1]


_RISK_GRADE_LABELS = {
    RiskGrade.MAJOR: Label("重大风险", "Major risk"),
    RiskGrade.LARGE: Label("较大风险", "Considerable risk"),
    RiskGrade.GENERAL: Label("一般风险", "General risk"),
    RiskGrade.LOW: Label("低风险", "Low risk"),
}
