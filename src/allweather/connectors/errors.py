"""What can go wrong with a source, and what the runner does about it."""

from __future__ import annotations

from allweather.errors import AllweatherError


class SourceError(AllweatherError):
    """Base for source problems."""

    code = "source_error"


class SourceUnavailableError(SourceError):
    """Transient: the source did not answer or answered 5xx/429. Retried later; data kept."""

    code = "source_unavailable"


class SourceNotFoundError(SourceUnavailableError):
    """The source answered 404/410: nothing there (yet), such as an unpublished release."""

    code = "source_not_found"


class SourceAuthError(SourceError):
    """The source refused our credentials: its configuration must be fixed."""

    code = "source_auth"


class SourceFormatError(SourceError):
    """Structural drift: the payload is not in the format this connector reads. The run fails."""

    code = "source_format"
    exit_code = 2


class UnknownSourceError(SourceError):
    """No connector is registered under this id."""

    code = "unknown_source"
    exit_code = 2
