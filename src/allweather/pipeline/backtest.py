"""回测 Backtest: does a higher score at month m rank projects by the events of month m+1?

For every month m of a range (but the last), each project's category index at the end of m is
computed exactly as the platform computes it — ``SqlScoreStore.pressures`` summed into the
event pressure, the country baseline from the store, ``combine(baseline, pressure)`` — and set
against the outcome y = 1 when at least one event of that category reaches the project in
month m+1 (``Outcome`` says which events count). The competitor is persistence: "what happened
this month happens next month" (x_prev = 1 when such an event reached the project in month m;
also reported graded, by the number of those events).

The months are split in two: the first half trains a logistic calibration of the score into a
probability (in ``event_load(score)``, the log scale the index saturates on) and the
persistence rates P(y | x_prev); the second half tests them. Figures on the test half: AUC of
the score and of persistence (ranking), Brier score of the calibrated score, of persistence
and of climatology (the training base rate); the AUC of the score's two parts (event pressure,
country baseline) tells which of them ranks. docs/scoring-backtest.md states the method and
the figures measured on the bundled real data.

Months are Beijing calendar months (北京时间), as the platform's daily history closes Beijing
days: the score of month m is the one the history records for its last day.

Every event counts from the moment it occurred (``known_by`` is not applied): the recordings
were ingested after the fact, so this is what a feed without delay would have given.
"""

from __future__ import annotations

import gzip
import json
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from allweather.connectors.registry import get_connector
from allweather.domain.clock import Clock
from allweather.domain.scoring.index import Proximity, combine, pressure
from allweather.domain.taxonomy import MofcomCategory
from allweather.pipeline.ingest import Ingestor
from allweather.reference.countries import CountryCatalog
from allweather.store.scores import SqlScoreStore, day_end
from allweather.store.tables import projects, score_inputs

UCDP_SYRIA_FILE = "ucdp_ged_v19_1_syria_2016-2019.csv.gz"
USGS_FILE = "usgs_comcat_m5plus_2013-2023.csv.gz"
DEMO_PORTFOLIO = "demo-portfolio.geojson.gz"
UCDP_MONTHS = (date(2016, 1, 1), date(2019, 12, 1))
USGS_MONTHS = (date(2013, 1, 1), date(2023, 12, 1))
VIRTUAL_PREFIX = "BT"
SHOWN_DECIMALS = 2  # scores as the platform shows them (pipeline/score.py)

_NEWTON_STEPS = 100
_INTERCEPT_RIDGE = 1e-6  # keeps the intercept finite when every outcome is alike


