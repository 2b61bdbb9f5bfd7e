"""Portfolio import: validate every record, group rows into projects, land the good ones.

Rules (docs/portfolio-import.md):
- rows sharing a ``code`` are the sites of one project; project values must agree across them;
- import is idempotent by code (and by site key within a project): re-import updates in place;
- every bad record is reported with its number, column and reason; good records land;
  ``strict`` lands nothing when any record is bad;
- a site outside the country its row declares is a warning, not a rejection.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from allweather.domain.clock import Clock
from allweather.domain.portfolio import Organization, Project, Site, StaffCounts
from allweather.domain.vocabulary import ProjectKind
from allweather.portfolio.columns import CONTACT_COLUMNS
from allweather.portfolio.issues import RowIssue, issue
from allweather.portfolio.readers import RawSource, SourceTable
from allweather.portfolio.rows import CODE_PATTERN, PROJECT_VALUE_COLUMNS, RowValidator, ValidRow
from allweather.reference.countries import CountryCatalog, Placement
from allweather.store.base import (
    PROJECT_FIELDS,
    ImportRecord,
    PortfolioChanges,
    PortfolioWriter,
    ProjectUpdate,
)

# Natural Earth 1:10m borders are generalised and quantised (~0.4 km); a site this close to its
# declared country is taken to be in it, so ports and border posts do not raise noise.
OUTSIDE_TOLERANCE_KM = 5.0

# Which project field a file column feeds (a column's absence leaves the field untouched).
_COLUMN_FIELDS = {
    "name": "name",
    "name_zh": "name_zh",
    "organization": "organization_code",
    "country": "country_code",
    "kind": "kind",
    "sector": "sector",
    "status": "status",
    "value_usd": "value_usd",
    "start_date": "start_date",
    "end_date": "end_date",
    "staff_cn": "staff",
    "staff_local": "staff",
    "staff_other": "staff",
    "source": "source",
}


class PortfolioImportStore(PortfolioWriter, Protocol):
    """What the import needs from a store: the writes, and the organisations already known."""

    def organizations(self) -> list[Organization]: ...


@dataclass
class ImportReport:
    """The outcome of one import, for the CLI, the API and the import log."""

    source: str
    file_format: str
    sha256: str
    strict: bool
    rows_total: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0
    projects_in_file: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    changes: PortfolioChanges | None = None
    skipped_as_unchanged: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every row landed, 1 when any was rejected (the CLI's contract)."""
        return 1 if self.rows_rejected else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.file_format,
            "sha256": self.sha256,
            "strict": self.strict,
            "rows_total": self.rows_total,
            "rows_landed": self.rows_landed,
            "rows_rejected": self.rows_rejected,
            "projects_in_file": self.projects_in_file,
            "skipped_as_unchanged": self.skipped_as_unchanged,
            "changes": self.changes.as_dict() if self.changes else None,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }

    def lines(self) -> list[str]:
        """A readable summary, Chinese first, English beside it."""
        out = [
            f"导入 Import {self.source}: {self.rows_total} 行 rows, "
            f"{self.rows_landed} 已导入 landed, {self.rows_rejected} 被拒 rejected"
            + ("（严格模式 strict: nothing landed）" if self.strict and self.rows_rejected else "")
        ]
        if self.skipped_as_unchanged:
            out.append(
                "内容与上次导入相同，已跳过 Same content as a previous clean import: skipped"
            )
        if self.changes:
            c = self.changes
            out.append(
                f"项目 projects: {c.projects_created} 新增 created, "
                f"{c.projects_updated} 更新 updated, {c.projects_unchanged} 未变 unchanged; "
                f"站点 sites: {c.sites_created} 新增 created, {c.sites_updated} 更新 updated, "
                f"{c.sites_removed} 删除 removed"
            )
        out += [f"错误 ERROR {e.text()}" for e in self.errors]
        out += [f"警告 WARNING {w.text()}" for w in self.warnings]
        return out


def organization_code_for(value: str) -> str:
    """A stable organisation code for a name that is not yet known.

    ASCII names become an upper-case slug ("China Road & Bridge Corp." → CHINA-ROAD-BRIDGE-CORP);
    names without ASCII letters (Chinese) get ORG- and a short hash of the name.
    """
    if CODE_PATTERN.match(value) and value.upper() == value and " " not in value:
        return value
    slug = re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-").upper()[:64].rstrip("-")
    if len(re.sub(r"[^A-Z]", "", slug)) >= 2:
        return slug
    return (
        "ORG-" + hashlib.sha1(value.encode("utf-8"), usedforsecurity=False).hexdigest()[:8].upper()
    )


