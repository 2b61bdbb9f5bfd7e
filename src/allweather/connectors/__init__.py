"""Sources: one package per connector (spec + fetch + pure parse). See README.md here."""