class BacktestPlatform(Protocol):
    """What the backtest needs of ``allweather.platform.Platform`` (a layer above this one)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def catalog(self) -> CountryCatalog: ...

    @property
    def scores(self) -> SqlScoreStore: ...

    def import_file(self, path: Path) -> object: ...

    def ingestor(self) -> Ingestor: ...


class Outcome(StrEnum):
    """Which events of month m+1 make y = 1."""

    # Every score input of the category, as the platform stores it. Events located only to
    # their country (UCDP where_prec 5–6) reach every project of the country alike, so in Syria
    # this outcome is 1 for every project nearly every month: it cannot rank anything.
    ANY = "any"
    # Events located by distance (proximity radius): 波及 — the event's reach covers the site.
    LOCATED = "located"
    # Located events within half their reach, where their weight is at least ½ (近距离).
    NEAR = "near"

    @property
    def label(self) -> str:
        return {
            Outcome.ANY: "任一事件 any event reaching the project",
            Outcome.LOCATED: "波及 a located event reaching the project",
            Outcome.NEAR: "近距离 a located event within half its reach",
        }[self]


# ------------------------------------------------------------------ metrics


def auc(scores: ArrayLike, outcomes: ArrayLike) -> float | None:
    """Area under the ROC curve (Mann–Whitney U / n₊n₋), a tie counting ½; None when every
    outcome is alike (one class empty).

    Raises:
        ValueError: lengths differ, a score is not finite or an outcome is not 0 or 1.
    """
    s, y = _pair(scores, outcomes)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = _average_ranks(s)
    u = float(ranks[y].sum()) - positives * (positives + 1) / 2.0
    return u / (positives * negatives)


def brier(probabilities: ArrayLike, outcomes: ArrayLike) -> float:
    """Mean squared difference between forecast probabilities and 0/1 outcomes.

    Raises:
        ValueError: lengths differ, nothing to score, or a probability outside [0, 1].
    """
    p, y = _pair(probabilities, outcomes)
    if len(p) == 0:
        raise ValueError("brier: no forecasts")
    if p.min() < 0.0 or p.max() > 1.0:
        raise ValueError("brier: probabilities must lie in [0, 1]")
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True)
class Logistic:
    """p(x) = 1 / (1 + exp(−(a + b·(x − center)/scale))): a fitted score → probability map."""

    intercept: float
    slope: float  # per standard deviation of the training scores
    center: float
    scale: float

    def __call__(self, x: ArrayLike) -> NDArray[np.float64]:
        z = (np.asarray(x, dtype=np.float64) - self.center) / self.scale
        return _sigmoid(self.intercept + self.slope * z)


def fit_logistic(x: ArrayLike, y: ArrayLike, ridge: float = 1.0) -> Logistic:
    """Logistic regression of 0/1 ``y`` on one feature ``x`` with an intercept (Newton / IRLS).

    ``x`` is standardised first; ``ridge`` is the L2 penalty on the standardised slope (a
    N(0, 1/ridge) prior), so separable data give a steep but finite slope. The intercept carries
    a negligible penalty that only keeps it finite when every ``y`` is alike. ``ridge = 0``
    gives the plain maximum-likelihood fit (which diverges on separable data).

    Raises:
        ValueError: empty input, lengths differ, non-finite ``x`` or a negative ``ridge``.
    """
    xs, ys = _pair(x, y)
    if len(xs) == 0:
        raise ValueError("fit_logistic: no data")
    if ridge < 0:
        raise ValueError("fit_logistic: ridge must be ≥ 0")
    center = float(xs.mean())
    spread = float(xs.std())
    scale = spread if spread > 0 else 1.0
    design = np.column_stack([np.ones(len(xs)), (xs - center) / scale])
    target = ys.astype(np.float64)
    penalty = np.diag([_INTERCEPT_RIDGE, ridge if spread > 0 else 1.0])

    def loss(w: NDArray[np.float64]) -> float:
        eta = design @ w
        return float(np.sum(np.logaddexp(0.0, eta) - target * eta) + 0.5 * w @ penalty @ w)

    w = np.zeros(2)
    current = loss(w)
    for _ in range(_NEWTON_STEPS):
        p = _sigmoid(design @ w)
        gradient = design.T @ (p - target) + penalty @ w
        hessian = (design * (p * (1.0 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        factor = 1.0
        while True:  # damped Newton: the loss is convex, halving the step always ends
            candidate = w - factor * step
            value = loss(candidate)
            if value <= current or factor < 1e-8:
                break
            factor /= 2.0
        w, current = candidate, value
        if float(np.max(np.abs(factor * step))) < 1e-10:
            break
    return Logistic(float(w[0]), float(w[1]), center, scale)


def event_load(index: ArrayLike) -> NDArray[np.float64]:
    """−ln(1 − index/10): the index's distance from 10 on the log scale it saturates on.

    The index is 10 − (10 − baseline)·e^(−S), so this is −ln(1 − baseline/10) + S: linear in
    the summed event load S. The calibration is a logistic in it; a gap to 10 below 1e-13 of
    the scale (where a float stops telling indices apart) counts as 1e-13.
    """
    gap = np.maximum(1.0 - np.asarray(index, dtype=np.float64) / 10.0, 1e-13)
    out: NDArray[np.float64] = -np.log(gap)
    return out


@dataclass(frozen=True)
class Calibration:
    """Index → probability of an event next month: a logistic in ``event_load(index)``."""

    logistic: Logistic

    def __call__(self, index: ArrayLike) -> NDArray[np.float64]:
        return self.logistic(event_load(index))


def _pair(values: ArrayLike, outcomes: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    v = np.asarray(values, dtype=np.float64).ravel()
    y = np.asarray(outcomes).ravel()
    if len(v) != len(y):
        raise ValueError(f"{len(v)} values but {len(y)} outcomes")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite numbers")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("outcomes must be 0 or 1")
    return v, y.astype(bool)


def _average_ranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-based ranks, tied values sharing the mean of the ranks they span."""
    order = np.argsort(values, kind="mergesort")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return ranks


