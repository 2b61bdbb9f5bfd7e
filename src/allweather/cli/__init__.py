"""The ``allweather`` command line: data to stdout, messages to stderr.

Exit codes: 0 success, 1 partial failure (some records rejected), 2 bad usage or input.
"""

from __future__ import annotations

import click

from allweather import __version__
from allweather.cli import db, demo, exposures, projects, scores, serve, sources, warnings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="allweather")
def main() -> None:
    """全天候 Allweather — all-weather early warning and assessment for overseas projects."""


main.add_command(db.db)
main.add_command(projects.projects)
main.add_command(serve.serve)
main.add_command(demo.demo)
main.add_command(sources.ingest)
main.add_command(sources.run)
main.add_command(sources.sources)
main.add_command(sources.events)
main.add_command(sources.quarantine)
main.add_command(exposures.exposures)
main.add_command(exposures.reach)
main.add_command(scores.scores)
main.add_command(warnings.warnings)
main.add_command(warnings.channels)
