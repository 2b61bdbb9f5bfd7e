"""``allweather scores``: show, recompute, history, override, unoverride, rate."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from allweather.cli.common import handle_errors, platform_from_env, write_records
from allweather.domain.clock import parse_instant
from allweather.domain.levels import WarningLevel
from allweather.domain.scoring.baseline import CountryRating, parse_rating
from allweather.domain.scoring.index import CATEGORIES
from allweather.errors import ConfigError
from allweather.pipeline.score import SCORE_FIELDS, score_records

_CATEGORY = click.Choice(list(CATEGORIES))


@click.group()
def scores() -> None:
    """风险评分 — per project and category: score 0–10, warning level, why (docs/scoring.md)."""


@scores.command("show")
@click.option("--project", "project_code", help="Only this project (its code).")
@click.option(
    "--format", "out_format", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option("--top", type=click.IntRange(1, 20), default=3, show_default=True)
@handle_errors
def show(project_code: str | None, out_format: str, top: int) -> None:
    """Current scores: score, level, method version, confidence, override, top contributors.

    Scores are brought up to date first (changed exposures, expired overrides, a new method)."""
    platform = platform_from_env()
    try:
        platform.rematch_if_due()
        platform.refresh_scores()
        rows = platform.scores.current(project_code)
        if project_code and not rows:
            raise ConfigError(f"project {project_code!r} not found or not scored")
        records = list(score_records(rows, top))
    finally:
        platform.close()
    write_records(records, out_format, SCORE_FIELDS)
    click.echo(f"评分 scores: {len(records)} 行 rows", err=True)


@scores.command("recompute")
@click.option(
    "--history-since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Also rebuild the daily history from this Beijing day on, from stored inputs.",
)
@handle_errors
def recompute(history_since: datetime | None) -> None:
    """Recompute every project's scores from stored exposures (and close ended days)."""
    platform = platform_from_env()
    try:
        platform.rematch_if_due()
        now = platform.clock.now()
        rows = platform.scores.refresh(now)
        days = platform.scores.close_days(
            now, history_since.date() if history_since is not None else None
        )
    finally:
        platform.close()
    click.echo(
        f"重新计算 recomputed {rows} 行评分 score rows; {len(days)} 天历史 history days", err=True
    )


@scores.command("history")
@click.option("--project", "project_code", help="Only this project.")
@click.option("--category", type=_CATEGORY, help="Only this category.")
@click.option(
    "--format", "out_format", type=click.Choice(["json", "csv"]), default="csv", show_default=True
)
@handle_errors
def history(project_code: str | None, category: str | None, out_format: str) -> None:
    """Daily (end of Beijing day) scores, for trends."""
    platform = platform_from_env()
    try:
        platform.scores.close_days(platform.clock.now())
        rows = platform.scores.history(project_code, category)
    finally:
        platform.close()
    fields = (
        "project_code",
        "category",
        "day",
        "score",
        "level",
        "computed_score",
        "computed_level",
        "baseline",
        "pressure",
        "confidence",
        "override_id",
        "method_version",
    )
    write_records([{k: r[k] for k in fields} for r in rows], out_format, fields)


def _expiry(text: str, now: datetime) -> datetime:
    """``30d``, ``12h`` or an ISO 8601 instant."""
    text = text.strip()
    try:
        if text[-1:] in ("d", "h") and text[:-1].isdigit():
            amount = int(text[:-1])
            return now + (timedelta(days=amount) if text[-1] == "d" else timedelta(hours=amount))
        return parse_instant(text)
    except ValueError as err:
        raise ConfigError(f"--expires: {text!r} is neither 30d / 12h nor an ISO instant") from err


@scores.command("override")
@click.option("--project", "project_code", required=True)
@click.option("--category", type=_CATEGORY, required=True)
@click.option("--score", "score", type=click.FloatRange(0, 10), help="The score to show, 0–10.")
@click.option("--level", "level_text", help="The level to show: 1–4, red…blue, 一级…四级.")
@click.option("--reason", required=True, help="Why (kept with the override; shown beside it).")
@click.option("--expires", required=True, help="When it lapses: 30d, 12h or an ISO instant.")
@click.option("--by", "set_by", required=True, help="Who sets it.")
@handle_errors
def override(
    project_code: str,
    category: str,
    score: float | None,
    level_text: str | None,
    reason: str,
    expires: str,
    set_by: str,
) -> None:
    """Set an analyst's score or level; it holds through every recompute until it expires."""
    if score is None and level_text is None:
        raise ConfigError("give --score, --level or both")
    if not reason.strip():
        raise ConfigError("--reason: must not be empty")
    try:
        level = None if level_text is None else WarningLevel.parse(level_text)
    except ValueError as err:
        raise ConfigError(f"--level: {err}") from err
    platform = platform_from_env()
    try:
        now = platform.clock.now()
        expires_at = _expiry(expires, now)
        if expires_at <= now:
            raise ConfigError("--expires: must be in the future")
        try:
            new_id = platform.scores.set_override(
                project_code, category, score, level, reason.strip(), set_by, expires_at, now
            )
        except LookupError as err:
            raise ConfigError(str(err)) from err
    finally:
        platform.close()
    click.echo(f"人工调整 override #{new_id} until {expires_at.isoformat()}", err=True)


@scores.command("unoverride")
@click.argument("override_id", type=int)
@handle_errors
def unoverride(override_id: int) -> None:
    """Revoke an override before it expires."""
    platform = platform_from_env()
    try:
        done = platform.scores.revoke_override(override_id, platform.clock.now())
    finally:
        platform.close()
    if not done:
        raise ConfigError(f"override #{override_id} not found or already revoked")
    click.echo(f"已撤销 revoked override #{override_id}", err=True)


@scores.command("rate")
@click.option("--country", required=True, help="ISO 3166 code or name.")
@click.option(
    "--scale",
    required=True,
    help="mfa_travel (red/orange/yellow/blue) or sinosure (1–9, 1 = lowest risk).",
)
@click.option("--value", required=True)
@click.option("--source", required=True, help="Where the rating is published.")
@click.option("--as-of", "as_of", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--by", "entered_by", required=True)
@handle_errors
def rate(
    country: str, scale: str, value: str, source: str, as_of: datetime, entered_by: str
) -> None:
    """Enter a country rating users know (MFA travel level, Sinosure) as a baseline input."""
    try:
        parsed_scale, parsed_value = parse_rating(scale, value)
    except ValueError as err:
        raise ConfigError(str(err)) from err
    if not source.strip():
        raise ConfigError("--source: must not be empty")
    platform = platform_from_env()
    try:
        try:
            iso2 = platform.catalog.resolve(country).iso2
        except ValueError as err:
            raise ConfigError(f"--country: {err}") from err
        rating = CountryRating(iso2, parsed_scale, parsed_value, source.strip(), as_of.date())
        platform.scores.set_rating(rating, entered_by, platform.clock.now())
    finally:
        platform.close()
    click.echo(
        f"国家评级 rating {iso2} {parsed_scale.value}={parsed_value} ({as_of.date()})", err=True
    )