def _sigmoid(eta: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.exp(-np.logaddexp(0.0, -eta))
    return out


# ------------------------------------------------------------------ virtual projects


def virtual_sites(catalog: CountryCatalog, iso2: str, step_deg: float) -> dict[str, Any]:
    """A deterministic grid of point "projects" inside a country, as an importable GeoJSON.

    The bundled demo portfolio has no project in Syria, where the bundled UCDP recording lies,
    so the Syria backtest scores virtual projects: one point at the centre of every
    ``step_deg`` × ``step_deg`` cell (cells aligned on multiples of ``step_deg``) whose centre
    lies inside the country's boundary (Natural Earth 1:10m). Codes run ``BT-SY-0001`` … from
    south-west to north-east; kind 一般项目 (general).

    Raises:
        ValueError: no boundary for ``iso2``, a non-positive step, or no cell centre inside.
    """
    code = iso2.upper()
    boundary = catalog.boundary(code)
    if boundary is None:
        raise ValueError(f"no boundary for country {code!r}")
    if not step_deg > 0:
        raise ValueError("step_deg must be positive")
    west, south, east, north = boundary.bounds
    rows = range(math.floor(south / step_deg), math.ceil(north / step_deg))
    cols = range(math.floor(west / step_deg), math.ceil(east / step_deg))
    lats = np.array([round((j + 0.5) * step_deg, 6) for j in rows])
    lons = np.array([round((i + 0.5) * step_deg, 6) for i in cols])
    grid_lat, grid_lon = np.meshgrid(lats, lons, indexing="ij")
    inside = shapely.contains_xy(boundary, grid_lon.ravel(), grid_lat.ravel())
    features = []
    for n, (lat, lon) in enumerate(
        zip(grid_lat.ravel()[inside], grid_lon.ravel()[inside], strict=True), start=1
    ):
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": f"{VIRTUAL_PREFIX}-{code}-{n:04d}",
                    "name": f"Backtest grid point {lat:.3f}N {lon:.3f}E",
                    "name_zh": f"回测虚拟站点 {n}",
                    "country": code,
                    "kind": "general",
                    "precision": "exact",
                    "site": "grid",
                    "source": "Allweather backtest grid (virtual project, not a real one)",
                },
                "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
            }
        )
    if not features:
        raise ValueError(f"no grid point of {step_deg}° falls inside {code}")
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------ the backtest


