"""Use cases over sources and events: ingest, source health, scheduling, replay."""
