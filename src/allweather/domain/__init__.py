"""Pure domain types, taxonomy, scales and geometry math: no I/O, no framework."""
