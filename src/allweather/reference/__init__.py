"""Bundled reference data (countries, boundaries): read-only, loaded once per process."""
