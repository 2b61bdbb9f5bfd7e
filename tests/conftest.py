"""Shared fixtures: real databases (SQLite always; PostgreSQL/PostGIS when configured).

ALLWEATHER_TEST_DATABASE_URL points at a throwaway PostgreSQL database (PostGIS available); the
store tests then run against both backends. Without it they skip with a reason — unless
ALLWEATHER_REQUIRE_SERVICES=1 (set by CI), where a missing service is a failure, not a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete

from allweather.domain.clock import FixedClock
from allweather.platform import Platform
from allweather.reference.countries import CountryCatalog, country_catalog
from allweather.settings import Settings
from allweather.store.database import make_engine, upgrade
from allweather.store.portfolio import SqlPortfolioStore
from allweather.store.tables import ALL_DATA_TABLES

NOW = datetime(2024, 8, 19, 13, 0, tzinfo=UTC)
REQUIRE_SERVICES = os.environ.get("ALLWEATHER_REQUIRE_SERVICES", "") not in ("", "0")


def require_or_skip(reason: str) -> None:
    """Skip with ``reason`` on a developer machine; fail in CI, where services must exist."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def catalog() -> CountryCatalog:
    return country_catalog()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def _postgres_url() -> str | None:
    return os.environ.get("ALLWEATHER_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def _sqlite_engine(
    tmp_path_factory: pytest.TempPathFactory, catalog: CountryCatalog
) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")
    upgrade(engine, catalog.all())
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _postgresql_engine(catalog: CountryCatalog) -> Iterator[Engine]:
    url = _postgres_url()
    if url is None:
        require_or_skip("PostgreSQL/PostGIS tests need ALLWEATHER_TEST_DATABASE_URL")
        return
    engine = make_engine(url)
    upgrade(engine, catalog.all())
    yield engine
    engine.dispose()


def _clean(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ALL_DATA_TABLES:
            conn.execute(delete(table))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated, empty database on each backend in turn."""
    engine: Engine = request.getfixturevalue(f"_{request.param}_engine")
    _clean(engine)
    return engine


@pytest.fixture
def sqlite_engine(_sqlite_engine: Engine) -> Engine:
    """A migrated, empty SQLite database (for tests whose subject is not the backend)."""
    _clean(_sqlite_engine)
    return _sqlite_engine


@pytest.fixture
def pg_engine(_postgresql_engine: Engine) -> Engine:
    """A migrated, empty PostgreSQL/PostGIS database (PostGIS-specific tests)."""
    _clean(_postgresql_engine)
    return _postgresql_engine


@pytest.fixture
def store(engine: Engine) -> SqlPortfolioStore:
    return SqlPortfolioStore(engine)


@pytest.fixture
def platform(engine: Engine, catalog: CountryCatalog, clock: FixedClock) -> Platform:
    """A platform on each backend, with the clock pinned to NOW."""
    return Platform.assemble(
        Settings(database_url=str(engine.url.render_as_string(hide_password=False))),
        clock,
        engine,
        catalog,
    )


@pytest.fixture
def sqlite_platform(sqlite_engine: Engine, catalog: CountryCatalog, clock: FixedClock) -> Platform:
    return Platform.assemble(
        Settings(database_url=str(sqlite_engine.url)), clock, sqlite_engine, catalog
    )
