"""预警 — warning rules, lifecycle and texts (pure domain)."""
