"""Wiring shared by the composition roots (CLI, API): settings → clock, engine, stores, catalog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine

from allweather.channels import ChannelConfig
from allweather.connectors.registry import all_connectors, source_for_number
from allweather.domain.clock import Clock
from allweather.pipeline.health import SourceHealth, assess
from allweather.pipeline.ingest import Ingestor
from allweather.pipeline.match import RematchReport, rematch
from allweather.portfolio.importer import ImportReport, PortfolioImporter
from allweather.portfolio.readers import load_source, parse_source
from allweather.reference.countries import CountryCatalog, country_catalog
from allweather.reference.indicators import load_indicators
from allweather.settings import Settings
from allweather.store.database import current_revision, head_revision, make_engine, upgrade
from allweather.store.exposures import SqlMatchStore
from allweather.store.portfolio import SqlPortfolioStore
from allweather.store.scores import SqlScoreStore
from allweather.store.sources import SqlSourceStore
from allweather.warnings.dispatch import Dispatcher
from allweather.warnings.engine import EvaluationReport, WarningEngine

DEMO_PORTFOLIO = "demo-portfolio.geojson.gz"
# Scores older than this are recomputed before they are shown: decay moves them.
SCORE_MAX_AGE = timedelta(hours=1)


@dataclass
class Platform:
    """One running platform: its settings, clock, database and stores."""

    settings: Settings
    clock: Clock
    engine: Engine
    catalog: CountryCatalog
    portfolio: SqlPortfolioStore
    sources: SqlSourceStore
    matching: SqlMatchStore
    scores: SqlScoreStore
    warnings: WarningEngine
    dispatcher: Dispatcher

    @classmethod
    def assemble(
        cls, settings: Settings, clock: Clock, engine: Engine, catalog: CountryCatalog
    ) -> Platform:
        """The stores over one engine, wired together (sources write exposures as they go)."""
        matching = SqlMatchStore(engine, settings.reach_matrix())
        method = settings.scoring_method()
        dispatcher = Dispatcher(
            engine,
            ChannelConfig(
                smtp_url=settings.smtp_url,
                mail_from=settings.mail_from,
                sms_gateway=settings.sms_gateway,
            ),
            clock,
        )
        return cls(
            settings=settings,
            clock=clock,
            engine=engine,
            catalog=catalog,
            portfolio=SqlPortfolioStore(engine),
            sources=SqlSourceStore(engine, matching),
            matching=matching,
            scores=SqlScoreStore(engine, method, load_indicators()),
            warnings=WarningEngine(
                engine,
                settings.warning_rules(),
                method,
                _source_name,
                settings.public_url,
                wake=dispatcher.wake,
            ),
            dispatcher=dispatcher,
        )

    def importer(self) -> PortfolioImporter:
        return PortfolioImporter(self.portfolio, self.catalog, self.clock)

    def import_file(
        self, path: Path, strict: bool = False, skip_if_unchanged: bool = False
    ) -> ImportReport:
        """Read and import one portfolio file (raises ``InputError`` when unreadable).

        With ``skip_if_unchanged``, content already landed cleanly is not parsed again.
        """
        source = load_source(path)
        importer = self.importer()
        if skip_if_unchanged and (unchanged := importer.unchanged(source)) is not None:
            return unchanged
        report = importer.run(parse_source(source), strict)
        self.rematch_if_due()  # new or moved sites: every stored event is matched again
        return report

    def rematch_if_due(self) -> RematchReport | None:
        """Re-match every stored event when sites or reach rules changed since the last time."""
        if not self.matching.rematch_due():
            return None
        report = rematch(self.matching, self.clock)
        self.rescore()
        return report

    def rescore(self) -> int:
        """Re-score the projects whose exposures changed (all of them after a method change)."""
        return self.scores.refresh_dirty(self.clock.now())

    def after_chunk(self) -> int:
        """After each ingested chunk: re-score what changed, then run the warning rules."""
        count = self.rescore()
        self.warn()
        return count

    def warn(self) -> EvaluationReport:
        """Run the warning rules for every project queued since the last pass."""
        return self.warnings.evaluate_queued(self.clock.now())

    def tick_warnings(self) -> EvaluationReport:
        """The periodic warning pass: scores brought up to date, holds and decay re-checked,
        stale sources warned about, unacknowledged warnings escalated."""
        self.refresh_scores()
        now = self.clock.now()
        # Only a source that once worked can go stale; one never run is a set-up matter.
        stale = [
            (h.source, h.title, h.stale)
            for h in self.source_health(now)
            if h.last_success_at is not None
        ]
        return self.warnings.tick(now, stale)

    def source_health(self, now: datetime) -> list[SourceHealth]:
        """The health of every watched source (enabled, or run at least once)."""
        states, runs = self.sources.states(), self.sources.last_runs()
        out = []
        for connector in all_connectors():
            spec = connector.spec
            health = assess(spec, states.get(spec.id), runs.get(spec.id), now)
            if health.enabled or health.last_success_at is not None:
                out.append(health)
        return out

    def refresh_scores(self, max_age: timedelta = SCORE_MAX_AGE) -> int:
        """Bring every score up to date: all of them when the method changed or they are older
        than ``max_age`` (events decay), else the changed projects and lapsed overrides. Ended
        days are closed into the history. Returns the number of projects re-scored."""
        now = self.clock.now()
        if self.scores.stale(now, max_age):
            count = self.scores.refresh(now)
        else:
            count = self.scores.refresh_dirty(now) + self.scores.expire_overrides(now)
        self.scores.close_days(now)
        return count

    def ingestor(self) -> Ingestor:
        """Ingest on the platform clock, archiving fetched payloads under ``var/raw``."""
        return Ingestor(
            self.sources,
            self.clock,
            self.settings.var_dir / "raw",
            self.catalog,
            after_chunk=self.after_chunk,
        )

    def schema_is_current(self) -> bool:
        return current_revision(self.engine) == head_revision()

    def upgrade(self) -> None:
        upgrade(self.engine, self.catalog.all())

    def close(self) -> None:
        self.dispatcher.close()
        self.engine.dispose()


def open_platform(settings: Settings, migrate: bool = True, clock: Clock | None = None) -> Platform:
    """Connect to the configured database, migrating it to the current schema by default.

    ``clock`` overrides the settings' clock (the demo shares one replay clock everywhere).
    """
    engine = make_engine(settings.resolved_database_url)
    platform = Platform.assemble(settings, clock or settings.clock(), engine, country_catalog())
    if migrate:
        platform.upgrade()
    return platform


def _source_name(number: int) -> str:
    return source_for_number(number) or f"source#{number}"


def demo_portfolio_path() -> Path:
    """The bundled real portfolio (AidData GeoGCDF v2 footprints; see DATA-LICENSES.md)."""
    return Path(str(resources.files("allweather.data").joinpath(DEMO_PORTFOLIO)))
