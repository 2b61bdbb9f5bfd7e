"""The only layer with SQL: SQLite by default, PostgreSQL with PostGIS in production."""
