"""Wiring shared by the composition roots (CLI, API): settings → clock, engine, stores, catalog."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine

from allweather.domain.clock import Clock
from allweather.pipeline.ingest import Ingestor
from allweather.pipeline.match import RematchReport, rematch
from allweather.portfolio.importer import ImportReport, PortfolioImporter
from allweather.portfolio.readers import load_source, parse_source
from allweather.reference.countries import CountryCatalog, country_catalog
from allweather.settings import Settings
from allweather.store.database import current_revision, head_revision, make_engine, upgrade
from allweather.store.exposures import SqlMatchStore
from allweather.store.portfolio import SqlPortfolioStore
from allweather.store.sources import SqlSourceStore

DEMO_PORTFOLIO = "demo-portfolio.geojson.gz"


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

    @classmethod
    def assemble(
        cls, settings: Settings, clock: Clock, engine: Engine, catalog: CountryCatalog
    ) -> Platform:
        """The stores over one engine, wired together (sources write exposures as they go)."""
        matching = SqlMatchStore(engine, settings.reach_matrix())
        return cls(
            settings=settings,
            clock=clock,
            engine=engine,
            catalog=catalog,
            portfolio=SqlPortfolioStore(engine),
            sources=SqlSourceStore(engine, matching),
            matching=matching,
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
        return rematch(self.matching, self.clock)

    def ingestor(self) -> Ingestor:
        """Ingest on the platform clock, archiving fetched payloads under ``var/raw``."""
        return Ingestor(self.sources, self.clock, self.settings.var_dir / "raw", self.catalog)

    def schema_is_current(self) -> bool:
        return current_revision(self.engine) == head_revision()

    def upgrade(self) -> None:
        upgrade(self.engine, self.catalog.all())

    def close(self) -> None:
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


def demo_portfolio_path() -> Path:
    """The bundled real portfolio (AidData GeoGCDF v2 footprints; see DATA-LICENSES.md)."""
    return Path(str(resources.files("allweather.data").joinpath(DEMO_PORTFOLIO)))