class PortfolioImporter:
    """Runs an import against a store; see the module docstring for the rules."""

    def __init__(
        self,
        store: PortfolioImportStore,
        catalog: CountryCatalog,
        clock: Clock,
        outside_tolerance_km: float = OUTSIDE_TOLERANCE_KM,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.outside_tolerance_km = outside_tolerance_km
        self.validator = RowValidator(catalog)

    def unchanged(self, source: RawSource) -> ImportReport | None:
        """A report for content already imported without rejections, or None.

        Lets ``demo`` start without re-reading a bundle it has already landed.
        """
        rows = self.store.clean_import_rows(source.sha256)
        if rows is None:
            return None
        report = ImportReport(source.name, source.file_format, source.sha256, strict=False)
        report.rows_total = report.rows_landed = rows
        report.skipped_as_unchanged = True
        return report

    def run(self, table: SourceTable, strict: bool = False) -> ImportReport:
        """Validate and land ``table`` (see the module docstring for the rules)."""
        started = self.clock.now()
        report = ImportReport(table.name, table.file_format, table.sha256, strict)
        report.rows_total = len(table.rows)
        if table.ignored_columns:
            report.warnings.append(
                issue("file", 0, None, "ignored_columns", ", ".join(table.ignored_columns))
            )

        grouped, rejected_codes = self._validate(table, report)
        updates, organizations = self._build(table, grouped, rejected_codes, report)
        report.projects_in_file = len(grouped)
        good = sum(len(rows) for rows in grouped.values())
        report.rows_rejected = report.rows_total - good
        if strict and report.rows_rejected:
            self._log(report, started)  # rows_landed stays 0: strict lands nothing
            return report
        report.rows_landed = good
        if updates:
            report.changes = self.store.apply_portfolio(updates, organizations, self.clock.now())
        self._log(report, started)
        return report

    def _log(self, report: ImportReport, started: datetime) -> None:
        summary = report.as_dict()
        summary["errors"] = summary["errors"][:500]  # the log keeps a bounded sample
        summary["warnings"] = summary["warnings"][:500]
        self.store.record_import(
            ImportRecord(
                source_name=report.source[:500],
                sha256=report.sha256,
                file_format=report.file_format,
                strict=report.strict,
                started_at=started,
                finished_at=self.clock.now(),
                rows_total=report.rows_total,
                rows_landed=report.rows_landed,
                rows_rejected=report.rows_rejected,
                summary=summary,
            )
        )

    def _validate(
        self, table: SourceTable, report: ImportReport
    ) -> tuple[OrderedDict[str, list[ValidRow]], set[str]]:
        """Validate records and group the good ones by project, checking cross-row rules."""
        grouped: OrderedDict[str, list[ValidRow]] = OrderedDict()
        ordinals: dict[str, int] = {}
        rejected_codes: set[str] = set()
        for raw in table.rows:
            code = str(raw.cells.get("code") or "").strip()
            # The first good row of a project must name it; later rows may leave it blank.
            row, problems = self.validator.validate(raw, name_required=code not in grouped)
            if code:
                ordinals[code] = ordinals.get(code, 0) + 1
            if row is None:
                report.errors.extend(problems)
                if code:
                    rejected_codes.add(code)
                continue
            if row.site_key is None:
                row.site_key = str(ordinals[code])
            siblings = grouped.get(code, [])
            conflict = _conflict(row, siblings)
            if conflict is not None:
                report.errors.append(conflict)
                rejected_codes.add(code)
                continue
            grouped.setdefault(code, []).append(row)
        return grouped, rejected_codes

    def _build(
        self,
        table: SourceTable,
        grouped: OrderedDict[str, list[ValidRow]],
        rejected_codes: set[str],
        report: ImportReport,
    ) -> tuple[list[ProjectUpdate], list[Organization]]:
        known = self.store.organizations()
        by_code = {o.code: o for o in known}
        by_name = {o.name.casefold(): o for o in known} | {o.name_zh: o for o in known if o.name_zh}
        wanted_orgs: dict[str, Organization] = {}
        present = set(table.columns)
        # name is required, and the country is always known (declared, or from the geometry)
        fields = frozenset(_COLUMN_FIELDS[c] for c in present if c in _COLUMN_FIELDS)
        fields |= {"name", "country_code"}
        contacts_provided = bool(present & set(CONTACT_COLUMNS))

        valid = [row for rows in grouped.values() for row in rows]
        located = self.catalog.place_many([r.geometry for r in valid if r.geometry is not None])
        placements = {id(row): placement for row, placement in zip(valid, located, strict=True)}
        updates: list[ProjectUpdate] = []
        for code, rows in grouped.items():
            values: dict[str, Any] = {}
            for row in rows:
                for column, value in row.values.items():
                    values.setdefault(column, value)
            sites = tuple(self._site(row, placements[id(row)], report) for row in rows)
            org_code = None
            if values.get("organization"):
                name = values["organization"]
                org = by_code.get(name) or by_name.get(name.casefold()) or by_name.get(name)
                if org is None:
                    org = Organization(organization_code_for(name), name)
                    by_code[org.code] = org
                    by_name[name.casefold()] = org
                wanted_orgs[org.code] = org
                org_code = org.code
            contact = next((c for c in (r.contact() for r in rows) if c), None)
            project = Project(
                code=code,
                name=values["name"],
                name_zh=values.get("name_zh"),
                organization_code=org_code,
                country_code=rows[0].country or sites[0].country_code,
                kind=values.get("kind", ProjectKind.GENERAL),
                sector=values.get("sector"),
                status=values.get("status"),
                value_usd=values.get("value_usd"),
                start_date=values.get("start_date"),
                end_date=values.get("end_date"),
                staff=StaffCounts(
                    values.get("staff_cn"), values.get("staff_local"), values.get("staff_other")
                ),
                source=values.get("source"),
                contacts=(contact,) if contact else (),
                sites=sites,
            )
            updates.append(
                ProjectUpdate(
                    project=project,
                    fields=fields & PROJECT_FIELDS,
                    replace_sites=code not in rejected_codes,
                    contacts_provided=contacts_provided,
                )
            )
        return updates, list(wanted_orgs.values())

    def _site(self, row: ValidRow, placement: Placement, report: ImportReport) -> Site:
        if row.geometry is None or row.site_key is None:  # validate() guarantees both
            raise ValueError(f"{row.raw.where} reached the import unvalidated")
        country = row.country or placement.iso2
        inside_declared = placement.iso2 == row.country and placement.distance_km == 0
        if row.country and not inside_declared:
            outside = self.catalog.distance_outside_km(row.geometry, row.country)
            # Off the declared country's own coast (its nearest land) is a coastal site, not a
            # mismatch: islands and atolls are coarse at 1:10m.
            offshore_of_own = placement.iso2 == row.country
            if outside is not None and outside > self.outside_tolerance_km and not offshore_of_own:
                actual = self.catalog.get(placement.iso2) if placement.iso2 else None
                report.warnings.append(
                    issue(
                        row.raw.where,
                        row.raw.number,
                        "country",
                        "outside_country",
                        row.country,
                        country=row.country,
                        km=f"{outside:.1f}",
                        actual_zh=f"（位于{actual.name_zh}）" if actual else "",
                        actual_en=f" (it lies in {actual.name_en})" if actual else "",
                    )
                )
        elif placement.iso2 is None:
            report.warnings.append(issue(row.raw.where, row.raw.number, None, "no_country"))
        return Site(
            key=row.site_key,
            geometry=row.geometry,
            name=row.site_name,
            country_code=country,
            precision=row.precision,
        )


def _conflict(row: ValidRow, siblings: Sequence[ValidRow]) -> RowIssue | None:
    """A project value in ``row`` that disagrees with an earlier row of the same project."""
    for column in PROJECT_VALUE_COLUMNS:
        value = row.values.get(column)
        if value is None:
            continue
        for earlier in siblings:
            first = earlier.values.get(column)
            if first is not None and first != value:
                return issue(
                    row.raw.where,
                    row.raw.number,
                    column,
                    "conflict",
                    value,
                    first=earlier.raw.number,
                    first_where=earlier.raw.where,
                    first_value=first,
                )
    keys = {earlier.site_key: earlier for earlier in siblings}
    if row.site_key in keys:
        first_row = keys[row.site_key]
        return issue(
            row.raw.where,
            row.raw.number,
            "site",
            "site_repeat",
            row.site_key,
            first_where=first_row.raw.where,
        )
    return None
