"""全天候 Allweather — all-weather early warning and assessment for overseas projects."""

__version__ = "0.1.0"