@dataclass(frozen=True)
class BacktestResult:
    """The figures of one backtest; ``lines()`` prints them."""

    label: str
    category: MofcomCategory
    outcome: Outcome
    first_month: date
    last_month: date
    projects: int
    train_months: int
    test_months: int
    project_months: int  # test half
    positives: int  # test half
    base_rate: float  # test half
    train_base_rate: float
    auc_score: float | None
    auc_persistence: float | None
    auc_persistence_count: float | None  # graded: the number of events in month m
    auc_baseline: float | None  # the country baseline alone, test half
    auc_pressure: float | None  # the event pressure alone, test half
    auc_score_shown: float | None  # the score as users see it (2 decimals), test half
    auc_pressure_shown: float | None  # the event pressure as users see it (2 decimals)
    saturated: float  # share of test project-months whose score shows as 10.00
    brier_score: float  # calibrated score
    brier_persistence: float
    brier_climatology: float
    auc_score_all: float | None  # every month
    auc_persistence_all: float | None
    baseline_varies: bool  # False: one baseline for every project (ranking by pressure alone)
    calibration: Calibration
    persistence_rates: tuple[float, float]  # P(y=1 | x_prev=0), P(y=1 | x_prev=1), training
    seconds: float = field(default=0.0, compare=False)

    @property
    def beats_persistence(self) -> bool:
        """The score ranks the test half better than persistence (both AUCs defined)."""
        return (
            self.auc_score is not None
            and self.auc_persistence is not None
            and self.auc_score > self.auc_persistence
        )

    def figures(self) -> dict[str, Any]:
        """Plain values for a JSON report."""
        return {
            "label": self.label,
            "category": self.category.value,
            "outcome": self.outcome.value,
            "first_month": self.first_month.isoformat()[:7],
            "last_month": self.last_month.isoformat()[:7],
            "projects": self.projects,
            "train_months": self.train_months,
            "test_months": self.test_months,
            "project_months": self.project_months,
            "positives": self.positives,
            "base_rate": self.base_rate,
            "train_base_rate": self.train_base_rate,
            "auc_score": self.auc_score,
            "auc_persistence": self.auc_persistence,
            "auc_persistence_count": self.auc_persistence_count,
            "auc_baseline": self.auc_baseline,
            "auc_pressure": self.auc_pressure,
            "auc_score_shown": self.auc_score_shown,
            "auc_pressure_shown": self.auc_pressure_shown,
            "saturated": self.saturated,
            "brier_score": self.brier_score,
            "brier_persistence": self.brier_persistence,
            "brier_climatology": self.brier_climatology,
            "auc_score_all": self.auc_score_all,
            "auc_persistence_all": self.auc_persistence_all,
            "baseline_varies": self.baseline_varies,
            "calibration": {
                "feature": "-ln(1 - index/10)",
                "intercept": self.calibration.logistic.intercept,
                "slope_per_sd": self.calibration.logistic.slope,
                "center": self.calibration.logistic.center,
                "scale": self.calibration.logistic.scale,
            },
            "persistence_rates": list(self.persistence_rates),
            "beats_persistence": self.beats_persistence,
            "seconds": self.seconds,
        }

    def lines(self) -> list[str]:
        cat = self.category.label
        span = f"{self.first_month:%Y-%m}..{self.last_month:%Y-%m}"
        out = [
            f"回测 backtest {self.label}: {cat.zh} {cat.en}, {span}, {self.projects} projects; "
            f"outcome {self.outcome.label} in month m+1",
            f"  months scored: train {self.train_months} / test {self.test_months}; test half "
            f"{self.project_months:,} project-months, {self.positives:,} positive "
            f"(base rate {self.base_rate:.1%}; training {self.train_base_rate:.1%})",
            f"  AUC test half    score {_f(self.auc_score)} · persistence "
            f"{_f(self.auc_persistence)} · persistence by count "
            f"{_f(self.auc_persistence_count)}",
            f"  AUC of parts     event pressure {_f(self.auc_pressure)} · country baseline "
            f"{_f(self.auc_baseline)}",
            f"  AUC as shown     score {_f(self.auc_score_shown)} "
            f"({self.saturated:.0%} at 10.00) · event pressure {_f(self.auc_pressure_shown)} "
            "(2 decimals)",
            f"  AUC all months   score {_f(self.auc_score_all)} · persistence "
            f"{_f(self.auc_persistence_all)}",
            f"  Brier test half  calibrated score {self.brier_score:.5f} · persistence "
            f"{self.brier_persistence:.5f} · climatology {self.brier_climatology:.5f}",
        ]
        if self.baseline_varies:
            out.append(
                "  note: the country baseline differs between projects and uses present-day "
                "indicators (WGI 2022, ND-GAIN 2014), not those of the month scored"
            )
        else:
            out.append(
                "  note: one country baseline for every project: the ranking is the event "
                "pressure's alone"
            )
        out.append(
            "  score beats persistence (AUC, test half): "
            + ("yes" if self.beats_persistence else "NO")
        )
        return out


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def month_starts(first: date, last: date) -> list[date]:
    """First days of the months from ``first`` to ``last`` inclusive (days are ignored)."""
    out = []
    month = date(first.year, first.month, 1)
    while month <= date(last.year, last.month, 1):
        out.append(month)
        month = _next_month(month)
    return out


