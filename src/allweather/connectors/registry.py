"""Connectors register by decorator; each lives in ``connectors/<id>/`` beside its ``<id>.yml``."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from allweather.connectors.base import Connector
from allweather.connectors.errors import UnknownSourceError
from allweather.connectors.spec import SourceSpec, load_spec
from allweather.errors import ConfigError

C = TypeVar("C", bound=type[Connector])
log = logging.getLogger("allweather.connectors.registry")

_CLASSES: dict[str, type[Connector]] = {}


def register(source_id: str) -> Callable[[C], C]:
    """Class decorator: make a connector available under ``source_id``."""

    def decorate(cls: C) -> C:
        if source_id in _CLASSES and _CLASSES[source_id] is not cls:
            raise ConfigError(f"two connectors registered as {source_id!r}")
        _CLASSES[source_id] = cls
        return cls

    return decorate


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Connector], dict[str, str]]:
    """Import every connector package and pair each class with its validated spec.

    A package that fails to import is recorded in the failures (and logged) rather than
    stopping every other source; ``get_connector`` names the failure for that id.
    """
    package = Path(__file__).parent
    failures: dict[str, str] = {}
    for module in pkgutil.iter_modules([str(package)]):
        if module.ispkg and (package / module.name / "connector.py").exists():
            try:
                importlib.import_module(f"allweather.connectors.{module.name}.connector")
            except Exception as err:  # noqa: BLE001 — one broken connector must not stop the rest
                failures[module.name] = f"{type(err).__name__}: {err}"
                log.exception("connector failed to load", extra={"source": module.name})
    connectors: dict[str, Connector] = {}
    numbers: dict[int, str] = {}
    for source_id, cls in sorted(_CLASSES.items()):
        module_dir = Path(importlib.import_module(cls.__module__).__file__ or "").parent
        spec: SourceSpec = load_spec(module_dir / f"{source_id}.yml")
        if spec.id != source_id:
            raise ConfigError(f"{source_id}.yml declares id {spec.id!r}")
        if spec.number in numbers:
            raise ConfigError(
                f"source number {spec.number} used by both {numbers[spec.number]} and {source_id}"
            )
        numbers[spec.number] = source_id
        instance = cls()
        instance.spec = spec
        connectors[source_id] = instance
    return connectors, failures


def load_failures() -> dict[str, str]:
    """Connector packages that could not be imported, with the error."""
    return dict(_load()[1])


def all_connectors() -> list[Connector]:
    """Every registered connector, by id."""
    return list(_load()[0].values())


def get_connector(source_id: str) -> Connector:
    """The connector registered as ``source_id``.

    Raises:
        UnknownSourceError: listing the known ids.
    """
    connectors, failures = _load()
    if source_id in failures:
        raise ConfigError(f"connector {source_id} failed to load: {failures[source_id]}")
    try:
        return connectors[source_id]
    except KeyError:
        known = ", ".join(sorted(connectors))
        raise UnknownSourceError(f"unknown source {source_id!r}; known: {known}") from None


def source_for_number(number: int) -> str | None:
    """The source id whose events carry this number in their key."""
    for connector in _load()[0].values():
        if connector.spec.number == number:
            return connector.spec.id
    return None
