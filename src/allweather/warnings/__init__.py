"""预警 — the warning use cases: rules to warnings, lifecycle, notification dispatch."""