def month_end(month: date) -> int:
    """Epoch seconds of the last instant of a Beijing month (as ``day_end``)."""
    return day_end(_next_month(date(month.year, month.month, 1)) - timedelta(days=1))


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def run_backtest(
    platform: BacktestPlatform,
    category: MofcomCategory,
    first_month: date,
    last_month: date,
    *,
    outcome: Outcome = Outcome.LOCATED,
    project_ids: Sequence[int] | None = None,
    label: str = "",
    ridge: float = 1.0,
) -> BacktestResult:
    """Backtest the ``category`` index over the months ``first_month`` … ``last_month``.

    Scores every project (or ``project_ids``) at the end of each month but the last, against
    the events of the next month; the first half of those months trains, the second tests.

    Raises:
        ValueError: fewer than three months, no project, or a platform clock before the end
            of ``last_month`` (the platform cannot hold events it has not seen yet).
    """
    (result,) = run_backtests(
        platform,
        category,
        first_month,
        last_month,
        outcomes=(outcome,),
        project_ids=project_ids,
        label=label,
        ridge=ridge,
    )
    return result


def run_backtests(
    platform: BacktestPlatform,
    category: MofcomCategory,
    first_month: date,
    last_month: date,
    *,
    outcomes: Sequence[Outcome] = tuple(Outcome),
    project_ids: Sequence[int] | None = None,
    label: str = "",
    ridge: float = 1.0,
) -> list[BacktestResult]:
    """``run_backtest`` for several outcomes, the monthly scores computed once; one result
    per outcome, in order (``seconds`` of each includes the shared scoring)."""
    started = time.perf_counter()
    months = month_starts(first_month, last_month)
    if len(months) < 3:
        raise ValueError("the backtest needs at least three months")
    ends = [month_end(m) for m in months]
    if platform.clock.now().timestamp() < ends[-1]:
        raise ValueError(
            f"the platform clock ({platform.clock.now():%Y-%m-%d}) is before the end of "
            f"{last_month:%Y-%m}: set ALLWEATHER_NOW after the data"
        )
    edges = np.array([month_end(months[0] - timedelta(days=1)), *ends], dtype=np.int64)
    store = platform.scores
    scored = len(months) - 1
    # begin(), not connect(): the store may bring derived columns up to date while it sums
    # (score_inputs weights), and those writes must commit as they would for the platform.
    with platform.engine.begin() as conn:
        ids, base = _project_baselines(conn, store, category, project_ids)
        if not ids:
            raise ValueError("no project to backtest")
        score, event_pressure = _index_matrix(conn, store, category, ends[:scored], ids, base)
        counts = [
            _monthly_counts(conn, ids, category, o, edges, store.method.half_reach)
            for o in outcomes
        ]
    shared = time.perf_counter() - started
    out = []
    for outcome, found in zip(outcomes, counts, strict=True):
        began = time.perf_counter()
        result = _evaluate(score, event_pressure, base, found, ridge)
        out.append(
            BacktestResult(
                label=label,
                category=category,
                outcome=outcome,
                first_month=months[0],
                last_month=months[-1],
                projects=len(ids),
                baseline_varies=bool(np.unique(base).size > 1),
                seconds=shared + time.perf_counter() - began,
                **result,
            )
        )
    return out


def _evaluate(
    score: NDArray[np.float64],
    event_pressure: NDArray[np.float64],
    base: NDArray[np.float64],
    counts: NDArray[np.int64],
    ridge: float,
) -> dict[str, Any]:
    """The figures of one outcome: ``score[p, k]`` at the end of month k against ``counts[p,
    k + 1] > 0``; the first half of the scored months trains, the second tests."""
    scored = score.shape[1]
    hits = counts > 0
    x_prev = hits[:, :scored]
    y = hits[:, 1:]
    train = scored // 2
    xs_train, y_train = score[:, :train].ravel(), y[:, :train].ravel()
    xs_test, y_test = score[:, train:].ravel(), y[:, train:].ravel()
    prev_train, prev_test = x_prev[:, :train].ravel(), x_prev[:, train:].ravel()
    pressure_test = event_pressure[:, train:].ravel()
    calibration = Calibration(fit_logistic(event_load(xs_train), y_train, ridge))
    train_rate = float(y_train.mean())
    rates = tuple(
        float(y_train[prev_train == flag].mean()) if np.any(prev_train == flag) else train_rate
        for flag in (False, True)
    )
    return {
        "train_months": train,
        "test_months": scored - train,
        "project_months": len(y_test),
        "positives": int(y_test.sum()),
        "base_rate": float(y_test.mean()),
        "train_base_rate": train_rate,
        "auc_score": auc(xs_test, y_test),
        "auc_persistence": auc(prev_test, y_test),
        "auc_persistence_count": auc(counts[:, train:scored].ravel(), y_test),
        "auc_baseline": auc(np.repeat(base, scored - train), y_test),
        "auc_pressure": auc(pressure_test, y_test),
        "auc_score_shown": auc(np.round(xs_test, SHOWN_DECIMALS), y_test),
        "auc_pressure_shown": auc(np.round(pressure_test, SHOWN_DECIMALS), y_test),
        "saturated": float(np.mean(np.round(xs_test, SHOWN_DECIMALS) >= 10.0)),
        "brier_score": brier(calibration(xs_test), y_test),
        "brier_persistence": brier(np.where(prev_test, rates[1], rates[0]), y_test),
        "brier_climatology": brier(np.full(len(y_test), train_rate), y_test),
        "auc_score_all": auc(score.ravel(), y.ravel()),
        "auc_persistence_all": auc(x_prev.ravel(), y.ravel()),
        "calibration": calibration,
        "persistence_rates": (rates[0], rates[1]),
    }


