"""影响范围 — the impact-reach matrix: whether an event reaches a site.

For each fine event type × severity grade × site kind the matrix gives a radius in km (an event
reaches a site whose geometry lies within that distance of the event's location), or says the
type acts on the whole country (coups, sanctions, currency crises …). A second table says what
an imprecise event location does: widen the radius (and flag the match), make the reach
country-wide, or reach nothing.

The platform defaults ship in ``allweather/data/reach.yaml`` with the reasoning beside every
number (docs/reach.md). An organisation and a single project can override single numbers;
a project override beats an organisation override, which beats the platform default, and within
one scope the most specific override wins.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml

from allweather.domain.events import EventPrecision
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.domain.vocabulary import SiteKind

MAX_RADIUS_KM = 5000.0
SCOPES = ("organization", "project")
BUNDLED = "reach.yaml"

_GRADES = tuple(SeverityGrade)
_SITE_KINDS = tuple(SiteKind)
_SCOPE_ORDER = {"organization": 0, "project": 1}


class ReachError(ValueError):
    """Bad reach data: the message names the field path.

    e.g. ``"types.earthquake.radius_km.II: -5 is not a positive number of km"``.
    """


class ReachKind(StrEnum):
    """How far an event acts: within a radius, on the whole country, or on no site."""

    RADIUS = "radius"
    COUNTRY = "country"
    NONE = "none"


@dataclass(frozen=True)
class Reach:
    """What applies to one (event, site) pair, before any widening for location precision."""

    kind: ReachKind
    radius_km: float | None  # RADIUS only; includes nothing from precision
    rule: str  # e.g. "platform:earthquake/II/point", "project:P-1:armed_clash/*/line"
    why: str


@dataclass(frozen=True)
class PrecisionRule:
    """What an event location of this precision does to the match.

    ``RADIUS`` widens the type's radius by ``widen_km``; ``COUNTRY`` and ``NONE`` replace the
    type's reach (every site in the event's country, flagged; no site at all).
    """

    precision: EventPrecision
    kind: ReachKind
    widen_km: float
    why: str

    @property
    def flags(self) -> bool:
        """True when a match under this rule must be marked as resting on an imprecise place."""
        return self.kind is not ReachKind.RADIUS or self.widen_km > 0


@dataclass(frozen=True)
class ReachOverride:
    """An organisation's or one project's own number for a fine type.

    ``severity`` None applies to every grade, ``site_kind`` None to every kind. String values
    (from a CLI or a database row) are accepted for the enum fields and converted.

    Raises:
        ReachError: naming the field, for an unknown scope or code, a radius out of range, a
            radius on a country or none reach, or an empty reason.
    """

    scope: str  # "organization" | "project"
    scope_code: str  # organisation code or project code
    fine_type: FineType
    severity: SeverityGrade | None
    site_kind: SiteKind | None
    kind: ReachKind
    radius_km: float | None
    reason: str

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ReachError(f"scope: {self.scope!r} is not one of {', '.join(SCOPES)}")
        if not isinstance(self.scope_code, str) or not self.scope_code.strip():
            raise ReachError(f"scope_code: {self.scope_code!r} is not an {self.scope} code")
        set_ = object.__setattr__
        set_(self, "fine_type", _member(FineType, self.fine_type, "fine_type"))
        if self.severity is not None:
            set_(self, "severity", _member(SeverityGrade, self.severity, "severity"))
        if self.site_kind is not None:
            set_(self, "site_kind", _member(SiteKind, self.site_kind, "site_kind"))
        set_(self, "kind", _member(ReachKind, self.kind, "kind"))
        if self.kind is ReachKind.RADIUS:
            if self.radius_km is None:
                raise ReachError("radius_km: a radius reach needs a radius in km")
            set_(self, "radius_km", _radius(self.radius_km, "radius_km"))
        elif self.radius_km is not None:
            raise ReachError(
                f"radius_km: a {self.kind} reach takes no radius (got {self.radius_km!r})"
            )
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ReachError("reason: an override needs a reason")

    @property
    def key(self) -> tuple[str, str, FineType, SeverityGrade | None, SiteKind | None]:
        """What the override applies to; a later override with the same key replaces it."""
        return (self.scope, self.scope_code, self.fine_type, self.severity, self.site_kind)

    @property
    def rule(self) -> str:
        """The readable rule id: ``project:P-1:armed_clash/*/line``, ``organization:X:coup``."""
        head = f"{self.scope}:{self.scope_code}:{self.fine_type}"
        if self.severity is None and self.site_kind is None:
            return head
        return f"{head}/{self.severity or '*'}/{self.site_kind or '*'}"


@dataclass(frozen=True)
class _TypeRule:
    """One fine type's platform default: its reach kind and, for RADIUS, every radius."""

    kind: ReachKind
    radii: Mapping[SiteKind, Mapping[SeverityGrade, float]]  # empty unless RADIUS
    why: str


class ReachMatrix:
    """The platform defaults plus any overrides; immutable.

    Build it with ``from_yaml`` or ``default``; ``with_overrides`` returns a new matrix.
    """

    def __init__(
        self,
        version: str,
        types: Mapping[FineType, _TypeRule],
        precision: Mapping[EventPrecision, PrecisionRule],
        overrides: Sequence[ReachOverride] = (),
    ) -> None:
        self._version = version
        self._types = dict(types)
        self._precision = dict(precision)
        merged: dict[tuple[Any, ...], ReachOverride] = {}
        for override in overrides:
            merged.pop(override.key, None)  # a later override replaces an earlier one
            merged[override.key] = override
        self._overrides = tuple(merged.values())

        self._platform: dict[tuple[FineType, SeverityGrade, SiteKind], Reach] = {}
        for fine_type, rule in self._types.items():
            for grade in _GRADES:
                for site_kind in _SITE_KINDS:
                    if rule.kind is ReachKind.RADIUS:
                        reach = Reach(
                            ReachKind.RADIUS,
                            rule.radii[site_kind][grade],
                            f"platform:{fine_type}/{grade}/{site_kind}",
                            rule.why,
                        )
                    else:
                        reach = Reach(rule.kind, None, f"platform:{fine_type}", rule.why)
                    self._platform[(fine_type, grade, site_kind)] = reach
        self._scoped = {
            o.key: Reach(o.kind, o.radius_km, o.rule, o.reason) for o in self._overrides
        }
        self._scope_codes = frozenset((o.scope, o.scope_code) for o in self._overrides)
        self._max_radius: dict[tuple[FineType, SeverityGrade], float | None] = {}
        for fine_type in self._types:
            for grade in _GRADES:
                radii = [
                    r.radius_km
                    for k in _SITE_KINDS
                    if (r := self._platform[(fine_type, grade, k)]).radius_km is not None
                ]
                radii += [
                    o.radius_km
                    for o in self._overrides
                    if o.fine_type is fine_type
                    and o.severity in (None, grade)
                    and o.radius_km is not None
                ]
                self._max_radius[(fine_type, grade)] = max(radii) if radii else None
        self._fingerprint: str | None = None

    # ── loading ──────────────────────────────────────────────────────────────────────────

    @classmethod
    def from_yaml(cls, text: str, source: str = BUNDLED) -> ReachMatrix:
        """Read and validate a matrix file (the shape of ``allweather/data/reach.yaml``).

        Raises:
            ReachError: ``"<source>: <field path>: <problem>"`` for invalid YAML, unknown or
                missing keys, a missing fine type or precision code, a bad grade key, a radius
                that is not a positive finite number of km up to 5000, or radii growing as
                severity falls.
        """
        try:
            data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader that refuses duplicate keys
            return _parse(data)
        except ReachError as exc:
            raise ReachError(f"{source}: {exc}") from None
        except yaml.YAMLError as exc:
            raise ReachError(f"{source}: not valid YAML: {exc}") from None

    @classmethod
    def default(cls) -> ReachMatrix:
        """The platform defaults bundled with the package (``allweather/data/reach.yaml``)."""
        return _bundled()

    def with_overrides(self, overrides: Sequence[ReachOverride]) -> ReachMatrix:
        """A new matrix with these overrides added; the original is unchanged.

        An override with the same key (scope, code, type, grade, site kind) as an existing one,
        or as an earlier one in ``overrides``, replaces it.
        """
        for index, override in enumerate(overrides):
            if not isinstance(override, ReachOverride):
                raise ReachError(f"overrides[{index}]: {override!r} is not a ReachOverride")
        return ReachMatrix(
            self._version, self._types, self._precision, (*self._overrides, *overrides)
        )

    # ── queries ──────────────────────────────────────────────────────────────────────────

    @property
    def version(self) -> str:
        """The matrix version of the defaults, recorded on every exposure."""
        return self._version

    @property
    def overrides(self) -> tuple[ReachOverride, ...]:
        return self._overrides

    def reach(
        self,
        fine_type: FineType,
        severity: SeverityGrade,
        site_kind: SiteKind,
        organization: str | None = None,
        project: str | None = None,
    ) -> Reach:
        """The reach of an event of this type and grade on a site of this kind.

        Resolution: the project's override, else the organisation's, else the platform default;
        within one scope severity + site kind beats severity, which beats site kind, which beats
        the type alone. Precision is applied separately (``precision_rule``).
        """
        for scope, code in (("project", project), ("organization", organization)):
            if code is None or (scope, code) not in self._scope_codes:
                continue
            for key in (
                (scope, code, fine_type, severity, site_kind),
                (scope, code, fine_type, severity, None),
                (scope, code, fine_type, None, site_kind),
                (scope, code, fine_type, None, None),
            ):
                hit = self._scoped.get(key)
                if hit is not None:
                    return hit
        return self._platform[(fine_type, severity, site_kind)]

    def precision_rule(self, precision: EventPrecision) -> PrecisionRule:
        return self._precision[precision]

    def max_radius_km(self, fine_type: FineType, severity: SeverityGrade) -> float | None:
        """The largest radius of this type and grade over every site kind and every override.

        None when no rule gives a radius (country-wide or none everywhere). The matcher's
        search bound: add the precision rule's ``widen_km`` to it.
        """
        return self._max_radius[(fine_type, severity)]

    def fingerprint(self) -> str:
        """A short stable hash of the version, every rule and reason, and the overrides.

        It changes when anything changes (so a stored exposure can tell that a re-match is due)
        and does not depend on the order in which overrides were given.
        """
        if self._fingerprint is None:
            canonical = {
                "version": self._version,
                "precision": {
                    str(p): [str(r.kind), r.widen_km, r.why] for p, r in self._precision.items()
                },
                "types": {
                    str(t): [
                        str(r.kind),
                        {str(k): {str(g): km for g, km in gs.items()} for k, gs in r.radii.items()},
                        r.why,
                    ]
                    for t, r in self._types.items()
                },
                "overrides": sorted(
                    [
                        o.scope,
                        o.scope_code,
                        str(o.fine_type),
                        o.severity and str(o.severity),
                        o.site_kind and str(o.site_kind),
                        str(o.kind),
                        o.radius_km,
                        o.reason,
                    ]
                    for o in self._overrides
                ),
            }
            text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str)
            self._fingerprint = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        return self._fingerprint

    def rows(self) -> list[dict[str, Any]]:
        """The matrix as a flat table for display and export.

        Keys: scope (platform / organization / project), scope_code (None for the platform),
        fine_type, severity, site_kind, kind, radius_km, why. severity None means every grade,
        site_kind None every kind. Platform rows come first in taxonomy order; a grade whose
        radius is the same for every site kind is one row.
        """
        out: list[dict[str, Any]] = []
        for fine_type in FineType:
            rule = self._types[fine_type]
            if rule.kind is not ReachKind.RADIUS:
                out.append(_row("platform", None, fine_type, None, None, rule.kind, None, rule.why))
                continue
            for grade in _GRADES:
                radii = {k: rule.radii[k][grade] for k in _SITE_KINDS}
                if len(set(radii.values())) == 1:
                    km = radii[SiteKind.POINT]
                    out.append(
                        _row("platform", None, fine_type, grade, None, rule.kind, km, rule.why)
                    )
                    continue
                for site_kind, km in radii.items():
                    out.append(
                        _row("platform", None, fine_type, grade, site_kind, rule.kind, km, rule.why)
                    )
        for o in sorted(self._overrides, key=_override_order):
            out.append(
                _row(
                    o.scope,
                    o.scope_code,
                    o.fine_type,
                    o.severity,
                    o.site_kind,
                    o.kind,
                    o.radius_km,
                    o.reason,
                )
            )
        return out

    def __repr__(self) -> str:
        return (
            f"ReachMatrix(version={self._version!r}, overrides={len(self._overrides)}, "
            f"fingerprint={self.fingerprint()!r})"
        )


def _row(
    scope: str,
    scope_code: str | None,
    fine_type: FineType,
    severity: SeverityGrade | None,
    site_kind: SiteKind | None,
    kind: ReachKind,
    radius_km: float | None,
    why: str,
) -> dict[str, Any]:
    return {
        "scope": scope,
        "scope_code": scope_code,
        "fine_type": str(fine_type),
        "severity": None if severity is None else str(severity),
        "site_kind": None if site_kind is None else str(site_kind),
        "kind": str(kind),
        "radius_km": radius_km,
        "why": why,
    }


def _override_order(o: ReachOverride) -> tuple[int, str, int, int, int]:
    return (
        _SCOPE_ORDER[o.scope],
        o.scope_code,
        list(FineType).index(o.fine_type),
        -1 if o.severity is None else o.severity.rank,
        -1 if o.site_kind is None else _SITE_KINDS.index(o.site_kind),
    )


@cache
def _bundled() -> ReachMatrix:
    text = resources.files("allweather.data").joinpath(BUNDLED).read_text("utf-8")
    return ReachMatrix.from_yaml(text, source=f"allweather/data/{BUNDLED}")


# ── validation ──────────────────────────────────────────────────────────────────────────

_E = TypeVar("_E", bound=StrEnum)


def _member(enum: type[_E], value: object, path: str) -> _E:
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    known = ", ".join(m.value for m in enum)
    raise ReachError(f"{path}: {value!r} is not one of {known}")


def _radius(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReachError(f"{path}: {value!r} is not a positive number of km")
    km = float(value)
    if not math.isfinite(km) or km <= 0:
        raise ReachError(f"{path}: {value!r} is not a positive number of km")
    if km > MAX_RADIUS_KM:
        raise ReachError(f"{path}: {value!r} km is more than the {MAX_RADIUS_KM:g} km limit")
    return km


def _widen(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReachError(f"{path}: {value!r} is not a number of km (0 or more)")
    km = float(value)
    if not math.isfinite(km) or km < 0 or km > MAX_RADIUS_KM:
        raise ReachError(f"{path}: {value!r} is not a number of km from 0 to {MAX_RADIUS_KM:g}")
    return km


def _mapping(
    value: object, path: str, allowed: Sequence[str], required: Sequence[str] = ()
) -> dict[str, Any]:
    """A mapping with only the allowed keys and every required one, or a ReachError."""
    if not isinstance(value, dict):
        raise ReachError(f"{path}: expected a mapping, got {_describe(value)}")
    for key in value:
        if key not in allowed:
            raise ReachError(f"{_join(path, key)}: unknown key; allowed: {', '.join(allowed)}")
    for key in required:
        if key not in value:
            raise ReachError(f"{_join(path, key)}: missing")
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ReachError(f"{path}: expected non-empty text, got {_describe(value)}")
    return value.strip()


def _kind(entry: Mapping[str, Any], path: str) -> ReachKind:
    if "reach" not in entry:
        return ReachKind.RADIUS
    return _member(ReachKind, entry["reach"], _join(path, "reach"))


def _grades(value: object, path: str) -> dict[SeverityGrade, float]:
    names = [g.value for g in _GRADES]
    if not isinstance(value, dict):
        raise ReachError(f"{path}: expected a radius for each grade {', '.join(names)}")
    for key in value:
        if key not in names:
            raise ReachError(f"{_join(path, key)}: unknown grade; grades are {', '.join(names)}")
    radii: dict[SeverityGrade, float] = {}
    for grade in _GRADES:
        if grade.value not in value:
            raise ReachError(f"{_join(path, grade.value)}: missing; every grade needs a radius")
        radii[grade] = _radius(value[grade.value], _join(path, grade.value))
    for worse, milder in zip(_GRADES, _GRADES[1:], strict=False):
        if radii[milder] > radii[worse]:
            raise ReachError(
                f"{_join(path, milder.value)}: {radii[milder]:g} km is wider than grade "
                f"{worse.value} ({radii[worse]:g} km); a milder grade cannot reach further"
            )
    return radii


def _parse(data: object) -> ReachMatrix:
    top = _mapping(
        data, "(top level)", ("version", "precision", "types"), ("version", "precision", "types")
    )
    version = top["version"]
    if not isinstance(version, str) or not version.strip():
        raise ReachError(
            f'version: expected quoted text such as "2026.1", got {_describe(version)}'
        )

    codes = [p.value for p in EventPrecision]
    precision_data = _mapping(top["precision"], "precision", codes)
    precision: dict[EventPrecision, PrecisionRule] = {}
    for code in codes:
        path = f"precision.{code}"
        if code not in precision_data:
            raise ReachError(f"{path}: missing; every precision code needs a rule")
        entry = _mapping(precision_data[code], path, ("widen_km", "reach", "why"), ("why",))
        kind = _kind(entry, path)
        if kind is ReachKind.RADIUS:
            if "widen_km" not in entry:
                raise ReachError(f"{path}.widen_km: missing (or give reach: country or none)")
            widen = _widen(entry["widen_km"], f"{path}.widen_km")
        elif "widen_km" in entry:
            raise ReachError(f"{path}.widen_km: a {kind} reach takes no widening")
        else:
            widen = 0.0
        why = _text(entry["why"], f"{path}.why")
        precision[EventPrecision(code)] = PrecisionRule(EventPrecision(code), kind, widen, why)

    fine_types = [t.value for t in FineType]
    types_data = top["types"]
    if isinstance(types_data, dict):
        for key in types_data:
            if key not in fine_types:
                raise ReachError(f"types.{key}: unknown fine type; see allweather.domain.taxonomy")
    types_data = _mapping(types_data, "types", fine_types)
    types: dict[FineType, _TypeRule] = {}
    for fine_type in FineType:
        path = f"types.{fine_type}"
        if fine_type.value not in types_data:
            raise ReachError(f"{path}: missing; every fine type needs an entry")
        entry = _mapping(
            types_data[fine_type.value],
            path,
            ("reach", "radius_km", "line", "area", "why"),
            ("why",),
        )
        kind = _kind(entry, path)
        radii: dict[SiteKind, dict[SeverityGrade, float]] = {}
        if kind is ReachKind.RADIUS:
            if "radius_km" not in entry:
                raise ReachError(f"{path}.radius_km: missing (or give reach: country or none)")
            base = _grades(entry["radius_km"], f"{path}.radius_km")
            for site_kind in _SITE_KINDS:
                section = site_kind.value
                if section in entry:
                    radii[site_kind] = _grades(entry[section], f"{path}.{section}")
                else:
                    radii[site_kind] = base
        else:
            for key in ("radius_km", "line", "area"):
                if key in entry:
                    raise ReachError(f"{path}.{key}: a {kind} reach takes no radius")
        types[fine_type] = _TypeRule(kind, radii, _text(entry["why"], f"{path}.why"))

    return ReachMatrix(version.strip(), types, precision)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path != "(top level)" else str(key)


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict | list):
        return f"a {type(value).__name__}"
    return repr(value)


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the last)."""


def _no_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise ReachError(f"line {line}: {key!r} is given twice")
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)
