"""Bundled data files (see DATA-LICENSES.md at the repository root for origin and licence)."""
