"""``allweather exposures`` (export, rematch) and ``allweather reach`` (show, set, unset)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from allweather.cli.common import handle_errors, platform_from_env
from allweather.connectors.registry import all_connectors
from allweather.domain.reach import ReachError, ReachOverride
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.domain.vocabulary import SiteKind
from allweather.errors import ConfigError
from allweather.pipeline.match import EXPOSURE_FIELDS, exposure_records, rematch, what_if


@click.group()
def exposures() -> None:
    """Which sites each event reaches (影响范围匹配), with distances and the rule that applied."""


@exposures.command("export")
@click.option(
    "--format", "out_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--radius-km",
    type=click.FloatRange(min=0, max=20_000),
    help="What-if: every site within this many km of each stored event, ignoring the reach matrix.",
)
@handle_errors
def export_exposures(out_format: str, radius_km: float | None) -> None:
    """Write stored exposures (or a what-if radius answer) to stdout, by event then site."""
    numbers = {c.spec.number: c.spec.id for c in all_connectors()}
    platform = platform_from_env()
    count = 0
    try:
        rows: Iterator[dict[str, Any]]
        if radius_km is None:
            platform.rematch_if_due()
            rows = platform.matching.iter_exposures()
        else:
            rows = what_if(platform.matching, platform.sources, radius_km)
        records = exposure_records(rows, numbers)
        if out_format == "jsonl":
            for record in records:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        else:
            writer = csv.DictWriter(
                sys.stdout, fieldnames=list(EXPOSURE_FIELDS), lineterminator="\n"
            )
            writer.writeheader()
            for record in records:
                writer.writerow({k: "" if v is None else v for k, v in record.items()})
                count += 1
    finally:
        platform.close()
    click.echo(f"已导出 exported {count} 条影响匹配 exposures", err=True)


@exposures.command("rematch")
@handle_errors
def rematch_command() -> None:
    """Match every stored event against every site again, under the current reach rules."""
    platform = platform_from_env()
    try:
        report = rematch(platform.matching, platform.clock)
    finally:
        platform.close()
    click.echo(f"重新匹配 {report.line()}", err=True)


@click.group()
def reach() -> None:
    """The impact-reach matrix (影响范围矩阵): platform defaults and overrides (docs/reach.md)."""


@reach.command("show")
@click.option(
    "--format", "out_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@handle_errors
def reach_show(out_format: str) -> None:
    """The matrix in force: platform defaults, then organisation and project overrides."""
    platform = platform_from_env()
    try:
        matrix = platform.matching.matcher().matrix
    finally:
        platform.close()
    rows = matrix.rows()
    if out_format == "jsonl":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    click.echo(f"影响范围矩阵 reach matrix {matrix.version} ({matrix.fingerprint()})", err=True)


def _scope(organization: str | None, project: str | None) -> tuple[str, str]:
    if bool(organization) == bool(project):
        raise ConfigError("give exactly one of --organization and --project")
    return ("organization", organization) if organization else ("project", project)  # type: ignore[return-value]


_TYPE = click.Choice([t.value for t in FineType])
_GRADE = click.Choice([g.value for g in SeverityGrade])
_KIND = click.Choice([k.value for k in SiteKind])


@reach.command("set")
@click.option("--organization", help="The organisation code the override is for.")
@click.option("--project", help="The project code the override is for.")
@click.option("--type", "fine_type", type=_TYPE, required=True, help="The fine event type.")
@click.option("--severity", type=_GRADE, help="One grade (default: every grade).")
@click.option("--site-kind", type=_KIND, help="One site kind (default: every kind).")
@click.option("--km", type=float, help="The radius in km.")
@click.option("--country", is_flag=True, help="Reach every site in the event's country.")
@click.option("--none", "no_reach", is_flag=True, help="Reach no site of this scope.")
@click.option("--reason", required=True, help="Why (kept with the override).")
@handle_errors
def reach_set(
    organization: str | None,
    project: str | None,
    fine_type: str,
    severity: str | None,
    site_kind: str | None,
    km: float | None,
    country: bool,
    no_reach: bool,
    reason: str,
) -> None:
    """Override the reach for one organisation or one project; stored events are re-matched."""
    scope, code = _scope(organization, project)
    if sum([km is not None, country, no_reach]) != 1:
        raise ConfigError("give exactly one of --km, --country and --none")
    kind = "radius" if km is not None else "country" if country else "none"
    try:
        override = ReachOverride(scope, code, fine_type, severity, site_kind, kind, km, reason)  # type: ignore[arg-type]
    except ReachError as err:
        raise ConfigError(str(err)) from err
    platform = platform_from_env()
    try:
        platform.matching.set_override(override, platform.clock.now())
        report = platform.rematch_if_due()
    finally:
        platform.close()
    click.echo(f"已设置 set {override.rule}", err=True)
    if report:
        click.echo(f"重新匹配 {report.line()}", err=True)


@reach.command("unset")
@click.option("--organization", help="The organisation code.")
@click.option("--project", help="The project code.")
@click.option("--type", "fine_type", type=_TYPE, required=True)
@click.option("--severity", type=_GRADE)
@click.option("--site-kind", type=_KIND)
@handle_errors
def reach_unset(
    organization: str | None,
    project: str | None,
    fine_type: str,
    severity: str | None,
    site_kind: str | None,
) -> None:
    """Remove an override; stored events are re-matched. Exit 1 when there was none."""
    scope, code = _scope(organization, project)
    key = {
        "scope": scope,
        "scope_code": code,
        "fine_type": fine_type,
        "severity": severity or "*",
        "site_kind": site_kind or "*",
    }
    platform = platform_from_env()
    try:
        removed = platform.matching.remove_override(key, platform.clock.now())
        report = platform.rematch_if_due()
    finally:
        platform.close()
    if not removed:
        click.echo("没有该覆盖设置 no such override", err=True)
        sys.exit(1)
    click.echo("已删除 removed", err=True)
    if report:
        click.echo(f"重新匹配 {report.line()}", err=True)
