"""Import problems, each naming the record and the column, in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# code → (Chinese template, English template); templates take the keyword arguments of ``issue``.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("必填项为空", "required value is missing"),
    "code_format": (
        "项目编码格式不正确（字母、数字、. _ -，最多 64 个字符）",
        "code must be letters, digits, '.', '_' or '-' (at most 64)",
    ),
    "too_long": ("内容过长（最多 {limit} 个字符）", "longer than {limit} characters"),
    "country_unknown": (
        "无法识别的国家“{value}”",
        "unknown country {value!r}: use an ISO code (KE, KEN) or a name (Kenya, 肯尼亚)",
    ),
    "vocabulary": ("无法识别的取值“{value}”", "unknown value {value!r}; accepted: {accepted}"),
    "number": ("不是有效数字", "{value!r} is not a number"),
    "negative": ("不能为负数", "{value} must not be negative"),
    "integer": ("应为非负整数", "{value!r} is not a whole number ≥ 0"),
    "date": ("日期无效（格式 YYYY-MM-DD）", "{value!r} is not a valid date (YYYY-MM-DD): {reason}"),
    "date_order": ("结束日期早于开始日期", "end_date {value} is before start_date {start}"),
    "latitude": ("纬度超出范围 [-90, 90]", "latitude {value} is outside [-90, 90]"),
    "longitude": ("经度超出范围 [-180, 180]", "longitude {value} is outside [-180, 180]"),
    "coordinate": ("坐标不是有效数字", "{value!r} is not a decimal coordinate"),
    "coordinate_pair": ("经纬度须成对填写", "give both latitude and longitude"),
    "no_location": ("缺少位置", "no location: give latitude + longitude, or wkt"),
    "two_locations": (
        "同时给出了经纬度和 WKT",
        "give either latitude + longitude or wkt, not both",
    ),
    "wkt": ("WKT 几何无效", "{reason}"),
    "geometry": ("几何无效", "{reason}"),
    "conflict": (
        "与同一项目第 {first} 行的取值不一致",
        "{value!r} conflicts with {first_where} of the same project ({first_value!r})",
    ),
    "site_repeat": ("站点编码重复", "site {value!r} already given in {first_where}"),
    "email": ("邮箱格式不正确", "{value!r} is not an e-mail address"),
    "phone": ("电话号码格式不正确", "{value!r} is not a phone number"),
    "surplus": (
        "行中的单元格多于表头列数",
        "{value} non-empty cells beyond the header: is a separator or quote missing?",
    ),
    # warnings: the row lands, but someone should look
    "outside_country": (
        "站点位于申报国家 {country} 境外约 {km} 公里{actual_zh}",
        "site lies about {km} km outside the declared country {country}{actual_en}",
    ),
    "no_country": ("无法确定站点所在国家", "no country contains the site or lies within 50 km"),
    "ignored_columns": ("以下列未识别，已忽略", "unrecognised columns ignored: {value}"),
}


@dataclass(frozen=True)
class RowIssue:
    """One problem with one record (or the file, when ``row`` is 0)."""

    where: str
    row: int
    column: str | None
    value: str | None
    code: str
    zh: str
    en: str

    def text(self) -> str:
        column = f", column {self.column}" if self.column else ""
        return f"{self.where}{column}: {self.zh} / {self.en}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "code": self.code,
            "message_zh": self.zh,
            "message_en": self.en,
        }


def issue(
    where: str, row: int, column: str | None, code: str, value: Any = None, **params: Any
) -> RowIssue:
    """Build a ``RowIssue`` from the message catalog."""
    zh, en = MESSAGES[code]
    shown = None if value is None else str(value)
    params = {"value": value, **params}
    return RowIssue(where, row, column, shown, code, zh.format(**params), en.format(**params))
