from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from allweather.store.database import current_revision, head_revision, sync_countries, upgrade
from allweather.store.tables import countries, metadata


def test_database_is_at_the_head_revision(engine):
    assert current_revision(engine) == head_revision()


def test_migrations_create_exactly_the_declared_tables(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # PostGIS brings its own table (spatial_ref_sys), and the GiST index on sites.geometry exists
    # only there (created by the migration, not declared for SQLite); nothing else may differ.
    postgis_only = {("remove_table", "spatial_ref_sys"), ("remove_index", "ix_sites_geometry")}
    ours = [d for d in diff if (d[0], getattr(d[1], "name", None)) not in postgis_only]
    assert ours == []


def test_upgrade_is_idempotent_and_countries_are_synced(engine, catalog):
    upgrade(engine, catalog.all())
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(countries)).scalar_one() == len(
            catalog
        )
        kenya = conn.execute(select(countries).where(countries.c.iso2 == "KE")).one()
    assert (kenya.iso3, kenya.name_en, kenya.name_zh) == ("KEN", "Kenya", "肯尼亚")
    assert sync_countries(engine, catalog.all()) == 0  # nothing left to change


def test_every_table_has_a_primary_key(engine):
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        assert inspector.get_pk_constraint(table.name)["constrained_columns"], table.name
