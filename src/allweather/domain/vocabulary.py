"""Closed vocabularies with bilingual labels and tolerant parsing.

Import files say the same thing many ways ("在建", "Implementation", "under construction"); each
vocabulary here accepts its code, its Chinese and English labels, and documented aliases, and
rejects anything else with the list of accepted codes.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

from allweather.domain.labels import Label


def normalize_term(text: str) -> str:
    """Lower-case, trim, and collapse spaces, hyphens and underscores for alias lookup."""
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


class Vocabulary(StrEnum):
    """A StrEnum whose members carry a ``Label`` and parse from labels and aliases.

    Each subclass registers its labels and aliases with ``install_labels`` right after its body,
    because enum members do not exist inside the class body.
    """

    @property
    def label(self) -> Label:
        return _LABELS[type(self)][self.value]

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read a member from its code, zh or en label, or an alias.

        Raises:
            ValueError: naming the accepted codes when nothing matches.
        """
        code = _LOOKUP[cls].get(normalize_term(text))
        if code is not None:
            return cls(code)
        accepted = ", ".join(m.value for m in cls)
        raise ValueError(f"unknown value {text!r}; accepted: {accepted}")


_LABELS: dict[type[Vocabulary], dict[str, Label]] = {}
# normalized code, label or alias → member code; codes and labels win over aliases
_LOOKUP: dict[type[Vocabulary], dict[str, str]] = {}


def install_labels(
    cls: type[Vocabulary], labels: dict[str, Label], aliases: dict[str, str]
) -> None:
    """Register a vocabulary's labels (every member) and aliases (extra accepted spellings)."""
    codes = {m.value for m in cls}
    if codes != set(labels) or not set(aliases.values()) <= codes:
        # a guard for developers adding a member without its label, or a stray alias
        raise RuntimeError(f"{cls.__name__}: labels or aliases do not match the members")
    _LABELS[cls] = dict(labels)
    lookup = {normalize_term(alias): code for alias, code in aliases.items()}
    for code, label in labels.items():
        lookup.update({normalize_term(name): code for name in (code, label.zh, label.en)})
    _LOOKUP[cls] = lookup


class ProjectKind(Vocabulary):
    """Project kind as the Belt and Road symposia name them."""

    FLAGSHIP = "flagship"
    LIVELIHOOD = "livelihood"
    GENERAL = "general"


install_labels(
    ProjectKind,
    {
        "flagship": Label("重大标志性工程", "Flagship project"),
        "livelihood": Label("小而美民生项目", "Small-and-beautiful livelihood project"),
        "general": Label("一般项目", "General project"),
    },
    {
        "重大标志性项目": "flagship",
        "标志性工程": "flagship",
        "major": "flagship",
        "小而美": "livelihood",
        "民生项目": "livelihood",
        "small and beautiful": "livelihood",
        "一般": "general",
    },
)


class Sector(Vocabulary):
    """Project sector. Aliases include the OECD CRS sector names AidData uses."""

    TRANSPORT = "transport"
    ENERGY = "energy"
    WATER = "water"
    COMMUNICATIONS = "communications"
    INDUSTRY = "industry"
    INDUSTRIAL_PARK = "industrial_park"
    AGRICULTURE = "agriculture"
    HEALTH = "health"
    EDUCATION = "education"
    SOCIAL = "social"
    GOVERNMENT = "government"
    FINANCE = "finance"
    ENVIRONMENT = "environment"
    HUMANITARIAN = "humanitarian"
    OTHER = "other"


