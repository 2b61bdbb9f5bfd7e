"""The canonical portfolio columns (docs/portfolio-import.md is generated from this table)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from allweather.domain.vocabulary import normalize_term


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    level: str  # "project" or "site"
    required: str  # "yes", "no", or a condition in words
    meaning: str
    header_aliases: tuple[str, ...] = ()


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "code",
        "project",
        "yes",
        "Project code, unique in the platform "
        "(letters, digits, `.`, `_`, `-`; at most 64). Rows sharing a code are sites of "
        "one project.",
        ("项目编码", "编码", "项目代码"),
    ),
    ColumnSpec(
        "name",
        "project",
        "yes",
        "Project name (English or the working language).",
        ("项目名称", "名称"),
    ),
    ColumnSpec("name_zh", "project", "no", "Chinese project name.", ("中文名称",)),
    ColumnSpec(
        "organization",
        "project",
        "no",
        "The enterprise running the project: an "
        "organisation code or name; a new name creates the organisation.",
        ("所属企业", "企业", "实施单位"),
    ),
    ColumnSpec(
        "country",
        "site",
        "no",
        "ISO 3166 alpha-2 or alpha-3 code, or an English or "
        "Chinese country name. Unset: taken from the geometry. The first row's country "
        "is the project's country.",
        ("国家", "所在国"),
    ),
    ColumnSpec(
        "sector",
        "project",
        "no",
        "transport, energy, water, communications, industry, "
        "industrial_park, agriculture, health, education, social, government, finance, "
        "environment, humanitarian, other (or their Chinese labels, or OECD CRS names).",
        ("行业", "领域"),
    ),
    ColumnSpec(
        "kind",
        "project",
        "no",
        "flagship (重大标志性工程), livelihood (小而美民生项目) or "
        "general (一般项目, the default).",
        ("项目类型", "类型"),
    ),
    ColumnSpec(
        "status",
        "project",
        "no",
        "planned, under_construction, operating, completed, "
        "suspended, cancelled (or 规划中, 在建, 运营中, 已完工, 暂停, 已取消).",
        ("状态", "项目状态"),
    ),
    ColumnSpec(
        "value_usd",
        "project",
        "no",
        "Contract or investment value in US dollars, ≥ 0.",
        ("金额美元", "合同额美元", "金额"),
    ),
    ColumnSpec("start_date", "project", "no", "Start date, YYYY-MM-DD.", ("开工日期", "开始日期")),
    ColumnSpec(
        "end_date",
        "project",
        "no",
        "End date, YYYY-MM-DD, not before start_date.",
        ("完工日期", "结束日期"),
    ),
    ColumnSpec(
        "staff_cn",
        "project",
        "no",
        "Number of Chinese staff, integer ≥ 0.",
        ("中方人员", "中方员工"),
    ),
    ColumnSpec(
        "staff_local",
        "project",
        "no",
        "Number of local staff, integer ≥ 0.",
        ("当地员工", "本地员工"),
    ),
    ColumnSpec(
        "staff_other",
        "project",
        "no",
        "Number of third-country staff, integer ≥ 0.",
        ("第三国人员", "第三国员工"),
    ),
    ColumnSpec(
        "site",
        "site",
        "no",
        "Site key within the project (stable across re-imports). "
        "Unset: the row's position among the project's rows (1, 2, …).",
        ("站点", "站点编码"),
    ),
    ColumnSpec("site_name", "site", "no", "Site name.", ("站点名称",)),
    ColumnSpec(
        "precision",
        "site",
        "no",
        "How well the location is known: exact (default), approximate, region.",
        ("位置精度",),
    ),
    ColumnSpec(
        "latitude",
        "site",
        "either this pair or wkt",
        "WGS84 latitude in decimal degrees, −90 … 90.",
        ("纬度", "lat"),
    ),
    ColumnSpec(
        "longitude",
        "site",
        "either this pair or wkt",
        "WGS84 longitude in decimal degrees, −180 … 180.",
        ("经度", "lon", "lng"),
    ),
    ColumnSpec(
        "wkt",
        "site",
        "either this or latitude + longitude",
        "WGS84 geometry as WKT: "
        "POINT, MULTIPOINT, LINESTRING, MULTILINESTRING (corridors), POLYGON, "
        "MULTIPOLYGON (footprints).",
        ("geometry", "几何"),
    ),
    ColumnSpec(
        "source",
        "project",
        "no",
        "Where the record comes from (a register, a dataset), kept for attribution.",
        ("来源", "数据来源"),
    ),
    ColumnSpec("contact_name", "project", "no", "Project contact person.", ("联系人",)),
    ColumnSpec("contact_role", "project", "no", "The contact's role.", ("联系人职务",)),
    ColumnSpec("contact_phone", "project", "no", "The contact's phone.", ("联系电话",)),
    ColumnSpec("contact_email", "project", "no", "The contact's e-mail.", ("联系邮箱",)),
)

CANONICAL = tuple(c.name for c in COLUMNS)
CONTACT_COLUMNS = ("contact_name", "contact_role", "contact_phone", "contact_email")

_HEADER_LOOKUP: dict[str, str] = {}
for _spec in COLUMNS:
    for _alias in (_spec.name, *_spec.header_aliases):
        _HEADER_LOOKUP[normalize_term(_alias).replace(" ", "_")] = _spec.name


@lru_cache(maxsize=4096)  # GeoJSON asks once per property of every feature
def canonical_column(header: str) -> str | None:
    """The canonical name for a header cell (case, spaces and Chinese aliases tolerated)."""
    key = normalize_term(header).replace(" ", "_")
    key = key.replace("（", "").replace("）", "").replace("(", "").replace(")", "")
    return _HEADER_LOOKUP.get(key)
