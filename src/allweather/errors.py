"""Error types shared by the composition roots (CLI, API)."""

from __future__ import annotations


class AllweatherError(Exception):
    """Base of the platform's own errors: a readable message and a machine code."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(AllweatherError):
    """A bad setting or configuration file."""

    code = "config_error"
    exit_code = 2


class InputError(AllweatherError):
    """Input that cannot be used at all (an unreadable file, a missing required column)."""

    code = "input_error"
    exit_code = 2
