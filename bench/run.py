"""``make bench``: every benchmark, each against the peer a user would otherwise pick.

Figures are wall-clock seconds on this machine, in one run; ratios are ours / peer (below 1:
faster than the peer) or peer / ours where the line says "× faster". Results are also written
to bench/results/latest.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import alerting  # noqa: E402 — bench modules sit beside this script
import backtest  # noqa: E402
import ingest  # noqa: E402
import matching  # noqa: E402
import portfolio  # noqa: E402
import scoring  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    results: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(),
        "python": sys.version.split()[0],
    }
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, module in (
            ("portfolio", portfolio),
            ("ingest", ingest),
            ("matching", matching),
            ("scoring", scoring),
            ("backtest", backtest),
            ("warnings", alerting),
        ):
            workdir = Path(tmp) / name
            workdir.mkdir()
            figures, lines, met = module.run(workdir)
            results[name] = figures
            ok &= met
            print(f"== {name}")
            print("\n".join(lines), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
