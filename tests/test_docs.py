"""The developer docs stay true: every column and setting documented, the example imports."""

import re
from pathlib import Path

from allweather.portfolio.columns import CANONICAL
from allweather.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_canonical_column_is_documented():
    text = (DOCS / "portfolio-import.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.M))
    assert documented == set(CANONICAL)


def test_every_setting_is_documented():
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`ALLWEATHER_{name.upper()}`" in text, name


def test_the_documented_example_imports_cleanly(sqlite_platform, tmp_path):
    text = (DOCS / "portfolio-import.md").read_text(encoding="utf-8")
    example = re.search(r"```csv\n(.*?)```", text, flags=re.S).group(1)
    path = tmp_path / "example.csv"
    path.write_text(example, encoding="utf-8")
    report = sqlite_platform.import_file(path)
    assert report.errors == []
    assert report.warnings == []
    sgr = sqlite_platform.portfolio.get_project("KE-SGR")
    assert [s.key for s in sgr.sites] == ["line", "nairobi-terminus"]
    assert sqlite_platform.portfolio.get_project("PK-GWADAR").name_zh == "瓜达尔港"


def test_every_source_is_documented_and_in_the_mapping_overview():
    from allweather.connectors.registry import all_connectors

    overview = (DOCS / "event-mapping.md").read_text(encoding="utf-8")
    for connector in all_connectors():
        source = connector.spec.id
        assert (DOCS / "sources" / f"{source}.md").exists(), source
        assert f"`{source}`" in overview, source


def test_every_source_credential_is_documented():
    from allweather.connectors.registry import all_connectors

    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    for connector in all_connectors():
        for env in connector.spec.secrets.values():
            assert f"`{env}`" in text, (connector.spec.id, env)


def test_the_scoring_doc_matches_the_bundled_method():
    from allweather.domain.scoring.method import ScoringMethod

    method = ScoringMethod.default()
    text = (DOCS / "scoring.md").read_text(encoding="utf-8")
    table = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^\| `([a-z_]+)` \|[^|]*\|[^|]*\| ([\d.]+) \|", text, flags=re.M)
    }
    assert table == {t.value: h for t, h in method.half_life_days.items()}
    lv = method.levels
    for threshold in (lv.red, lv.orange, lv.yellow):
        assert f"| ≥ {threshold:.1f} |" in text
    assert f"{lv.hysteresis:g} below" in text
    assert f"aw-score/{method.version}" in text