install_labels(
    Sector,
    {
        "transport": Label("交通运输", "Transport"),
        "energy": Label("能源电力", "Energy"),
        "water": Label("水务", "Water and sanitation"),
        "communications": Label("通信", "Communications"),
        "industry": Label("工业、矿业与建筑", "Industry, mining and construction"),
        "industrial_park": Label("产业园区", "Industrial park"),
        "agriculture": Label("农林渔业", "Agriculture, forestry and fishing"),
        "health": Label("医疗卫生", "Health"),
        "education": Label("教育", "Education"),
        "social": Label("社会公共设施", "Social infrastructure"),
        "government": Label("政府与公共治理", "Government and civil society"),
        "finance": Label("金融与商业服务", "Finance and business services"),
        "environment": Label("环境保护", "Environmental protection"),
        "humanitarian": Label("人道援助与应急", "Humanitarian and emergency"),
        "other": Label("其他", "Other"),
    },
    {
        # OECD CRS / AidData sector names
        "transport and storage": "transport",
        "water supply and sanitation": "water",
        "industry, mining, construction": "industry",
        "agriculture, forestry, fishing": "agriculture",
        "population policies/programmes and reproductive health": "health",
        "other social infrastructure and services": "social",
        "government and civil society": "government",
        "business and other services": "finance",
        "banking and financial services": "finance",
        "trade policies and regulations": "finance",
        "action relating to debt": "finance",
        "general environmental protection": "environment",
        "emergency response": "humanitarian",
        "reconstruction relief and rehabilitation": "humanitarian",
        "disaster prevention and preparedness": "humanitarian",
        "developmental food aid/food security assistance": "humanitarian",
        "other multisector": "other",
        "other commodity assistance": "other",
        "unallocated/unspecified": "other",
        # common short forms
        "power": "energy",
        "electricity": "energy",
        "电力": "energy",
        "能源": "energy",
        "交通": "transport",
        "mining": "industry",
        "矿业": "industry",
        "telecom": "communications",
        "园区": "industrial_park",
        "park": "industrial_park",
    },
)


class ProjectStatus(Vocabulary):
    """Life-cycle stage of a project."""

    PLANNED = "planned"
    UNDER_CONSTRUCTION = "under_construction"
    OPERATING = "operating"
    COMPLETED = "completed"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


install_labels(
    ProjectStatus,
    {
        "planned": Label("规划中", "Planned"),
        "under_construction": Label("在建", "Under construction"),
        "operating": Label("运营中", "Operating"),
        "completed": Label("已完工", "Completed"),
        "suspended": Label("暂停", "Suspended"),
        "cancelled": Label("已取消", "Cancelled"),
    },
    {
        # AidData statuses
        "pipeline: commitment": "planned",
        "pipeline: pledge": "planned",
        "implementation": "under_construction",
        "completion": "completed",
        "canceled": "cancelled",
        "construction": "under_construction",
        "建设中": "under_construction",
        "运营": "operating",
        "完工": "completed",
    },
)


class OrgKind(Vocabulary):
    """An enterprise runs projects; a department (主管部门) oversees enterprises."""

    ENTERPRISE = "enterprise"
    DEPARTMENT = "department"


install_labels(
    OrgKind,
    {
        "enterprise": Label("企业", "Enterprise"),
        "department": Label("主管部门", "Supervising department"),
    },
    {},
)


class SiteKind(Vocabulary):
    """What a site's geometry is: a point, an area footprint, or a line corridor."""

    POINT = "point"
    AREA = "area"
    LINE = "line"


install_labels(
    SiteKind,
    {
        "point": Label("点位", "Point"),
        "area": Label("区域", "Area"),
        "line": Label("线路走廊", "Line corridor"),
    },
    {"polygon": "area", "footprint": "area", "corridor": "line"},
)


class LocationPrecision(Vocabulary):
    """How well a site's geometry is known; matching widens or flags imprecise sites."""

    EXACT = "exact"
    APPROXIMATE = "approximate"
    REGION = "region"


install_labels(
    LocationPrecision,
    {
        "exact": Label("精确", "Exact"),
        "approximate": Label("近似", "Approximate"),
        "region": Label("区域级（位置粗略）", "Region only (coarse location)"),
    },
    {"admin": "region", "admin area": "region", "approx": "approximate"},
)