def category_index(
    platform: BacktestPlatform,
    category: MofcomCategory,
    as_of: int,
    project_ids: Sequence[int] | None = None,
) -> dict[int, float]:
    """Each project's ``category`` index at the instant ``as_of`` (epoch seconds), from the
    events that occurred by then: what the platform's scores hold for that instant."""
    with platform.engine.begin() as conn:
        ids, base = _project_baselines(conn, platform.scores, category, project_ids)
        index, _ = _index_matrix(conn, platform.scores, category, [as_of], ids, base)
    return {pid: float(index[row, 0]) for row, pid in enumerate(ids)}


def _index_matrix(
    conn: Connection,
    store: SqlScoreStore,
    category: MofcomCategory,
    instants: Sequence[int],
    ids: Sequence[int],
    base: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """index[p, k] and pressure[p, k] of project ``ids[p]`` at ``instants[k]``: the store's
    pressure sums, saturated and combined with the baseline as ``score_project`` does."""
    method = store.method
    index = np.empty((len(ids), len(instants)))
    event_pressure = np.empty((len(ids), len(instants)))
    for k, instant in enumerate(instants):
        found = store.pressures(conn, instant, ids)
        for row, pid in enumerate(ids):
            types = sorted(found.get(pid, {}).get(category, ()), key=lambda t: -t.total)
            event_pressure[row, k] = pressure(method, sum(t.total for t in types))
            index[row, k] = combine(float(base[row]), float(event_pressure[row, k]))
    return index, event_pressure


def _project_baselines(
    conn: Connection,
    store: SqlScoreStore,
    category: MofcomCategory,
    project_ids: Sequence[int] | None,
) -> tuple[list[int], NDArray[np.float64]]:
    """Project ids in order and each one's country baseline, as the score store takes it."""
    query = select(projects.c.id, projects.c.country_code).order_by(projects.c.id)
    if project_ids is not None:
        query = query.where(projects.c.id.in_(list(project_ids)))
    rows = conn.execute(query).all()
    baselines, fallback = store.baselines(conn)  # the store's own baselines, cached there
    base = np.array(
        [baselines.get(r.country_code or "", fallback)[category].score for r in rows],
        dtype=np.float64,
    )
    return [int(r.id) for r in rows], base


def _monthly_counts(
    conn: Connection,
    ids: Sequence[int],
    category: MofcomCategory,
    outcome: Outcome,
    edges: NDArray[np.int64],
    half_reach: float,
) -> NDArray[np.int64]:
    """counts[p, k]: the ``outcome`` events of ``category`` that reached project p in month k,
    the months being the windows (edges[k], edges[k + 1]]."""
    si = score_inputs.c
    query = select(si.project_id, si.occurred_at).where(
        si.category == category.value,
        si.occurred_at > int(edges[0]),
        si.occurred_at <= int(edges[-1]),
    )
    if outcome is not Outcome.ANY:
        query = query.where(si.proximity == Proximity.RADIUS.value)
    if outcome is Outcome.NEAR:
        query = query.where(si.distance_km <= half_reach * si.reach_km)
    row_of = {pid: row for row, pid in enumerate(ids)}
    counts = np.zeros((len(ids), len(edges) - 1), dtype=np.int64)
    for pid, occurred in conn.execute(query):
        row = row_of.get(int(pid))
        if row is not None:
            counts[row, int(np.searchsorted(edges, int(occurred), side="left")) - 1] += 1
    return counts


# ------------------------------------------------------------------ the bundled real data


def bundled_path(*parts: str) -> Path:
    return Path(str(resources.files("allweather.data").joinpath(*parts)))


def load_ucdp_syria(
    platform: BacktestPlatform, step_deg: float, recording: Path | None = None
) -> list[int]:
    """Import the virtual Syria grid and ingest the UCDP GED Syria recording (or a slice of it
    in the same format); the grid's project ids. Syria has no real portfolio project."""
    grid = virtual_sites(platform.catalog, "SY", step_deg)
    with tempfile.TemporaryDirectory(prefix="allweather-backtest-") as tmp:
        path = Path(tmp) / "virtual-syria.geojson"
        path.write_text(json.dumps(grid), encoding="utf-8")
        platform.import_file(path)
    platform.ingestor().ingest_file(
        get_connector("ucdp_ged"), recording or bundled_path("replay", UCDP_SYRIA_FILE)
    )
    return _ids_of(platform, [f["properties"]["code"] for f in grid["features"]])


def load_usgs(
    platform: BacktestPlatform, portfolio: Path | None = None, recording: Path | None = None
) -> list[int]:
    """Import the real demo portfolio (or ``portfolio``, GeoJSON) and ingest the USGS ComCat
    M5+ recording; the portfolio's project ids."""
    source = portfolio or bundled_path(DEMO_PORTFOLIO)
    platform.import_file(source)
    platform.ingestor().ingest_file(
        get_connector("usgs_earthquakes"), recording or bundled_path("replay", USGS_FILE)
    )
    raw = source.read_bytes()
    text = gzip.decompress(raw) if source.suffix == ".gz" else raw
    codes = {str(f["properties"]["code"]) for f in json.loads(text)["features"]}
    return _ids_of(platform, sorted(codes))


def _ids_of(platform: BacktestPlatform, codes: Sequence[str]) -> list[int]:
    with platform.engine.connect() as conn:
        found = conn.execute(
            select(projects.c.id).where(projects.c.code.in_(list(codes))).order_by(projects.c.id)
        ).scalars()
        return [int(i) for i in found]


def backtest_ucdp_syria(
    platform: BacktestPlatform,
    step_deg: float = 0.25,
    first_month: date = UCDP_MONTHS[0],
    last_month: date = UCDP_MONTHS[1],
    *,
    recording: Path | None = None,
    outcome: Outcome = Outcome.LOCATED,
) -> BacktestResult:
    """政治风险 political index of a virtual Syria grid against UCDP GED 19.1 (2016–2019).

    Within Syria every virtual project has the same baseline, so the ranking is the event
    pressure's alone. The platform clock must be after ``last_month``.
    """
    ids = load_ucdp_syria(platform, step_deg, recording)
    return run_backtest(
        platform,
        MofcomCategory.POLITICAL,
        first_month,
        last_month,
        outcome=outcome,
        project_ids=ids,
        label=f"UCDP GED Syria, virtual grid {step_deg:g}°",
    )


def backtest_usgs(
    platform: BacktestPlatform,
    first_month: date = USGS_MONTHS[0],
    last_month: date = USGS_MONTHS[1],
    *,
    recording: Path | None = None,
    outcome: Outcome = Outcome.LOCATED,
) -> BacktestResult:
    """自然风险 natural index of the real demo portfolio against USGS ComCat M5+ (2013–2023).

    The natural baseline differs between countries and uses present-day indicators (ND-GAIN
    2014 and the like), so part of the ranking comes from the baseline (``auc_baseline``
    shows how much). The platform clock must be after ``last_month``.
    """
    ids = load_usgs(platform, recording=recording)
    return run_backtest(
        platform,
        MofcomCategory.NATURAL,
        first_month,
        last_month,
        outcome=outcome,
        project_ids=ids,
        label="USGS ComCat M5+, demo portfolio",
    )
