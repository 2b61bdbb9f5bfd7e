"""``allweather db``: schema migrations."""

from __future__ import annotations

import click

from allweather.cli.common import handle_errors, platform_from_env
from allweather.store.database import current_revision, head_revision


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@handle_errors
def upgrade_command() -> None:
    """Migrate the database to the current schema and sync reference data."""
    platform = platform_from_env(migrate=True)
    click.echo(f"数据库已是最新 database at {current_revision(platform.engine)}", err=True)
    platform.close()


@db.command("status")
@handle_errors
def status_command() -> None:
    """Print the database's schema revision and the newest one this version ships."""
    platform = platform_from_env(migrate=False)
    current = current_revision(platform.engine)
    head = head_revision()
    click.echo(f"current={current or '-'} head={head}")
    platform.close()
    if current != head:
        raise SystemExit(1)
